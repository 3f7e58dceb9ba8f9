"""The online A/B test page's three tabs: plan (sample size), assign (+ each variant's lists),
analyse (outcomes → lift and significance). The statistics live in
``recsys.evaluation.abtest``; this module only reads widgets and shows tables."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from recsys.errors import RecsysError
from recsys.evaluation.abtest import (
    DEFAULT_SALT,
    analyse,
    assign,
    plan_sample_size,
    simulate_outcomes,
)
from recsys.evaluation.outcomes import read_assignment, read_outcomes
from recsys.evaluation.segments import SEGMENTS
from recsys.service.experiment import activity_segments, variant_lists
from recsys.service.export import to_csv_bytes
from recsys.service.workspace import preset_from_record
from ui import labels, preset_use, state
from ui.errors import error_text
from ui.i18n import t

CSV_TYPES = ["csv", "txt", "tsv"]
METRICS = ("conversion", "ctr", "revenue_per_user")
_ASSIGNMENT = "abt_assignment"
_OUTCOMES = "abt_outcomes"
_SEGMENT_ACTIVITY = "__activity__"


def strategy_options(
    run,
) -> tuple[dict[str, tuple[str, object]], dict[str, tuple[str, ...]]]:
    """Strategies a variant (or a side of Compare) can serve, fitted to ``run``.

    Returns option id -> (label, Preset), and option id -> the rules turned off for it (a
    saved preset's rules on columns this dataset lacks; its label says why).
    """
    out = {
        "__current__": (t("cmp.current"), state.current_preset(run)),
        "__trained__": (labels.trained_preset_label(run), run.preset),
    }
    dropped: dict[str, tuple[str, ...]] = {}
    for p in state.get_workspace().list_presets():
        try:
            preset, fit = preset_use.fit_to_run(preset_from_record(p), run)
        except RecsysError:  # an unreadable preset is not offered
            continue
        why = preset_use.fit_problem(p, run)
        label = labels.preset_label(p)
        out[p["id"]] = (f"{label} · {t('preset.flag', why=why)}" if why else label, preset)
        dropped[p["id"]] = fit.dropped_rules
    return out, dropped


# ---------------------------------------------------------------------------- plan
def plan_tab() -> None:
    """Users needed before the test, for a chosen lift."""
    st.caption(t("abt.plan_intro"))
    c1, c2, c3 = st.columns(3)
    metric = c1.selectbox(
        t("abt.metric"), METRICS, format_func=lambda m: t(f"abt.metric.{m}"), key="abt_p_metric"
    )
    rate = metric != "revenue_per_user"
    baseline = c2.number_input(
        t("abt.baseline_rate") if rate else t("abt.baseline_mean"),
        min_value=0.0001,
        value=0.10 if rate else 50.0,
        format="%g",
        key=f"abt_p_base_{rate}",
    )
    lift = c3.number_input(t("abt.lift_pct"), 0.1, 500.0, 5.0, step=0.5, key="abt_p_lift")
    c4, c5, c6 = st.columns(3)
    alpha = c4.selectbox(t("abt.alpha"), (0.05, 0.01, 0.1), key="abt_p_alpha")
    power = c5.selectbox(t("abt.power"), (0.8, 0.9, 0.95), key="abt_p_power")
    n_variants = int(c6.number_input(t("abt.n_variants"), 2, 10, 2, key="abt_p_n"))
    sd = None
    if not rate:
        sd = st.number_input(t("abt.sd"), min_value=0.0001, value=80.0, key="abt_p_sd")
    try:
        plan = plan_sample_size(
            float(baseline),
            float(lift) / 100,
            metric=metric,
            sd=sd,
            alpha=float(alpha),
            power=float(power),
            variants=n_variants,
        )
    except RecsysError as err:
        st.error(error_text(err))
        return
    m1, m2 = st.columns(2)
    m1.metric(t("abt.per_arm"), f"{plan['per_arm']:,}")
    m2.metric(t("abt.total"), f"{plan['total']:,}")


# ---------------------------------------------------------------------------- assign
def _segments(ds, run, column: str | None, users: pd.Series):
    if column is None:
        return None
    if column == _SEGMENT_ACTIVITY:
        return activity_segments(run, users)
    return ds.users.set_index("user_id")[column].reindex(users).fillna("").to_numpy()


def assign_tab(ds, run) -> None:
    """Split the dataset's users into variants; download the assignment and each variant's lists."""
    st.caption(t("abt.assign_intro"))
    c1, c2, c3 = st.columns(3)
    names = c1.text_input(t("abt.variants"), "A,B", key="abt_a_names")
    shares = c2.text_input(t("abt.shares"), "50,50", key="abt_a_shares", help=t("abt.shares_help"))
    salt = c3.text_input(t("abt.salt"), DEFAULT_SALT, key="abt_a_salt", help=t("abt.salt_help"))
    columns = [c for c in ds.users.columns if c != "user_id"]
    choices = [None, *([_SEGMENT_ACTIVITY] if run is not None else []), *columns]
    strat = st.selectbox(
        t("abt.stratify"),
        choices,
        format_func=lambda c: (
            t("abt.no_strata") if c is None else t("abt.activity") if c == _SEGMENT_ACTIVITY else c
        ),
        key="abt_a_strat",
    )
    if st.button(t("abt.assign_button"), type="primary", key="abt_a_go"):
        users = pd.Series(ds.user_ids.external_ids, dtype=object).astype(str)
        variants = [v.strip() for v in names.split(",") if v.strip()]
        try:
            values = [float(x) for x in shares.split(",") if x.strip()] or None
        except ValueError:
            st.error(t("abt.bad_shares"))
            return
        try:
            plan = assign(
                users, variants, values, salt=salt, segments=_segments(ds, run, strat, users)
            )
        except RecsysError as err:
            st.error(error_text(err))
            return
        st.session_state[_ASSIGNMENT] = plan
        st.session_state.pop(_OUTCOMES, None)
    plan = st.session_state.get(_ASSIGNMENT)
    if plan is None:
        return
    counts = plan["variant"].value_counts().sort_index()  # the order the Analyse tab uses
    st.dataframe(
        pd.DataFrame(
            {
                t("abt.variant"): counts.index,
                t("abt.users"): counts.to_numpy(),
                t("abt.share"): (counts / counts.sum()).round(4).to_numpy(),
            }
        ),
        hide_index=True,
    )
    if "segment" in plan.columns:
        segments = plan["segment"].astype(str)
        if set(segments) <= set(SEGMENTS):  # the activity segments: their names
            segments = segments.map(lambda s: t(f"seg.{s}"))
        table = pd.crosstab(segments.rename(t("abt.segment")), plan["variant"].rename(None))
        st.dataframe(table)
    st.download_button(
        t("abt.download_assignment"),
        to_csv_bytes(plan),
        "assignment.csv",
        "text/csv",
        key="abt_a_dl",
    )
    if run is not None:
        _lists(run, plan)


def _lists(run, plan: pd.DataFrame) -> None:
    st.markdown(t("abt.lists_title"))
    options, _ = strategy_options(run)
    ids = list(options)
    variants = sorted(plan["variant"].unique())  # the order the tables use
    cols = st.columns(len(variants))
    chosen = {}
    for i, (col, v) in enumerate(zip(cols, variants, strict=True)):
        pick = col.selectbox(
            v,
            ids,
            index=1 if i == 0 else 0,
            format_func=lambda o: options[o][0],
            key=f"abt_a_strategy_{v}",
        )
        chosen[v] = options[pick][1]
    if st.button(t("abt.lists_button"), key="abt_a_lists"):
        try:
            with st.spinner(t("abt.lists_running")):
                out = variant_lists(run, plan, chosen)
        except RecsysError as err:
            st.error(error_text(err))
            return
        missing = sum(out.unknown.values())
        if missing:
            st.info(t("abt.lists_unknown", n=missing))
        st.download_button(
            t("abt.download_lists", n=len(out.table)),
            to_csv_bytes(out.table),
            "variant_lists.csv",
            "text/csv",
            key="abt_a_lists_dl",
        )


# ---------------------------------------------------------------------------- analyse
def analyse_tab() -> None:
    """Upload outcomes (or simulate them for the assignment above) and read the result."""
    st.caption(t("abt.analyse_intro"))
    left, right = st.columns(2)
    up = left.file_uploader(t("abt.outcomes_file"), type=CSV_TYPES, key="abt_r_file")
    plan_up = right.file_uploader(t("abt.assignment_file"), type=CSV_TYPES, key="abt_r_plan")
    plan = st.session_state.get(_ASSIGNMENT)
    if plan is not None:
        c1, c2 = st.columns([1, 2])
        planted = c1.number_input(t("abt.planted"), -50.0, 200.0, 5.0, key="abt_r_planted")
        if c2.button(t("abt.simulate"), key="abt_r_sim"):
            second = list(plan["variant"].unique())
            lifts = {v: float(planted) / 100 for v in second[1:]}
            st.session_state[_OUTCOMES] = simulate_outcomes(plan, lift=lifts, seed=0)
    try:
        assignment = (
            read_assignment(plan_up.getvalue(), file_name=plan_up.name) if plan_up else None
        )
        if up is not None:
            outcomes = read_outcomes(up.getvalue(), file_name=up.name, assignment=assignment)
        else:
            outcomes = st.session_state.get(_OUTCOMES)
            if outcomes is not None:
                st.caption(t("abt.simulated_note"))
    except RecsysError as err:  # a bad file: file, column and lines, never a traceback
        st.error(error_text(err))
        return
    if outcomes is None:
        return
    variants = sorted(outcomes["variant"].astype(str).unique())
    c1, c2, c3 = st.columns(3)
    control = c1.selectbox(t("abt.control"), variants, key="abt_r_control")
    alpha = c2.selectbox(t("abt.alpha"), (0.05, 0.01, 0.1), key="abt_r_alpha")
    power = c3.selectbox(t("abt.power"), (0.8, 0.9, 0.95), key="abt_r_power")
    shares = None
    if plan is not None and up is None:
        planned = plan["variant"].value_counts(normalize=True)
        shares = {str(k): float(v) for k, v in planned.items()}
    try:
        result = analyse(
            outcomes, control=control, shares=shares, alpha=float(alpha), power=float(power)
        )
    except RecsysError as err:
        st.error(error_text(err))
        return
    _show(result)


def _show(result) -> None:
    srm = result.srm
    if srm["mismatch"]:
        st.error(t("abt.srm_bad", p=srm["p_value"]))
    else:
        st.success(t("abt.srm_ok", p=srm["p_value"]))
    v = result.variants
    table = pd.DataFrame({t("abt.variant"): v["variant"], t("abt.users"): v["users"]})
    for m in METRICS:
        if m in v.columns:
            fmt = "{:.2%}" if m != "revenue_per_user" else "{:,.2f}"
            table[t(f"abt.metric.{m}")] = [
                f"{fmt.format(a)} [{fmt.format(lo)}, {fmt.format(hi)}]"
                for a, lo, hi in zip(v[m], v[f"{m}_low"], v[f"{m}_high"], strict=True)
            ]
    st.dataframe(table, hide_index=True)
    c = result.comparisons
    if c.empty:
        return
    shown = pd.DataFrame(
        {
            t("abt.variant"): c["variant"],
            t("abt.metric"): [t(f"abt.metric.{m}") for m in c["metric"]],
            t("abt.test"): [t(f"abt.test.{x.split()[0].lower()}") for x in c["test"]],
            t("abt.lift"): [
                f"{a:+.1%} [{lo:+.1%}, {hi:+.1%}]"
                for a, lo, hi in zip(c["lift"], c["lift_low"], c["lift_high"], strict=True)
            ],
            t("abt.p_value"): c["p_value"].round(4),
            t("abt.significant"): [t("abt.yes") if s else t("abt.no") for s in c["significant"]],
            t("abt.mde"): [f"{x:.1%}" for x in c["mde_relative"]],
        }
    )
    st.dataframe(shown, hide_index=True)
    st.caption(t("abt.mde_help", power=f"{result.power:.0%}", alpha=result.alpha))
    if len(result.variants) > 2:
        st.caption(t("abt.bonferroni", alpha=result.alpha / (len(result.variants) - 1)))


__all__ = ["analyse_tab", "assign_tab", "plan_tab", "strategy_options"]
