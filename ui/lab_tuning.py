"""Fusion lab: auto-tune the weights on the validation split, and the Pareto chart of the trials."""

from __future__ import annotations

import json

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from recsys.errors import RecsysError
from recsys.evaluation.metrics.glossary import shown_keys
from recsys.evaluation.tuning import pareto_front
from recsys.ranking.fusion import FUSERS, FusionConfig
from recsys.service.progress import tune_trials
from ui import tune_job
from ui.charts import PALETTE, plot, style_fig
from ui.errors import show_error
from ui.i18n import t
from ui.lab_state import eval_cached, slider_weight
from ui.labels import metric_label, model_label
from ui.nav import rerun_fragment
from ui.state import fast_mode
from ui.tune_job import TuneJob


def _metric_name(metric: str, k: int) -> str:
    return metric_label(metric, k)


def objectives(k: int) -> list[str]:
    """The accuracy metrics at k the search can maximise (from the glossary)."""
    return [m for m in shown_keys(k, families=["accuracy"], levels=["list"]) if "@" in m]


def _trial_seconds(run, fusion, rerank) -> float:
    """Measured seconds of one search trial of this setting (kept per setting in the session)."""
    key = json.dumps([fusion.method, fusion.normalization, rerank.to_dict()], default=str)
    cache = st.session_state.setdefault("lab_trial_s", {})
    if key not in cache:
        cache[key] = run.trial_seconds(fusion, rerank)
    return cache[key]


def autotune(run, fusion, rerank) -> None:
    """The auto-tune expander: objective, constraints, the promised time, the search (trials
    done and best so far, a Stop that keeps the best) and its result against the test users.

    Nothing inside runs while the expander is closed (it is lazy: ``on_change="rerun"``). The
    search runs in a background thread (``ui.tune_job``) that a small fragment polls, so the
    page stays responsive and Stop interrupts it between two trials.
    """
    ss = st.session_state
    k = rerank.k
    job = ss.get(JOB)
    box = st.expander(
        t("lab.autotune"), expanded=job is not None, key="lab_tune_exp", on_change="rerun"
    )
    if box.open is False and job is None:
        return
    with box:
        if not FUSERS[fusion.method].uses_weights:
            st.caption(t("lab.no_weights"))
            return
        c1, c2, c3 = st.columns(3)
        objective = c1.selectbox(
            t("lab.objective"),
            objectives(k),
            format_func=lambda m: _metric_name(m, k),
            key="lab_objective",
        )
        min_cov = c2.slider(t("lab.min_coverage"), 0.0, 1.0, 0.0, 0.05, key="lab_min_cov")
        min_div = c3.slider(t("lab.min_diversity"), 0.0, 1.0, 0.0, 0.05, key="lab_min_div")
        n_trials = tune_trials(len(run.model_names), _n_samples())
        per_trial = _trial_seconds(run, fusion, rerank)
        promise = n_trials * per_trial
        budget = budget_seconds(promise)
        st.caption(
            t("lab.autotune_estimate", n=n_trials, ms=per_trial * 1000, s=promise, budget=budget)
        )
        b1, b2 = st.columns([1, 1])
        go = b1.button(
            t("lab.autotune_button"), key="lab_tune_go", type="primary", disabled=job is not None
        )
        stop = b2.button(t("lab.autotune_stop"), key="lab_tune_stop", help=t("lab.stop_help"))
        if stop:
            if job is not None:
                job.cancel()
            else:
                st.caption(t("lab.nothing_to_stop"))
        if go and job is None:
            constraints = {}
            if min_cov > 0:
                constraints["coverage"] = (">=", float(min_cov))
            if min_div > 0:
                constraints["diversity"] = (">=", float(min_div))
            job = _search(run, fusion, rerank, objective, constraints, budget)
        if job is not None:
            _watch(run, fusion, rerank)
            return
        msg = ss.get("lab_tune_msg")
        if msg:
            (st.success if getattr(ss.get("lab_tune"), "feasible", True) else st.warning)(msg)
        _test_check(run, fusion, rerank)
        result = ss.get("lab_tune")
        if result is not None and len(result.trials):
            pareto(run, fusion, rerank, result)


#: Session key of the running search (``ui.tune_job.TuneJob``).
JOB = "lab_tune_job"
#: Seconds between two looks at a running search.
POLL_S = 0.5


def _n_samples() -> int:
    return 30 if fast_mode() else 120


def budget_seconds(promise: float) -> float:
    """The most a search may take: the measured promise with a margin for a busy machine."""
    return 1.25 * promise + 2.0


def _search(run, fusion, rerank, objective: str, constraints: dict, budget: float) -> TuneJob:
    """Start the weight search in the background (``ui.tune_job``); the job is kept in the
    session, its trials and best so far are shown by ``_watch``."""
    ss = st.session_state
    ss["lab_tune_before"] = dict(fusion.weights)
    ss["lab_tune_objective"] = objective
    ss["lab_tune_rerank"] = rerank.k

    def search(stop, on_trial):
        return run.autotune(
            objective,
            constraints or None,
            fusion=fusion,
            rerank_cfg=rerank,
            n_samples=_n_samples(),
            time_budget=budget,
            stop=stop,
            on_trial=on_trial,
        )

    job = tune_job.start(search)
    ss[JOB] = job
    return job


@st.fragment(run_every=POLL_S)
def _watch(run, fusion, rerank) -> None:
    """Trials done and the best so far of the running search; its result once it ends."""
    ss = st.session_state
    job = ss.get(JOB)
    if job is None:
        return
    objective = ss.get("lab_tune_objective", "")
    partial = job.result or job.partial
    done = 0 if partial is None else len(partial.trials)
    planned = 1 if partial is None else max(partial.planned, 1)
    best = None if partial is None else partial.best_metrics.get(objective)
    text = t("lab.tuning")
    if partial is not None:
        text = t(
            "lab.tuning_progress",
            n=done,
            total=partial.planned,
            obj=_metric_name(objective, rerank.k),
            best=float(best) if best is not None else float("nan"),
            s=partial.seconds,
        )
    st.progress(min(done / planned, 1.0), text=text)
    if not job.done:
        return
    ss.pop(JOB, None)
    if job.error is not None:
        show_error(job.error)
        return
    if job.result is None:
        st.caption(t("lab.nothing_to_stop"))
        return
    _finish(run, fusion, rerank, job.result, cancelled=job.stop.is_set())


def _finish(run, fusion, rerank, result, *, cancelled: bool) -> None:
    """Keep a search result, apply its best weights and say how it went (whole-lab rerun)."""
    ss = st.session_state
    objective = ss.get("lab_tune_objective", result.objective)
    ss["lab_tune"] = result
    ss["lab_pending"] = {"weights": result.best_weights}
    key = "lab.tuned" if result.feasible else "lab.tuned_infeasible"
    text = t(
        key,
        obj=_metric_name(objective, rerank.k),
        value=float(result.best_metrics.get(objective) or 0.0),
        n=len(result.trials),
        s=result.seconds,
    )
    if cancelled or result.stopped == "cancelled":
        text += " " + t("lab.tune_cancelled", n=len(result.trials), total=result.planned)
    elif result.stopped == "budget":
        text += " " + t("lab.tune_budget", n=len(result.trials), total=result.planned)
    ss["lab_tune_msg"] = text
    ss["lab_tune_check"] = True
    st.rerun()  # the sliders (the lab fragment) take the tuned weights


def _test_check(run, fusion, rerank) -> None:
    """After a search: the tuned weights against the weights before it on the *test* users,
    plainly, with an undo when the tuned ones do worse."""
    ss = st.session_state
    before = ss.get("lab_tune_before")
    result = ss.get("lab_tune")
    if not ss.get("lab_tune_check") or before is None or result is None:
        return
    tuned = {m: slider_weight(w) for m, w in result.best_weights.items()}
    if {m: slider_weight(w) for m, w in fusion.weights.items()} != tuned:
        return  # the sliders moved on since the search: nothing to compare
    objective = ss.get("lab_tune_objective", result.objective)
    prior = FusionConfig(fusion.method, fusion.normalization, before, fusion.params)
    try:
        tuned_v = eval_cached(run, fusion, rerank).fusion.values.get(objective)
        before_v = eval_cached(run, prior, rerank).fusion.values.get(objective)
    except RecsysError:
        return
    if tuned_v is None or before_v is None:
        return
    params = {
        "metric": _metric_name(objective, rerank.k),
        "tuned": tuned_v,
        "before": before_v,
        "diff": abs(tuned_v - before_v),
    }
    if tuned_v < before_v:
        st.warning(t("lab.tuned_worse", **params))
        if st.button(t("lab.tune_undo"), key="lab_tune_undo"):
            ss["lab_pending"] = {"weights": before}
            ss["lab_tune_check"] = False
            rerun_fragment()
    else:
        st.caption(t("lab.tuned_test", **params))


def _marker(name: str, symbol: str, size: int, color: str, x, y) -> go.Scatter:
    return go.Scatter(
        x=[x],
        y=[y],
        mode="markers",
        name=name,
        marker={
            "symbol": symbol,
            "size": size,
            "color": color,
            "line": {"width": 1, "color": "#111"},
        },
    )


def pareto(run, fusion, rerank, result) -> None:
    """Every tried weighting on the validation split, the Pareto front, the best and the current."""
    trials = result.trials
    objective = result.objective
    k = rerank.k
    axis = (
        st.segmented_control(
            t("lab.pareto_axis"),
            shown_keys(k, trials.columns, families=["exposure", "variety"]),
            default="coverage",
            format_func=lambda c: metric_label(c, k),
            key="lab_pareto_axis",
        )
        or "coverage"
    )
    if objective not in trials.columns or axis not in trials.columns:
        return
    front = pareto_front(trials, x=axis, y=objective)
    feasible = (
        trials["feasible"].to_numpy(dtype=bool)
        if "feasible" in trials.columns
        else np.ones(len(trials), bool)
    )
    weight_cols = [m for m in run.model_names if m in trials.columns]
    hover = (
        trials[weight_cols]
        .round(2)
        .astype(str)
        .apply(lambda r: "<br>".join(f"{model_label(m)}: {r[m]}" for m in weight_cols), axis=1)
    )
    fig = go.Figure()
    for mask, name, color in (
        (feasible, t("lab.feasible"), PALETTE[0]),
        (~feasible, t("lab.infeasible"), "#d1d5db"),
    ):
        if mask.any():
            fig.add_scatter(
                x=trials.loc[mask, axis],
                y=trials.loc[mask, objective],
                mode="markers",
                name=name,
                marker={"color": color, "size": 7, "opacity": 0.7},
                text=hover[mask],
                hovertemplate=f"{metric_label(axis, k)}: %{{x:.3f}}<br>"
                f"{metric_label(objective, k)}: %{{y:.4f}}<br>%{{text}}<extra></extra>",
            )
    ft = trials[front].sort_values(axis)
    fig.add_scatter(
        x=ft[axis],
        y=ft[objective],
        mode="lines",
        name=t("lab.front"),
        line={"color": PALETTE[1], "dash": "dot"},
    )
    best = result.best_metrics
    fig.add_trace(
        _marker(t("lab.best"), "diamond", 14, PALETTE[2], best.get(axis), best.get(objective))
    )
    try:
        current = eval_cached(run, fusion, rerank, stage="validation").fusion.values
    except RecsysError:  # the current-setting marker is optional
        current = None
    if current is not None:
        fig.add_trace(
            _marker(
                t("lab.current"), "star", 18, PALETTE[3], current.get(axis), current.get(objective)
            )
        )
    plot(
        style_fig(
            fig,
            t("lab.pareto_title", n=len(trials)),
            metric_label(axis, k),
            _metric_name(objective, k),
            height=420,
        ),
        key="lab_pareto",
    )
    st.caption(t("lab.pareto_help"))
