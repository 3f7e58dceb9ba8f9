"""Saving under a name that is taken: ask whether to overwrite or keep both (with a suffix).

Used by every form that saves a named entry (uploaded datasets, presets); the suffix and the
comparison of names are the workspace's (``recsys.service.entries.unique_name``, ``same_name``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import streamlit as st

from recsys.service.entries import same_name, unique_name
from ui.i18n import t

OVERWRITE, KEEP_BOTH = "overwrite", "keep_both"


@dataclass(frozen=True)
class NameChoice:
    """What to save: under ``name``, replacing the entry ``replace_id`` (None: a new entry)."""

    name: str
    replace_id: str | None = None


def choose_name(
    name: str,
    entries: Sequence[Mapping[str, Any]],
    key: str,
    label: Callable[[Mapping[str, Any]], str],
    overwrite_note: str | None = None,
) -> NameChoice | None:
    """The name to save under; None while a clash is not decided (keep the save button off).

    With no entry of that name, the name as typed. Otherwise a radio with no default asks:
    overwrite the newest entry of that name (``label`` names it, ``overwrite_note`` says what
    else goes with it) or keep both, saving under ``name (2)``.
    """
    clash = same_name(entries, name)
    if not name.strip() or not clash:
        return NameChoice(name.strip())
    target = clash[0]
    suffixed = unique_name(name, [str(e.get("name", "")) for e in entries])
    st.warning(t("naming.taken", name=label(target)))
    pick = st.radio(
        t("naming.ask"),
        [OVERWRITE, KEEP_BOTH],
        index=None,
        format_func=lambda c: (
            t("naming.overwrite", name=label(target))
            if c == OVERWRITE
            else t("naming.keep_both", name=suffixed)
        ),
        key=key,
    )
    if pick == OVERWRITE and overwrite_note:
        st.caption(overwrite_note)
    if pick == OVERWRITE:
        return NameChoice(str(target.get("name", name)).strip(), str(target["id"]))
    if pick == KEEP_BOTH:
        return NameChoice(suffixed)
    return None
