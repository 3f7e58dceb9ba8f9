"""Fusion lab: save, load and rename presets; pick the baseline to compare against."""

from __future__ import annotations

import streamlit as st

from recsys.errors import RecsysError
from recsys.service.entries import short_id
from recsys.service.workspace import preset_from_record
from ui.auth import current_user
from ui.errors import show_error
from ui.i18n import t
from ui.labels import named, preset_label, trained_preset_label
from ui.naming import choose_name
from ui.nav import rerun_fragment
from ui.preset_use import fit_problem, fit_to_run, set_source, warn_dropped
from ui.state import get_workspace
from ui.text import md

TRAINED = "__trained__"


def _save_form(run, fusion, rerank, saved: list[dict]) -> None:
    ss = st.session_state
    name = st.text_input(
        t("lab.preset_name"), value=ss.get("lab_preset_name", ""), key="lab_preset_name_in"
    )
    choice = choose_name(name, saved, "lab_preset_clash", preset_label)
    disabled = not name.strip() or choice is None
    if st.button(t("lab.save_preset"), key="lab_save_preset", disabled=disabled) and choice:
        preset = run.preset.with_fusion(fusion).with_rerank(rerank)
        preset.name = choice.name
        if choice.replace_id:
            preset.id = choice.replace_id
        try:
            pid = get_workspace().save_preset(
                preset, as_new=choice.replace_id is None, saved_by=current_user()
            )
        except RecsysError as err:
            show_error(err)
        else:
            preset.id = pid
            set_source(preset)  # the settings now are this saved preset, unmodified
            ss["lab_flash"] = t("lab.preset_saved", name=md(choice.name), id=short_id(pid))
            rerun_fragment()


def _picker_label(record: dict, run) -> str:
    """``name #id · updated · by``, flagged when the preset does not fit this run."""
    why = fit_problem(record, run)
    label = preset_label(record)
    return f"{label} · {t('preset.flag', why=why)}" if why else label


def _load_form(run, presets: list[dict]) -> None:
    ws = get_workspace()
    by_id = {p["id"]: p for p in presets}
    pid = st.selectbox(
        t("lab.pick_preset"),
        list(by_id),
        format_func=lambda i: _picker_label(by_id[i], run),
        key="lab_pick_preset",
    )
    b1, b2 = st.columns(2)
    if b1.button(t("lab.load_preset"), key="lab_load_preset"):
        try:
            preset, fit = fit_to_run(ws.load_preset(pid), run)
        except RecsysError as err:
            show_error(err)
        else:
            st.session_state["lab_pending"] = {
                "fusion": preset.fusion,
                "rerank": preset.rerank,
                "rules": preset.rerank.rules,
            }
            set_source(preset)
            st.session_state["lab_flash"] = t("preset.loaded", name=named(preset.name, pid))
            st.session_state["lab_flash_rules"] = fit.dropped_rules
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
    ss = st.session_state
    flash, dropped = ss.pop("lab_flash", None), ss.pop("lab_flash_rules", ())
    with st.expander(t("lab.presets"), expanded=bool(flash or dropped)):
        if flash:
            st.success(flash)
        warn_dropped(tuple(dropped))
        saved = get_workspace().list_presets()
        c1, c2 = st.columns(2)
        with c1:
            _save_form(run, fusion, rerank, saved)
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
            trained_preset_label(run) if i == TRAINED else _picker_label(saved[i], run)
        ),
        key="lab_baseline",
        help=t("lab.baseline_help"),
    )
    if pick == TRAINED:
        return run.preset.fusion, run.preset.rerank
    try:
        preset, fit = fit_to_run(preset_from_record(saved[pick]), run)
    except RecsysError as err:
        show_error(err)
        return run.preset.fusion, run.preset.rerank
    warn_dropped(fit.dropped_rules)
    return preset.fusion, preset.rerank
