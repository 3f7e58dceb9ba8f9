"""One way to show a failure.

An expected failure (``RecsysError``: a bad upload, an invalid rule, a missing file in the
workspace) is shown as a plain message, translated through its code (``err.<code>`` in the
locale files) when it has one. Anything else is a bug: it is logged with its traceback and a
short error id, and the user sees a short message carrying the same id, so a report can be
matched with the server log. Tracebacks never reach the browser.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import streamlit as st

from recsys.errors import RecsysError
from ui.i18n import has_key, lang, t, translate
from ui.text import md

log = logging.getLogger(__name__)


def coded_text(obj: object, prefix: str, language: str | None = None) -> str:
    """Text of an error or ``Message``: ``<prefix>.<code>`` translated when the locale files
    have it (in ``language``, default the interface's), else the library's English ``str``.

    Ready for Markdown: the library's messages and the parameters they carry quote the user's
    files (names, columns, values), so they are escaped (``ui.text.md``).
    """
    code = getattr(obj, "code", None)
    if code:
        key = f"{prefix}.{code}"
        if has_key(key):
            params = {
                k: md(v) if isinstance(v, str) else v
                for k, v in (getattr(obj, "params", None) or {}).items()
            }
            return translate(key, language or lang(), **params)
    return md(obj)


def error_text(err: BaseException) -> str:
    """The user-facing message of an expected (``RecsysError``) failure, translated."""
    return coded_text(err, "err")


def message_text(message: object) -> str:
    """A library progress / status line (``recsys.errors.Message`` or ``str``), translated."""
    return coded_text(message, "msg")


def new_error_id() -> str:
    """A short id that ties the message a user sees to the traceback in the server log."""
    return uuid.uuid4().hex[:8]


def log_unexpected(err: BaseException) -> str:
    """Log ``err`` with its traceback under a new error id; returns the id."""
    error_id = new_error_id()
    log.exception("unexpected error [%s]: %s: %s", error_id, type(err).__name__, err, exc_info=err)
    return error_id


def show_error(err: BaseException) -> str | None:
    """Show a failure: a ``RecsysError`` as a plain translated message, anything else logged
    with its traceback and shown as a short message with an error id (returned)."""
    if isinstance(err, RecsysError):
        st.error(t("common.error_prefix") + error_text(err))
        return None
    error_id = log_unexpected(err)
    st.error(t("common.unexpected_error", id=error_id), icon=":material/bug_report:")
    return error_id


class Outcome:
    """What ``boundary`` saw: ``failed`` and, for unexpected errors, the ``error_id``."""

    def __init__(self) -> None:
        self.failed = False
        self.error_id: str | None = None


@contextmanager
def boundary(
    *, stop: bool = False, on_error: Callable[[], None] | None = None
) -> Iterator[Outcome]:
    """Run a block; any failure in it goes to ``show_error`` (the app's one catch-all).

    Used around a whole page (``app.py``) and around ``st.fragment`` bodies, whose reruns do not
    pass through ``app.py``. ``st.stop`` / ``st.rerun`` pass through untouched (they are not
    ``Exception``). With ``stop``, the script stops after the message; ``on_error`` runs first.
    """
    outcome = Outcome()
    try:
        yield outcome
    except Exception as err:  # noqa: BLE001 - the one catch-all: logged with a traceback
        outcome.failed = True
        if on_error is not None:
            on_error()
        outcome.error_id = show_error(err)
        if stop:
            st.stop()
