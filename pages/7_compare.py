"""Compare two strategies offline: metric deltas with significance, list overlap, the users whose
lists changed most and the category shift."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from recsys.errors import RecsysError
from recsys.evaluation.metrics.glossary import shown_keys
from ui import charts, errors, labels, nav, preset_use, tables
from ui.abtest_views import strategy_options
from ui.frame import page_header
from ui.i18n import t
from ui.text import md, plot_texts


def _category_shares(run, preset) -> pd.Series:
    ev = run.evaluate(preset.fusion, preset.rerank)
    items = ev.ranked.topk.items
    items = items[items >= 0]
    names = run.dataset.catalog["category"].fillna("—").astype(str).to_numpy()
    return pd.Series(names[items]).value_counts(normalize=True)


page_header("cmp.title", "cmp.intro")
run = nav.require_run()
options, turned_off = strategy_options(run)
ids = list(options)
c1, c2 = st.columns(2)
a_id = c1.selectbox(t("cmp.a"), ids, index=1, format_func=lambda i: options[i][0], key="cmp_a")
b_id = c2.selectbox(t("cmp.b"), ids, index=0, format_func=lambda i: options[i][0], key="cmp_b")
label_a, preset_a = options[a_id]
label_b, preset_b = options[b_id]
preset_use.warn_dropped(tuple(dict.fromkeys(turned_off.get(a_id, ()) + turned_off.get(b_id, ()))))

try:
    with st.spinner(t("cmp.computing")):
        ab = run.compare(preset_a, preset_b)
except RecsysError as err:
    errors.show_error(err)
    st.stop()

table = ab.table.copy()
n_sig = int(table["significant"].sum()) if "significant" in table.columns else 0
m1, m2, m3 = st.columns(3)
m1.metric(t("cmp.users"), f"{len(ab.users):,}")
m2.metric(t("cmp.mean_overlap"), f"{ab.mean_jaccard:.2f}", help=t("cmp.overlap_help"))
m3.metric(t("cmp.n_significant"), f"{n_sig} / {len(table)}", help=t("cmp.sig_help", alpha=ab.alpha))

if a_id == b_id or (
    preset_a.fusion.to_dict() == preset_b.fusion.to_dict()
    and preset_a.rerank.to_dict() == preset_b.rerank.to_dict()
):
    st.info(t("cmp.same"))

left, right = st.columns([3, 2])
with left:
    keys = shown_keys(run.k, table["metric"].astype(str), summary=False, levels=("list", "catalog"))
    shown = table.set_index("metric").loc[keys].reset_index()
    rel = shown["rel_diff"].astype(float).fillna(0.0) * 100
    base = shown["a"].astype(float).abs().replace(0.0, np.nan).to_numpy()
    low = (shown["ci_low"].astype(float).to_numpy() / base) * 100  # the interval, relative
    high = (shown["ci_high"].astype(float).to_numpy() / base) * 100
    colors = [
        charts.change_color(key, d, sig)
        for key, d, sig in zip(keys, shown["diff"].astype(float), shown["significant"], strict=True)
    ]
    fig = go.Figure(
        go.Bar(
            y=[labels.metric_label(str(m)) for m in shown["metric"]],
            x=rel,
            orientation="h",
            marker_color=colors,
            error_x={
                "type": "data",
                "symmetric": False,
                "array": np.nan_to_num(high - rel.to_numpy(), nan=0.0),
                "arrayminus": np.nan_to_num(rel.to_numpy() - low, nan=0.0),
                "color": "#444",
                "thickness": 1.2,
                "width": 3,
            },
            customdata=np.stack(
                [
                    shown["a"].astype(float),
                    shown["b"].astype(float),
                    shown["p_perm"].astype(float),
                    low,
                    high,
                ],
                axis=1,
            ),
            hovertemplate=(
                "%{y}: %{x:+.1f}%<br>"
                + t("cmp.interval_hover")
                + ": %{customdata[3]:+.1f}% … %{customdata[4]:+.1f}%"
                + "<br>A %{customdata[0]:.4f} → B %{customdata[1]:.4f}"
                + "<br>p = %{customdata[2]:.3f}<extra></extra>"
            ),
        )
    )
    fig.update_yaxes(autorange="reversed")
    charts.plot(
        charts.style_fig(
            fig,
            t("cmp.delta_title"),
            t("cmp.delta_x"),
            None,
            height=max(320, 28 * len(shown) + 90),
            legend=False,
        ),
        key="cmp_delta",
    )
    st.caption(t("cmp.delta_help", a=md(label_a), b=md(label_b)))
with right:
    hist = ab.jaccard_hist
    fig = go.Figure(
        go.Bar(
            x=[
                f"{lo:.1f}–{hi:.1f}"
                for lo, hi in zip(hist["bin_low"], hist["bin_high"], strict=True)
            ],
            y=hist["n_users"],
            marker_color=charts.PALETTE[0],
            hovertemplate="Jaccard %{x}: %{y:,}<extra></extra>",
        )
    )
    charts.plot(
        charts.style_fig(
            fig,
            t("cmp.overlap_title"),
            t("cmp.overlap_x"),
            t("common.users"),
            height=320,
            legend=False,
        ),
        key="cmp_overlap",
    )

with st.expander(t("cmp.table")):
    readable = table.assign(metric=[labels.metric_label(str(m)) for m in table["metric"]])
    st.dataframe(
        readable,
        hide_index=True,
        column_config={
            "metric": st.column_config.TextColumn(t("common.metric")),
            "a": st.column_config.NumberColumn("A", format="%.4f"),
            "b": st.column_config.NumberColumn("B", format="%.4f"),
            "diff": st.column_config.NumberColumn("B − A", format="%+.4f"),
            "ci_low": st.column_config.NumberColumn(
                t("cmp.ci_low"), format="%+.4f", help=t("cmp.ci_help")
            ),
            "ci_high": st.column_config.NumberColumn(
                t("cmp.ci_high"), format="%+.4f", help=t("cmp.ci_help")
            ),
            "rel_diff": st.column_config.NumberColumn(t("cmp.rel_diff"), format="percent"),
            "n_users": st.column_config.NumberColumn(t("common.users")),
            "p_ttest": st.column_config.NumberColumn(t("cmp.p_ttest"), format="%.3f"),
            "p_perm": st.column_config.NumberColumn(
                t("cmp.p_perm"), format="%.3f", help=t("cmp.p_perm_help")
            ),
            "significant": st.column_config.CheckboxColumn(t("cmp.significant")),
        },
    )

right, left = st.columns([2, 3])
with left:
    st.subheader(t("cmp.changed"))
    ds = run.dataset
    titles = tables.localized_titles(ds.catalog, ds)
    titles = (
        (titles["title"] if "title" in titles.columns else titles["item_id"]).astype(str).to_numpy()
    )
    changed = ab.changed
    frame = pd.DataFrame(
        {
            "user_id": ds.user_ids.to_external(changed["user_idx"].to_numpy()),
            "jaccard": changed["jaccard"].to_numpy(),
            "a": [[titles[i] for i in row] for row in changed["items_a"]],
            "b": [[titles[i] for i in row] for row in changed["items_b"]],
        }
    )
    st.dataframe(
        frame,
        hide_index=True,
        height=380,
        column_config={
            "user_id": st.column_config.TextColumn(t("common.user"), width="small"),
            "jaccard": st.column_config.NumberColumn(
                t("cmp.overlap_x"), format="%.2f", width="small"
            ),
            "a": st.column_config.ListColumn(t("cmp.list_a")),
            "b": st.column_config.ListColumn(t("cmp.list_b")),
        },
    )
with right:
    st.subheader(t("cmp.category_shift"))
    if "category" in run.dataset.catalog.columns:
        try:
            sa, sb = _category_shares(run, preset_a), _category_shares(run, preset_b)
        except RecsysError as err:
            errors.show_error(err)
        else:
            mix = pd.DataFrame({"a": sa, "b": sb}).fillna(0.0)
            mix["diff"] = mix["b"] - mix["a"]
            mix = mix.sort_values("diff")
            mix.index = plot_texts(mix.index)
            fig = go.Figure(
                go.Bar(
                    y=mix.index,
                    x=mix["diff"] * 100,
                    orientation="h",
                    marker_color=np.where(mix["diff"] >= 0, charts.PALETTE[0], charts.PALETTE[1]),
                    customdata=np.stack([mix["a"] * 100, mix["b"] * 100], axis=1),
                    hovertemplate="%{y}: %{x:+.1f} pt<br>A %{customdata[0]:.1f}% → B %{customdata[1]:.1f}%<extra></extra>",
                )
            )
            charts.plot(
                charts.style_fig(
                    fig,
                    t("cmp.category_title"),
                    t("cmp.category_x"),
                    None,
                    height=max(300, 30 * len(mix) + 90),
                    legend=False,
                ),
                key="cmp_cat",
            )
