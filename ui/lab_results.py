"""Fusion lab: live held-out metrics of the current setting vs the baseline and each model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from recsys.errors import RecsysError
from recsys.evaluation.metrics.glossary import higher_is_better, shown_keys
from recsys.ranking.fusion import FUSERS
from ui.charts import GREY, PALETTE, metric_panels, plot
from ui.errors import show_error
from ui.i18n import lang_is_zh, t
from ui.lab_state import eval_cached
from ui.labels import fusion_text, metric_columns, metric_help, metric_label, model_label
from ui.nav import rerun_fragment

#: A metric change smaller than this is shown as flat.
FLAT = 5e-5
#: Headline figures per row (wider tiles keep four decimals readable).
PER_ROW = 3


def _finite(values: dict, key: str) -> bool:
    v = values.get(key)
    return v is not None and bool(np.isfinite(v))


def _headline(ev, base, k: int) -> None:
    head = shown_keys(
        k, [c for c in ev.fusion.values if _finite(ev.fusion.values, c)], headline=True
    )
    cols = [c for start in range(0, len(head), PER_ROW) for c in st.columns(PER_ROW)]
    for col, key in zip(cols, head, strict=False):
        value = ev.fusion.values.get(key)
        ref = base.fusion.values.get(key)
        delta = None if value is None or ref is None else value - ref
        flat = delta is not None and abs(delta) < FLAT
        extra = t("lab.delta_help")
        if key in ev.fusion.per_user:
            iv = ev.interval(key)
            if np.isfinite(iv.low):
                extra += " " + t("lab.interval", low=iv.low, high=iv.high, n=iv.n)
        help_text = metric_help(key, value, k, extra)
        col.metric(
            metric_label(key, k),
            "—" if value is None else f"{value:.4f}",
            None if delta is None else f"{0.0 if flat else delta:+.4f}",
            delta_color="off" if flat else "normal",
            delta_arrow="off" if flat else "auto",
            help=help_text,
        )


def _charts(table: pd.DataFrame, k: int) -> None:
    colors = [PALETTE[0], GREY] + [PALETTE[(i + 2) % len(PALETTE)] for i in range(len(table) - 2)]
    shown = [c for c in table.columns if table[c].notna().any()]
    accuracy = shown_keys(k, shown, families=["accuracy"], levels=["list"])
    accuracy = [c for c in accuracy if "@" in c]
    beyond = shown_keys(k, shown, families=["exposure", "variety"])
    if accuracy:
        plot(
            metric_panels(table, accuracy, colors, t("lab.chart_accuracy", k=k)),
            key="lab_chart_acc",
        )
    if beyond:
        plot(
            metric_panels(table, beyond, colors, t("lab.chart_beyond", k=k)),
            key="lab_chart_beyond",
        )
    st.caption(t("lab.chart_help"))


def results(run, fusion, rerank, baseline) -> None:
    """Headline metrics with deltas, then chart / table / sample lists tabs."""
    k = rerank.k
    method = FUSERS[fusion.method]
    try:
        if method.needs_training and fusion.method not in run.trained_fusers:
            with st.spinner(t("lab.learning", method=fusion_text(fusion.method))):
                run.trained_fuser(fusion.method)  # once per run, on the validation users
        ev = eval_cached(run, fusion, rerank)  # reruns that change nothing reuse the result
        base = eval_cached(run, *baseline)
    except RecsysError as err:
        show_error(err)
        return
    _headline(ev, base, k)
    if ev.sampled:
        st.caption(t("lab.updated_sample", ms=ev.seconds * 1000, n=ev.n_users, total=ev.population))
        if st.button(t("lab.all_users"), key="lab_all_users_go", help=t("lab.all_users_help")):
            st.session_state["lab_all_users"] = True
            with st.spinner(t("lab.all_users_running", total=ev.population)):
                eval_cached(run, fusion, rerank)
            rerun_fragment()
    else:
        st.caption(t("lab.updated", ms=ev.seconds * 1000, n=ev.n_users))
        if st.session_state.get("lab_all_users") and st.button(
            t("lab.back_to_sample"), key="lab_back_to_sample"
        ):
            st.session_state["lab_all_users"] = False
            rerun_fragment()

    rows = {t("common.fusion"): ev.fusion.values, t("common.baseline"): base.fusion.values}
    rows |= {model_label(m): r.values for m, r in ev.models.items()}
    table = pd.DataFrame.from_dict(rows, orient="index").astype(float)
    table = table[shown_keys(k, [c for c in table.columns if table[c].notna().any()])]
    # lazy tabs: only the open tab is computed and sent (each is a heavy element to redraw)
    tab_chart, tab_table, tab_lists = st.tabs(
        [t("lab.chart"), t("lab.table"), t("lab.sample_lists")], key="lab_view", on_change="rerun"
    )
    if tab_chart.open is not False:
        with tab_chart:
            _charts(table, k)
    if tab_table.open:
        with tab_table:
            _table(table, ev)
    if tab_lists.open:
        with tab_lists:
            sample_lists(run, ev)


def _table(table: pd.DataFrame, ev) -> None:
    """Every metric of the fusion, the baseline and each model, the best of each highlighted."""
    better = [c for c in table.columns if higher_is_better(c) is True]
    worse = [c for c in table.columns if higher_is_better(c) is False]
    styled = table.style.format("{:.4f}", na_rep="—").highlight_max(
        axis=0, color="#dbeafe", subset=better
    )
    if worse:
        styled = styled.highlight_min(axis=0, color="#dbeafe", subset=worse)
    st.dataframe(styled, column_config=metric_columns(table.columns, values=ev.fusion.values))
    st.caption(t("lab.table_help"))


def sample_lists(run, ev, n: int = 8) -> None:
    """A few users' lists (titles, best first) under the current setting."""
    topk = ev.ranked.topk
    ds = run.dataset
    rng = np.random.default_rng(0)
    rows = (
        rng.choice(len(topk.users), size=min(n, len(topk.users)), replace=False)
        if len(topk.users)
        else []
    )
    titles = (
        ds.catalog["title"].astype(str).to_numpy()
        if "title" in ds.catalog.columns
        else ds.item_ids.external_ids
    )
    if lang_is_zh() and "title_zh" in ds.catalog.columns:
        zh = ds.catalog["title_zh"].astype(str).to_numpy()
        titles = np.where(pd.notna(ds.catalog["title_zh"]).to_numpy() & (zh != ""), zh, titles)
    out = []
    for r in sorted(rows):
        items = topk.items[r][topk.items[r] >= 0]
        out.append(
            {
                "user_id": ds.user_ids.to_external([topk.users[r]])[0],
                "list": [str(x) for x in titles[items]],
            }
        )
    st.dataframe(
        pd.DataFrame(out),
        hide_index=True,
        column_config={
            "user_id": st.column_config.TextColumn(t("common.user"), width="small"),
            "list": st.column_config.ListColumn(t("lab.list"), width="large"),
        },
    )
