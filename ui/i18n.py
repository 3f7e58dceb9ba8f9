"""Interface strings: ``locales/<lang>.json`` (flat ``key -> text``), English and Simplified Chinese.

``t(key, **params)`` returns the text for the language in ``st.session_state["lang"]``,
formatted with ``params`` (``str.format`` placeholders such as ``{n:,}``). A key missing from
the current language falls back to English, then to the key itself, and is logged once, so a
missing translation never breaks a page (and a test can catch it).
"""

from __future__ import annotations

import json
import logging
from functools import cache
from pathlib import Path

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

log = logging.getLogger(__name__)

LOCALES_DIR = Path(__file__).resolve().parents[1] / "locales"
LANGUAGES: dict[str, str] = {"en": "English", "zh": "简体中文"}
DEFAULT_LANGUAGE = "en"

_reported: set[tuple[str, str]] = set()
#: Language of the latest script run, for calls made outside any run (see ``lang``).
_latest = {"lang": DEFAULT_LANGUAGE}


@cache
def strings(language: str) -> dict[str, str]:
    """The ``key -> text`` table of ``language`` (read once per process)."""
    path = LOCALES_DIR / f"{language}.json"
    with path.open(encoding="utf-8") as fh:
        return json.load(fh)


def lang() -> str:
    """The current interface language code (``"en"`` or ``"zh"``).

    Outside a script run there is no session: the language of the latest run is used. The
    server calls widgets' ``format_func`` only during runs; ``AppTest`` calls them afterwards.
    """
    if get_script_run_ctx(suppress_warning=True) is None:
        return _latest["lang"]
    value = st.session_state.get("lang", DEFAULT_LANGUAGE)
    value = value if value in LANGUAGES else DEFAULT_LANGUAGE
    _latest["lang"] = value
    return value


def lang_is_zh() -> bool:
    return lang() == "zh"


def has_key(key: str) -> bool:
    """True when ``key`` is in the locale files (the English file holds every key)."""
    return key in strings(DEFAULT_LANGUAGE)


def translate(key: str, language: str, **params) -> str:
    """Text of ``key`` in ``language`` formatted with ``params`` (no session state needed)."""
    text = strings(language).get(key)
    if text is None:
        text = strings(DEFAULT_LANGUAGE).get(key)
        if (language, key) not in _reported:
            _reported.add((language, key))
            log.warning("missing interface text %r (language %s)", key, language)
        if text is None:
            return key
    if params:
        try:
            text = text.format(**params)
        except (KeyError, IndexError, ValueError) as err:
            log.warning("interface text %r does not fit its parameters: %s", key, err)
    return text


def t(key: str, **params) -> str:
    """Text of ``key`` in the current interface language, formatted with ``params``."""
    return translate(key, lang(), **params)
