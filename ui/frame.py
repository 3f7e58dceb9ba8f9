"""The app frame: page config, session defaults, sidebar, navigation, and the error boundary
around the page. ``app.py`` draws it and runs the page inside it on every run; a page that
Streamlit runs on its own draws it too (``ensure_app_frame``), so every page runs inside it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import streamlit as st

from ui import auth, nav, session, state
from ui.errors import boundary
from ui.i18n import LANGUAGES, lang, t
from ui.text import md

#: The favicon, served by the app itself (no request leaves the server's origin).
ICON = Path(__file__).with_name("icon.png")
#: Per script-run thread: True while the frame runs the current page (``framed``).
_frame = threading.local()


def draw():
    """Page config, session defaults, sidebar (language, status) and navigation.

    Returns the page ``st.navigation`` picked.
    """
    # a local icon: a Material icon name would make every browser fetch it from Google's fonts
    st.set_page_config(page_title="Fusion Studio", page_icon=str(ICON), layout="wide")
    state.init_state()
    # Written back before the widget exists, so the choice survives a run in which the widget
    # gets a new id (the legacy folder mode draws the frame under another page's id).
    st.session_state["lang"] = lang()
    with st.sidebar:
        st.segmented_control(
            t("side.language"),
            options=list(LANGUAGES),
            format_func=LANGUAGES.get,
            key="lang",
            required=True,
        )
    auth.gate()  # nothing below (workspace, navigation, pages) runs before the login
    session.restore()  # this tab's dataset, run, user and lab settings, from its URL
    if state.ensure_workspace_ready():
        st.toast(t("data.first_start"), icon=":material/celebration:")
    page = nav.navigation()
    with st.sidebar:
        st.divider()
        st.caption(t("side.status"))
        entries = {d["id"]: d for d in state.list_datasets()}
        ds_id = st.session_state.get("dataset_id")
        ds_name = entries.get(ds_id, {}).get("name", ds_id) if ds_id else t("side.none")
        st.markdown(f"**{t('side.dataset')}:** {md(ds_name)}")
        run_id = st.session_state.get("run_id")
        st.markdown(f"**{t('side.run')}:** {run_id or t('side.none')}")
        if state.fast_mode():
            st.caption(t("side.fast"))
    session.publish()
    return page


@contextmanager
def framed() -> Iterator[None]:
    """Mark the page being run as running inside the frame (see ``ensure_app_frame``)."""
    _frame.active = True
    try:
        yield
    finally:
        _frame.active = False


def run() -> None:
    """Draw the frame and run the chosen page in it; an unexpected error anywhere in them is
    logged with its traceback and shown with an error id (``ui.errors.boundary``)."""
    with boundary():
        page = draw()
        with framed():
            page.run()


def ensure_app_frame() -> None:
    """Draw the frame and run this page inside it when Streamlit ran the page file on its own.

    Because a ``pages/`` folder exists, Streamlit starts in its legacy folder mode (on the first
    script run of a fresh server, and in every ``AppTest`` run) until ``st.navigation`` is
    called. For any page but the default one that mode runs the page file directly, without
    ``app.py``: no session defaults, no sidebar, no error boundary. It names a page after its
    file (``3_fusion.py`` -> ``fusion``), which is also our ``url_path``, so our
    ``st.navigation`` (the public API, which also ends the legacy mode) resolves the same
    page. The page then runs again inside the frame, and the direct run stops here: no "Page
    not found" popup, no helper ever listed as a page, and widget events (a button click) are
    kept because nothing reruns.
    """
    if getattr(_frame, "active", False):
        return
    run()
    st.stop()


def page_header(title_key: str, intro_key: str | None = None) -> None:
    """Every page starts here: make sure the frame is drawn, then the title and intro."""
    ensure_app_frame()
    st.title(t(title_key))
    if intro_key:
        st.caption(t(intro_key))
