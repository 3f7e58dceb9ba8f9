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

pages = {
    t("nav.section.prepare"): [
        st.Page(
            _ui.PAGE_FILES["data"],
            title=t("nav.data"),
            icon=":material/database:",
            url_path=_ui.url_path("data"),
            default=True,
        ),
        st.Page(
            _ui.PAGE_FILES["train"],
            title=t("nav.train"),
            icon=":material/model_training:",
            url_path=_ui.url_path("train"),
        ),
        st.Page(
            _ui.PAGE_FILES["fusion"],
            title=t("nav.fusion"),
            icon=":material/tune:",
            url_path=_ui.url_path("fusion"),
        ),
    ],
    t("nav.section.explore"): [
        st.Page(
            _ui.PAGE_FILES["users"],
            title=t("nav.users"),
            icon=":material/person_search:",
            url_path=_ui.url_path("users"),
        ),
        st.Page(
            _ui.PAGE_FILES["items"],
            title=t("nav.items"),
            icon=":material/inventory_2:",
            url_path=_ui.url_path("items"),
        ),
        st.Page(
            _ui.PAGE_FILES["insights"],
            title=t("nav.insights"),
            icon=":material/insights:",
            url_path=_ui.url_path("insights"),
        ),
    ],
    t("nav.section.ship"): [
        st.Page(
            _ui.PAGE_FILES["compare"],
            title=t("nav.compare"),
            icon=":material/compare_arrows:",
            url_path=_ui.url_path("compare"),
        ),
        st.Page(
            _ui.PAGE_FILES["export"],
            title=t("nav.export"),
            icon=":material/download:",
            url_path=_ui.url_path("export"),
        ),
    ],
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
