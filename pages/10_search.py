"""Personalised search preview: a query's results in text order and re-ranked for one shopper."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from recsys.errors import RecsysError
from recsys.service.searching import search_for_user
from ui import nav, state, tables
from ui.errors import error_text
from ui.frame import page_header
from ui.i18n import t

MAX_OPTIONS = 5000


def _results(table: pd.DataFrame, rank: str, run) -> pd.DataFrame:
    rows = table.loc[table[rank].notna()].sort_values(rank)
    rows = tables.localized_titles(rows, run.dataset) if "title" in rows.columns else rows
    out = pd.DataFrame({"#": rows[rank].astype(int).to_numpy()})
    if rank == "personal_rank":  # next to the rank, so a narrow column never hides it
        moved = rows["moved"].to_numpy()
        out[t("search.moved")] = [
            "—"
            if not np.isfinite(m)
            else ("↑" if m > 0 else "↓" if m < 0 else "=") + f"{abs(m):.0f}"
            for m in np.where(np.isfinite(moved), moved, np.nan)
        ]
    for column in ("item_id", "title", "brand", "category"):
        if column in rows.columns:
            out[t(f"search.col.{column}")] = rows[column].to_numpy()
    return out


def _show(box, table: pd.DataFrame) -> None:
    """A result table whose title column is kept medium wide, so brand and category show."""
    title = t("search.col.title")
    config = {title: st.column_config.TextColumn(title, width="medium")}
    box.dataframe(table, hide_index=True, column_config=config)


page_header("search.title", "search.intro")
run = nav.require_run()
ids = run.dataset.user_ids.external_ids
activity = run.dataset.user_activity()
options = [str(u) for u in ids[np.argsort(-activity)][:MAX_OPTIONS]]
c1, c2 = st.columns([1, 2])
user = c1.selectbox(t("search.user"), options, key="search_user", help=t("search.user_help"))
query = c2.text_input(t("search.query"), "case", key="search_query")
weight = st.slider(
    t("search.weight"), 0.0, 1.0, 0.5, 0.05, key="search_weight", help=t("search.weight_help")
)
if query.strip():
    fusion, _ = state.current_configs(run)
    try:
        table = search_for_user(run, user, query, weight, k=10, fusion=fusion)
    except RecsysError as err:
        st.error(error_text(err))
        st.stop()
    if table.empty:
        st.info(t("search.none", query=query))
    else:
        left, right = st.columns(2)
        left.markdown(f"**{t('search.plain')}**")
        _show(left, _results(table, "plain_rank", run))
        right.markdown(f"**{t('search.personal')}**")
        _show(right, _results(table, "personal_rank", run))
        up = int((table["moved"] > 0).sum()) + int(
            (table["plain_rank"].isna() & table["personal_rank"].notna()).sum()
        )
        st.caption(t("search.moved_caption", n=up))
