"""Fusion lab: auto-tune the weights on the validation split, and the Pareto chart of the trials."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from recsys.errors import RecsysError
from recsys.evaluation.metrics.glossary import shown_keys
from recsys.evaluation.tuning import pareto_front
from recsys.ranking.fusion import FUSERS
from ui.charts import PALETTE, plot, style_fig
from ui.errors import show_error
from ui.i18n import t
from ui.lab_state import eval_cached
from ui.labels import metric_label, model_label
from ui.nav import rerun_fragment
from ui.state import fast_mode


def _metric_name(metric: str, k: int) -> str:
    return metric_label(metric, k)


def objectives(k: int) -> list[str]:
    """The accuracy metrics at k the search can maximise (from the glossary)."""
    return [m for m in shown_keys(k, families=["accuracy"], levels=["list"]) if "@" in m]


def autotune(run, fusion, rerank) -> None:
    """The auto-tune expander: objective, constraints, the search and its result."""
    ss = st.session_state
    k = rerank.k
    with st.expander(t("lab.autotune"), expanded=False):
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
        if st.button(t("lab.autotune_button"), key="lab_tune_go", type="primary"):
            constraints = {}
            if min_cov > 0:
                constraints["coverage"] = (">=", float(min_cov))
            if min_div > 0:
                constraints["diversity"] = (">=", float(min_div))
            _search(run, fusion, rerank, objective, constraints)
        msg = ss.get("lab_tune_msg")
        if msg:
            (st.success if getattr(ss.get("lab_tune"), "feasible", True) else st.warning)(msg)
        result = ss.get("lab_tune")
        if result is not None and len(result.trials):
            pareto(run, fusion, rerank, result)


def _search(run, fusion, rerank, objective: str, constraints: dict) -> None:
    """Run the weight search, keep its result and apply the best weights (fragment rerun)."""
    ss = st.session_state
    bar = st.progress(0.0, text=t("lab.tuning"))

    def progress(fraction: float, message: str) -> None:
        bar.progress(min(max(float(fraction), 0.0), 1.0), text=f"{t('lab.tuning')} {message}")

    try:
        result = run.autotune(
            objective,
            constraints or None,
            fusion=fusion,
            rerank_cfg=rerank,
            n_samples=30 if fast_mode() else 120,
            progress=progress,
        )
    except RecsysError as err:
        show_error(err)
        return
    ss["lab_tune"] = result
    ss["lab_pending"] = {"weights": result.best_weights}
    ss["lab_tune_msg"] = t(
        "lab.tuned" if result.feasible else "lab.tuned_infeasible",
        obj=_metric_name(objective, rerank.k),
        value=float(result.best_metrics.get(objective) or 0.0),
        n=len(result.trials),
        s=result.seconds,
    )
    rerun_fragment()


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
