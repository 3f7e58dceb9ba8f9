"""Fusion Studio: the Streamlit entry point (router and frame).

Run with ``streamlit run app.py``. Sets the page config and session-state defaults, draws the
sidebar (language, status) and routes to the pages in ``pages/`` with ``st.navigation``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

if str(Path(__file__).resolve().parent) not in sys.path:  # `pages` helpers import as a package
    sys.path.insert(0, str(Path(__file__).resolve().parent))

from pages import _ui  # noqa: E402
from pages._i18n import LANGUAGES, t  # noqa: E402

st.set_page_config(page_title="Fusion Studio", page_icon=":material/join_inner:", layout="wide")

_ui.init_state()

with st.sidebar:
    st.segmented_control(
        t("side.language"),
        options=list(LANGUAGES),
        format_func=LANGUAGES.get,
        key="lang",
        required=True,
    )

if _ui.ensure_workspace_ready():
    st.toast(t("data.first_start"), icon=":material/celebration:")

#: Navigation: section -> (page key, icon); the first page is the default.
SECTIONS = {
    "nav.section.prepare": [
        ("data", ":material/database:"),
        ("train", ":material/model_training:"),
        ("fusion", ":material/tune:"),
    ],
    "nav.section.explore": [
        ("users", ":material/person_search:"),
        ("items", ":material/inventory_2:"),
        ("insights", ":material/insights:"),
    ],
    "nav.section.ship": [
        ("compare", ":material/compare_arrows:"),
        ("export", ":material/download:"),
    ],
}
pages = {
    t(section): [
        st.Page(
            _ui.PAGE_FILES[key],
            title=t(f"nav.{key}"),
            icon=icon,
            url_path=_ui.url_path(key),
            default=key == "data",
        )
        for key, icon in entries
    ]
    for section, entries in SECTIONS.items()
}
page = st.navigation(pages)

with st.sidebar:
    st.divider()
    st.caption(t("side.status"))
    entries = {d["id"]: d for d in _ui.list_datasets()}
    ds_id = st.session_state.get("dataset_id")
    ds_name = entries.get(ds_id, {}).get("name", ds_id) if ds_id else t("side.none")
    st.markdown(f"**{t('side.dataset')}:** {ds_name}")
    run_id = st.session_state.get("run_id")
    st.markdown(f"**{t('side.run')}:** {run_id or t('side.none')}")
    if _ui.fast_mode():
        st.caption(t("side.fast"))

page.run()
