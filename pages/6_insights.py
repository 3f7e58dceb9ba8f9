"""Insights: coverage, long tail (Lorenz curve, Gini), never-recommended items, category share in
recommendations vs histories, novelty / diversity distributions and metrics by user segment."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from recsys.errors import RecsysError
from recsys.evaluation.metrics import gini_index, lorenz_curve
from recsys.service.data_summary import category_share
from ui import charts, errors, labels, nav, state, tables
from ui.frame import page_header
from ui.i18n import lang_is_zh, t
from ui.text import plot_texts


def _lorenz(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Lorenz curve of ``counts`` and its Gini (0 when nothing is shown)."""
    x, y = lorenz_curve(counts)
    gini = gini_index(counts)
    return x, y, 0.0 if np.isnan(gini) else gini


_RULE_ZH = (
    (r"^every listed user$", "所有列出的用户"),
    (r"^fewer than (\S+) train interactions$", r"训练集交互少于 \1 次"),
    (r"^(\S+) to (\S+) train interactions \(exclusive\)$", r"训练集交互 \1 至 \2 次（不含 \2）"),
    (r"^at least (\S+) train interactions \(top (\S+) %\)$", r"训练集交互至少 \1 次（前 \2%）"),
)


def _rule_text(rule: object) -> str:
    """The library's segment definition, in Chinese when the interface is (fixed phrasings)."""
    text = str(rule)
    if not lang_is_zh():
        return text
    for pattern, repl in _RULE_ZH:
        if re.match(pattern, text):
            return re.sub(pattern, repl, text)
    return text


page_header("ins.title", "ins.intro")
run = nav.require_run()
fusion, rerank = state.current_configs(run)
ds = run.dataset

try:
    with st.spinner(t("ins.computing")):
        ev = run.evaluate(fusion, rerank)
        recs = run.recommend(None, fusion, rerank)
        topk = recs.ranked.topk
except RecsysError as err:
    errors.show_error(err)
    st.stop()

items = topk.items[topk.items >= 0]
rec_counts = np.bincount(items, minlength=ds.n_items)
pop = ds.item_popularity()
never = rec_counts == 0
k = rerank.k
vals = ev.fusion.values

c1, c2, c3, c4 = st.columns(4)
coverage_all = float((~never).mean())
c1.metric(
    t("ins.coverage"),
    f"{coverage_all:.1%}",
    help=labels.metric_help("coverage", coverage_all, k, t("ins.coverage_help")),
)
x_r, y_r, gini_r = _lorenz(rec_counts)
x_p, y_p, gini_p = _lorenz(pop)
c2.metric(
    t("ins.gini_recs"),
    f"{gini_r:.3f}",
    f"{gini_r - gini_p:+.3f} {t('ins.vs_history')}",
    delta_color="inverse",
    help=labels.metric_help("gini", gini_r, k, t("ins.gini_help")),
)
c3.metric(t("ins.never"), f"{int(never.sum()):,}")
c4.metric(
    labels.metric_label("novelty", k),
    "—" if vals.get("novelty") is None else f"{vals['novelty']:.2f}",
    help=labels.metric_help("novelty", vals.get("novelty"), k),
)

left, right = st.columns(2)
with left:
    fig = go.Figure()
    fig.add_scatter(
        x=x_r * 100,
        y=y_r * 100,
        name=t("ins.lorenz_recs", g=gini_r),
        line={"color": charts.PALETTE[0]},
        hovertemplate="%{x:.0f}% " + t("common.items") + " → %{y:.1f}%<extra></extra>",
    )
    fig.add_scatter(
        x=x_p * 100,
        y=y_p * 100,
        name=t("ins.lorenz_hist", g=gini_p),
        line={"color": charts.PALETTE[1]},
        hovertemplate="%{x:.0f}% " + t("common.items") + " → %{y:.1f}%<extra></extra>",
    )
    fig.add_scatter(
        x=[0, 100],
        y=[0, 100],
        name=t("ins.equality"),
        line={"color": "#9ca3af", "dash": "dot"},
        hoverinfo="skip",
    )
    charts.plot(
        charts.style_fig(
            fig, t("ins.lorenz_title"), t("ins.lorenz_x"), t("ins.lorenz_y"), height=380
        ),
        key="ins_lorenz",
    )
with right:
    order = np.argsort(-pop)
    fig = go.Figure()
    fig.add_scatter(
        x=np.arange(1, ds.n_items + 1),
        y=pop[order],
        name=t("ins.tail_hist"),
        mode="lines",
        line={"color": charts.PALETTE[1]},
        hovertemplate="#%{x}: %{y:,}<extra></extra>",
    )
    fig.add_scatter(
        x=np.arange(1, ds.n_items + 1),
        y=rec_counts[order],
        name=t("ins.tail_recs"),
        mode="markers",
        marker={"color": charts.PALETTE[0], "size": 4},
        hovertemplate="#%{x}: %{y:,}<extra></extra>",
    )
    fig.update_yaxes(type="log", dtick=1)
    charts.plot(
        charts.style_fig(fig, t("ins.tail_title"), t("ins.tail_x"), t("ins.tail_y"), height=380),
        key="ins_tail",
    )

st.subheader(t("ins.never_title", n=int(never.sum())))
cat = tables.localized_titles(ds.catalog, ds)
never_tbl = cat.loc[
    never, tables.shown_columns(cat, ["item_id", "title", "category", "brand", "price"])
].assign(interactions=pop[never])
st.dataframe(
    never_tbl.sort_values("interactions", ascending=False),
    hide_index=True,
    height=240,
    column_config={
        "item_id": st.column_config.TextColumn(t("common.item")),
        "title": st.column_config.TextColumn(t("common.title"), width="large"),
        "category": st.column_config.TextColumn(t("common.category")),
        "brand": st.column_config.TextColumn(t("common.brand")),
        "price": tables.price_column(),
        "interactions": st.column_config.NumberColumn(t("ins.n_interactions")),
    },
)
st.caption(t("ins.never_help"))

left, right = st.columns(2)
with left:
    rec_share = category_share(ds, rec_counts)  # multi-valued genres: every genre counts
    hist_share = category_share(ds, pop)
    if rec_share is not None and hist_share is not None:
        mix = pd.DataFrame({"recs": rec_share, "hist": hist_share}).fillna(0.0)
        mix = mix.sort_values("hist", ascending=True)
        mix.index = plot_texts(mix.index)
        fig = go.Figure()
        fig.add_bar(
            y=mix.index,
            x=mix["hist"] * 100,
            name=t("ins.share_hist"),
            orientation="h",
            marker_color=charts.PALETTE[1],
            hovertemplate="%{y}: %{x:.1f}%<extra></extra>",
        )
        fig.add_bar(
            y=mix.index,
            x=mix["recs"] * 100,
            name=t("ins.share_recs"),
            orientation="h",
            marker_color=charts.PALETTE[0],
            hovertemplate="%{y}: %{x:.1f}%<extra></extra>",
        )
        charts.plot(
            charts.style_fig(
                fig,
                t("ins.share_title"),
                t("common.share") + " (%)",
                None,
                height=max(320, 30 * len(mix) + 100),
            ),
            key="ins_share",
        )
with right:
    seg = getattr(ev.fusion, "segments", None)
    if seg is not None and len(seg):
        key = f"ndcg@{k}"
        seg_tbl = seg.copy()
        fig = go.Figure()
        for i, metric in enumerate(
            [m for m in (f"ndcg@{k}", f"recall@{k}", "coverage") if m in seg_tbl.columns]
        ):
            fig.add_bar(
                x=[t(f"seg.{s}") for s in seg_tbl["segment"]],
                y=seg_tbl[metric],
                name=labels.metric_label(metric, k),
                marker_color=charts.PALETTE[i],
                hovertemplate="%{x}: %{y:.4f}<extra></extra>",
            )
        fig.update_layout(barmode="group")
        charts.plot(
            charts.style_fig(fig, t("ins.segments_title"), None, t("common.value"), height=340),
            key="ins_segments",
        )

if seg is not None and len(seg):
    show = [
        c
        for c in (
            "segment",
            "rule",
            "n_users",
            f"ndcg@{k}",
            f"precision@{k}",
            f"recall@{k}",
            f"hit_rate@{k}",
            "novelty",
            "coverage",
        )
        if c in seg_tbl.columns
    ]
    st.dataframe(
        seg_tbl[show].assign(
            segment=[t(f"seg.{s}") for s in seg_tbl["segment"]],
            **({"rule": [_rule_text(r) for r in seg_tbl["rule"]]} if "rule" in show else {}),
        ),
        hide_index=True,
        column_config={
            "segment": st.column_config.TextColumn(t("common.segment")),
            "rule": st.column_config.TextColumn(t("ins.rule"), width="medium"),
            "n_users": st.column_config.NumberColumn(t("common.users")),
            **labels.metric_columns(show[3:]),
        },
    )

dists = [
    (m, color)
    for m, color in (
        ("novelty", charts.PALETTE[4]),
        ("diversity", charts.PALETTE[2]),
        ("category_diversity", charts.PALETTE[3]),
    )
    if m in ev.fusion.per_user and np.isfinite(ev.fusion.per_user[m]).any()
]
for col, (metric, color) in zip(st.columns(max(len(dists), 1)), dists, strict=False):
    values = ev.fusion.per_user[metric]
    with col:
        v = np.asarray(values, dtype=np.float64)
        v = v[np.isfinite(v)]
        fig = go.Figure(
            go.Histogram(
                x=v, nbinsx=30, marker_color=color, hovertemplate="%{x}: %{y:,}<extra></extra>"
            )
        )
        fig.add_vline(
            x=float(np.mean(v)) if len(v) else 0,
            line_dash="dot",
            annotation_text=t("ins.mean"),
            annotation_position="top right",
        )
        charts.plot(
            charts.style_fig(
                fig,
                t("ins.dist_title", metric=labels.metric_label(metric, k)),
                labels.metric_label(metric, k),
                t("common.users"),
                height=300,
                legend=False,
            ),
            key=f"ins_{metric}",
        )
st.caption(t("ins.dist_help", n=len(ev.fusion.users)))
