"""Fusion lab: save, load and rename presets; pick the baseline to compare against."""

from __future__ import annotations

import streamlit as st

from recsys.errors import RecsysError
from recsys.service.workspace import preset_from_record
from ui.errors import show_error
from ui.i18n import t
from ui.labels import trained_preset_label
from ui.nav import rerun_fragment
from ui.state import get_workspace
from ui.text import md

TRAINED = "__trained__"


def _save_form(run, fusion, rerank) -> None:
    ss = st.session_state
    name = st.text_input(
        t("lab.preset_name"), value=ss.get("lab_preset_name", ""), key="lab_preset_name_in"
    )
    if st.button(t("lab.save_preset"), key="lab_save_preset", disabled=not name.strip()):
        preset = run.preset.with_fusion(fusion).with_rerank(rerank)
        preset.name = name.strip()
        try:
            pid = get_workspace().save_preset(preset, as_new=True)
        except RecsysError as err:
            show_error(err)
        else:
            st.success(t("lab.preset_saved", name=md(name.strip()), id=pid))


def _load_form(run, presets: list[dict]) -> None:
    ws = get_workspace()
    by_id = {p["id"]: p for p in presets}
    pid = st.selectbox(
        t("lab.pick_preset"),
        list(by_id),
        format_func=lambda i: by_id[i].get("name", i),
        key="lab_pick_preset",
    )
    b1, b2 = st.columns(2)
    if b1.button(t("lab.load_preset"), key="lab_load_preset"):
        try:
            preset = ws.load_preset(pid).restricted_to(run.preset.models)
        except RecsysError as err:
            show_error(err)
        else:
            st.session_state["lab_pending"] = {
                "fusion": preset.fusion,
                "rerank": preset.rerank,
                "rules": preset.rerank.rules,
            }
            rerun_fragment()
    new_name = st.text_input(t("lab.rename_to"), key="lab_rename_to")
    if b2.button(t("lab.rename"), key="lab_rename", disabled=not new_name.strip()):
        try:
            ws.rename_preset(pid, new_name.strip())
        except RecsysError as err:
            show_error(err)
        else:
            rerun_fragment()


def presets(run, fusion, rerank) -> None:
    """The presets expander: save the current setting, load or rename a saved one."""
    with st.expander(t("lab.presets"), expanded=False):
        c1, c2 = st.columns(2)
        with c1:
            _save_form(run, fusion, rerank)
        saved = get_workspace().list_presets()
        with c2:
            if saved:
                _load_form(run, saved)
            else:
                st.caption(t("lab.no_presets"))


def baseline_choice(run):
    """(fusion, rerank) of the baseline: the run's trained preset or a saved preset."""
    saved = {p["id"]: p for p in get_workspace().list_presets()}
    pick = st.selectbox(
        t("lab.baseline"),
        [TRAINED, *saved],
        format_func=lambda i: (
            trained_preset_label(run) if i == TRAINED else saved[i].get("name", i)
        ),
        key="lab_baseline",
        help=t("lab.baseline_help"),
    )
    if pick == TRAINED:
        return run.preset.fusion, run.preset.rerank
    try:
        preset = preset_from_record(saved[pick]).restricted_to(run.preset.models)
    except RecsysError as err:
        show_error(err)
        return run.preset.fusion, run.preset.rerank
    return preset.fusion, preset.rerank
