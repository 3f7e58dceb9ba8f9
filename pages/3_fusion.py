"""Fusion lab: weights, method, normalisation, re-ranking knobs and rules with live held-out
metrics; auto-tune with a Pareto chart; presets. The interactive part is one ``st.fragment``,
so a change re-runs only the lab, not the whole page."""

from __future__ import annotations

import streamlit as st

from ui import nav, session, state
from ui.busy import busy
from ui.errors import boundary
from ui.frame import page_header
from ui.i18n import t
from ui.lab_controls import controls
from ui.lab_presets import baseline_choice, presets
from ui.lab_results import results
from ui.lab_state import apply_state, warm_up
from ui.lab_tuning import autotune
from ui.rule_impact import rule_impact


@st.fragment
def lab(run) -> None:
    # a change that takes over 300 ms shows "Updating…" and the controls wait for it (all but
    # auto-tune's Stop, which interrupts a running search)
    with boundary(), busy(("lab_controls", "lab_results"), t("lab.busy"), free=("lab_tune_stop",)):
        apply_state(run)
        catalog_columns = [c for c in run.dataset.catalog.columns if c != "item_id"]
        left, right = st.columns([1, 2], gap="large")
        with right:  # the rules table needs the width; it sits above the metrics it changes
            right = st.container(key="lab_results")
            rules_slot = right.container()
        with left, st.container(key="lab_controls"):
            fusion, rerank, rules_box = controls(run, catalog_columns, rules_slot)
        if fusion is None:
            return
        state.set_current_configs(fusion, rerank)  # versioned: ui.lab_settings
        fusion, rerank = state.current_configs(run)  # what Export and the other pages use
        session.publish()  # a refresh keeps the lab's settings (this tab's URL)
        with right:
            baseline = baseline_choice(run)
            results(run, fusion, rerank, baseline)
            autotune(run, fusion, rerank)
            presets(run, fusion, rerank)
        if rules_box is not None:  # under the rules table, computed last, only while it is open
            with rules_box:
                rule_impact(run, fusion, rerank)


page_header("lab.title", "lab.intro")
active = nav.require_run()
warm_up(active)  # every method's fixed tensors, in the background, once per run
lab(active)
