"""Chart styling and the charts several pages draw (plotly)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from recsys.evaluation.metrics.glossary import higher_is_better
from ui.labels import metric_label

#: Colours per model, stable across pages (plotly qualitative palette).
PALETTE = [
    "#2563eb",
    "#f97316",
    "#16a34a",
    "#dc2626",
    "#9333ea",
    "#0891b2",
    "#ca8a04",
    "#db2777",
    "#4b5563",
    "#65a30d",
    "#7c3aed",
    "#0d9488",
    "#b45309",
    "#be123c",
    "#1d4ed8",
]
GREY = "#9ca3af"


def layout_style(
    title: str, *, height: int = 340, legend: bool = True, x_title: bool = False
) -> dict:
    """The common layout as a plain dict: readable title, CJK-capable font, legend below."""
    return {
        "title": {
            "text": title,
            "x": 0.0,
            "xanchor": "left",
            "y": 0.98,
            "yanchor": "top",
            "font": {"size": 15},
        },
        "height": height,
        "margin": {"l": 10, "r": 10, "t": 44, "b": 10},
        "font": {"family": "Noto Sans, Noto Sans CJK SC, Microsoft YaHei, sans-serif", "size": 12},
        "showlegend": legend,
        # legend below the plot so it never collides with the title
        "legend": {
            "orientation": "h",
            "yanchor": "top",
            "y": -(70 if x_title else 40) / max(height - 150, 120),
            "xanchor": "left",
            "x": 0.0,
            "title": None,
        },
        "hoverlabel": {"font": {"family": "Noto Sans, Noto Sans CJK SC, sans-serif"}},
    }


def style_fig(
    fig: go.Figure,
    title: str,
    x_title: str | None = None,
    y_title: str | None = None,
    *,
    height: int = 340,
    legend: bool = True,
) -> go.Figure:
    """Common layout (``layout_style``) and axis titles with units."""
    fig.update_layout(
        layout_style(title, height=height, legend=legend, x_title=x_title is not None)
    )
    if x_title is not None:
        fig.update_xaxes(title_text=x_title)
    if y_title is not None:
        fig.update_yaxes(title_text=y_title)
    return fig


def plot(fig: go.Figure, key: str | None = None) -> None:
    st.plotly_chart(fig, key=key, config={"displaylogo": False})


def model_color(names: list[str]) -> dict[str, str]:
    return {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(names)}


def hist_log(values: np.ndarray, title: str, x_title: str, y_title: str) -> go.Figure:
    """Counts in logarithmic bins (1, 2, 3-4, 5-9, 10-19 ...) with a log count axis."""
    values = np.asarray(values)
    values = values[values > 0]
    hi = int(values.max()) if len(values) else 1
    edges = [1, 2, 3, 5]
    while edges[-1] <= hi:
        edges.append(edges[-1] * 2 if edges[-1] < 10 else int(edges[-1] * 2))
    edges = np.array(sorted(set(edges)))
    counts, _ = np.histogram(values, bins=edges)
    labels = [
        f"{a}" if b - a == 1 else f"{a}–{b - 1}" for a, b in zip(edges[:-1], edges[1:], strict=True)
    ]
    while len(counts) > 1 and counts[-1] == 0:
        counts, labels = counts[:-1], labels[:-1]
    while len(counts) > 1 and counts[0] == 0:
        counts, labels = counts[1:], labels[1:]
    fig = go.Figure(
        go.Bar(
            x=labels,
            y=counts,
            hovertemplate="%{x}: %{y:,}<extra></extra>",
            marker_color=PALETTE[0],
        )
    )
    fig.update_yaxes(type="log", dtick=1)
    fig.update_xaxes(type="category")
    return style_fig(fig, title, x_title, y_title, legend=False)


GAIN, LOSS, NEUTRAL_CHANGE, GREY_CHANGE = "#16a34a", "#dc2626", "#2563eb", "#9ca3af"


def change_color(key: str, diff: float, significant: bool) -> str:
    """Bar colour of a metric change: green gain / red loss when significant (by the glossary's
    better direction; blue when neither direction is better), grey when not significant."""
    if not significant or not np.isfinite(diff) or diff == 0:
        return GREY_CHANGE
    better = higher_is_better(key)
    if better is None:
        return NEUTRAL_CHANGE
    return GAIN if (diff > 0) == better else LOSS


def metric_panels(table: pd.DataFrame, keys: list[str], colors: list[str], title: str) -> go.Figure:
    """Small multiples: one panel per metric, each with its own y axis, one bar per strategy.

    Metrics on different scales (NDCG ~0.1, coverage ~0.9, novelty in bits) stay readable: each
    panel starts at 0 and fits its own values; the colours (legend) are the strategies.

    Built as one plain figure (a trace per panel, colours per bar, legend-only traces per
    strategy) without plotly's per-call validation: it is redrawn on every Fusion lab change,
    and ``make_subplots`` with a trace per strategy and panel took 0.3-1 s on a busy machine.
    """
    names = [str(n) for n in table.index]
    n = max(len(keys), 1)
    gap = 0.06
    width = (1.0 - gap * (n - 1)) / n
    data: list[dict] = []
    layout: dict = {"annotations": [], "bargap": 0.15}
    for i, key in enumerate(keys, start=1):
        suffix = "" if i == 1 else str(i)
        values = table[key].to_numpy(dtype=float)
        finite = values[np.isfinite(values)]
        top = float(finite.max()) if len(finite) else 1.0
        fmt = ".2f" if key == "novelty" else ".4f"
        label = metric_label(key)
        data.append(
            {
                "type": "bar",
                "x": names,
                "y": [float(v) if np.isfinite(v) else None for v in values],
                "marker": {"color": colors[: len(names)]},
                "xaxis": f"x{suffix}",
                "yaxis": f"y{suffix}",
                "showlegend": False,
                "hovertemplate": f"%{{x}}<br>{label}: %{{y:{fmt}}}<extra></extra>",
            }
        )
        lo = (i - 1) * (width + gap)
        layout[f"xaxis{suffix}"] = {
            "domain": [lo, lo + width],
            "anchor": f"y{suffix}",
            "showticklabels": False,
        }
        layout[f"yaxis{suffix}"] = {
            "anchor": f"x{suffix}",
            "range": [0, top * 1.12 if top > 0 else 1.0],
        }
        layout["annotations"].append(
            {
                "text": label.replace(" ", "<br>", 1) if len(label) > 14 and n > 4 else label,
                "x": lo + width / 2,
                "xref": "paper",
                "xanchor": "center",
                "y": 1.0,
                "yref": "paper",
                "yanchor": "bottom",
                "showarrow": False,
                "font": {"size": 12},
            }
        )
    for name, color in zip(names, colors, strict=False):  # the legend: one entry per strategy
        data.append(
            {
                "type": "bar",
                "x": [None],
                "y": [None],
                "name": name,
                "marker": {"color": color},
                "hoverinfo": "skip",
            }
        )
    layout |= layout_style(title, height=340)
    layout["margin"] = {**layout["margin"], "t": 70}
    # unvalidated and styled as a dict: plotly's validating setters cost 0.1-0.5 s per figure
    return go.Figure({"data": data, "layout": layout}, _validate=False)
