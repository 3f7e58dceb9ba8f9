"""Data page: demo store or uploads, column roles, event weights, readiness report, charts."""

from __future__ import annotations

import streamlit as st

from recsys.errors import RecsysError
from ui import state, training_watch
from ui.data_upload import upload_section
from ui.data_views import (
    charts_section,
    currency_setting,
    dataset_summary,
    preview_section,
    report_section,
)
from ui.errors import show_error
from ui.frame import page_header
from ui.i18n import t
from ui.labels import dataset_label
from ui.text import md

page_header("data.title", "data.intro")
flash = st.session_state.pop("data_flash", None)
if flash:
    st.success(flash)

datasets = state.list_datasets()
pick_col, demo_col, del_col = st.columns([6, 2, 1.4], vertical_alignment="bottom")
with pick_col:
    if datasets:
        ids = [d["id"] for d in datasets]
        by_id = {d["id"]: d for d in datasets}
        active = st.session_state.get("dataset_id")
        picked = st.selectbox(
            t("data.pick"),
            ids,
            index=ids.index(active) if active in ids else 0,
            format_func=lambda i: dataset_label(by_id[i]),
            key=f"data_pick_{active}",
        )
        if picked != active:
            state.set_active_dataset(picked)
            st.rerun()
    else:
        st.info(t("data.empty"))
with demo_col:
    demo = state.demo_dataset()
    new_copy = demo is None or st.checkbox(
        t("data.demo_new_copy"), key="data_demo_new", help=t("data.demo_new_copy_help")
    )
    if st.button(t("data.demo_button"), help=t("data.demo_help"), key="data_demo", width="stretch"):
        if not new_copy and demo is not None:  # the demo store is there: open it, no copy
            state.set_active_dataset(demo["id"])
            st.session_state["data_flash"] = t("data.demo_switched", name=dataset_label(demo))
            st.rerun()
        try:
            with st.spinner(t("data.demo_creating")):
                demo_id = state.create_demo_dataset()
        except RecsysError as err:
            show_error(err)
        else:
            entry = next((d for d in state.list_datasets() if d["id"] == demo_id), {})
            name = dataset_label(entry) if entry else demo_id
            st.session_state["data_flash"] = t("data.demo_done", name=name)
            st.rerun()

with del_col:
    active_id = st.session_state.get("dataset_id")
    active_entry = next((d for d in datasets if d["id"] == active_id), None)
    with st.popover(
        t("data.delete"),
        icon=":material/delete:",
        disabled=active_entry is None,
        width="stretch",
        help=t("data.delete_help"),
    ):
        if active_entry is not None:
            runs = state.list_runs(active_id)
            st.markdown(t("data.delete_confirm", name=md(dataset_label(active_entry))))
            with_runs = True
            if runs:  # a run cannot be opened without its dataset: offer to delete them too
                size = sum(state.run_size_mb(r["id"]) or 0.0 for r in runs)
                with_runs = st.checkbox(
                    t("data.delete_runs", n=len(runs), size=size),
                    value=True,
                    key="data_delete_runs",
                    help=t("data.delete_runs_help"),
                )
                if not with_runs:
                    st.caption(t("data.delete_keep_runs"))
            busy = training_watch.running(active_id)  # a training on it in any tab
            if busy:
                st.warning(t("data.delete_training"))
            if st.button(
                t("data.delete_yes"),
                type="primary",
                key="data_delete_yes",
                disabled=busy or not with_runs,
            ):
                if training_watch.running(active_id):  # started since the page was drawn
                    st.warning(t("data.delete_training"))
                else:
                    try:
                        state.delete_dataset(active_id)
                    except RecsysError as err:
                        show_error(err)
                    else:
                        st.session_state["data_flash"] = t(
                            "data.deleted", name=md(active_entry.get("name") or active_id)
                        ) + (" " + t("data.deleted_runs", n=len(runs)) if runs else "")
                        st.rerun()

upload_section(bool(datasets))

ds = state.get_dataset()
if ds is None:
    st.stop()

report = state.dataset_meta(st.session_state["dataset_id"]).get("report") or {}
st.subheader(f"{t('data.active')}: {md(ds.name)}")
dataset_summary(ds, report)
currency_setting(ds)
tab_charts, tab_report, tab_preview = st.tabs(
    [t("data.charts"), t("data.report"), t("data.preview")]
)
with tab_charts:
    charts_section(ds)
with tab_report:
    report_section(report)
with tab_preview:
    preview_section(ds)
