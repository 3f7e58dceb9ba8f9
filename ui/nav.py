"""Navigation: the page table, ``st.navigation`` over it, and the guards pages start with."""

from __future__ import annotations

import streamlit as st
from streamlit.errors import StreamlitAPIException

from ui import state
from ui.i18n import t

#: Page key -> file. ``pages/`` holds only these files (a test checks it).
PAGE_FILES: dict[str, str] = {
    "data": "pages/1_data.py",
    "train": "pages/2_train.py",
    "fusion": "pages/3_fusion.py",
    "users": "pages/4_users.py",
    "search": "pages/10_search.py",
    "items": "pages/5_items.py",
    "insights": "pages/6_insights.py",
    "compare": "pages/7_compare.py",
    "abtest": "pages/9_abtest.py",
    "export": "pages/8_export.py",
}

#: Navigation: section -> (page key, icon); the first page is the default.
SECTIONS: dict[str, list[tuple[str, str]]] = {
    "nav.section.prepare": [
        ("data", ":material/database:"),
        ("train", ":material/model_training:"),
        ("fusion", ":material/tune:"),
    ],
    "nav.section.explore": [
        ("users", ":material/person_search:"),
        ("search", ":material/search:"),
        ("items", ":material/inventory_2:"),
        ("insights", ":material/insights:"),
    ],
    "nav.section.ship": [
        ("compare", ":material/compare_arrows:"),
        ("abtest", ":material/science:"),
        ("export", ":material/download:"),
    ],
}
DEFAULT_PAGE = "data"


def url_path(key: str) -> str:
    """URL of a page: its file name without the order prefix (``pages/3_fusion.py`` -> ``fusion``).

    Equal to the name Streamlit's legacy ``pages/`` folder mode gives the file, so a deep link
    resolves to the same page in both modes (see ``ensure_app_frame``).
    """
    stem = PAGE_FILES[key].rsplit("/", 1)[-1].removesuffix(".py")
    return stem.split("_", 1)[1] if stem[:1].isdigit() and "_" in stem else stem


def navigation(position: str = "sidebar"):
    """``st.navigation`` over ``SECTIONS`` with translated titles; returns the current page."""
    pages = {
        t(section): [
            st.Page(
                PAGE_FILES[key],
                title=t(f"nav.{key}"),
                icon=icon,
                url_path=url_path(key),
                default=key == DEFAULT_PAGE,
            )
            for key, icon in entries
        ]
        for section, entries in SECTIONS.items()
    }
    return st.navigation(pages, position=position)


def require_dataset():
    """The active dataset; otherwise a pointer to the Data page, and the page stops."""
    ds = state.get_dataset()
    if ds is None:
        st.info(t("common.need_dataset"))
        st.page_link(PAGE_FILES["data"], label=t("common.go_data"), icon=":material/database:")
        st.stop()
    return ds


def require_run():
    """The active trained run; otherwise a pointer to the Train page, and the page stops."""
    require_dataset()
    run = state.get_run()
    if run is None:
        st.info(t("common.need_run"))
        st.page_link(
            PAGE_FILES["train"], label=t("common.go_train"), icon=":material/model_training:"
        )
        st.stop()
    return run


def rerun_fragment() -> None:
    """Rerun only the current fragment; a full rerun when called outside a fragment rerun."""
    try:
        st.rerun(scope="fragment")
    except StreamlitAPIException:
        st.rerun()
