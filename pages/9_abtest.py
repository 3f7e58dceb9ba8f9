"""Online A/B test: plan the sample size, assign shoppers to variants (with each variant's
lists), and analyse the outcomes the store logged."""

from __future__ import annotations

import streamlit as st

from ui import abtest_views, nav, state
from ui.frame import page_header
from ui.i18n import t

page_header("abt.title", "abt.intro")
ds = nav.require_dataset()
run = state.get_run() if st.session_state.get("run_id") else None
plan_tab, assign_tab, analyse_tab = st.tabs(
    [t("abt.tab_plan"), t("abt.tab_assign"), t("abt.tab_analyse")]
)
with plan_tab:
    abtest_views.plan_tab()
with assign_tab:
    abtest_views.assign_tab(ds, run)
with analyse_tab:
    abtest_views.analyse_tab()
