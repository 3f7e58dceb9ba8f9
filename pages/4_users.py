"""User explorer: profile, fused list with explanations, each model's list, what-if session."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from recsys.errors import RecsysError
from ui import charts, errors, labels, nav, session, state, tables
from ui.frame import page_header
from ui.i18n import lang_is_zh, t
from ui.text import md, plot_text, plot_texts

MAX_OPTIONS = 5000
EVENTS = ("view", "cart", "purchase")


def _pick_user(run) -> str | None:
    ds = run.dataset
    ids = ds.user_ids.external_ids
    activity = ds.user_activity()
    if len(ids) > MAX_OPTIONS:
        query = st.text_input(t("ue.search"), key="ue_query", placeholder="U000123")
        pool = (
            ids[np.char.find(ids.astype(str), query) >= 0] if query else ids[np.argsort(-activity)]
        )
        options = list(pool[:MAX_OPTIONS])
    else:
        options = list(ids)
    if not options:
        st.info(t("ue.no_match"))
        return None
    if "ue_user" in st.session_state and st.session_state["ue_user"] not in options:
        del st.session_state["ue_user"]
    if "ue_user" not in st.session_state:
        # this session's last pick (kept in the URL), else an active user: the list is more
        # telling than for a one-click visitor
        kept = st.session_state.get(session.USER_KEY)
        first = str(ids[int(np.argmax(activity))]) if len(ids) else options[0]
        st.session_state["ue_user"] = kept if kept in options else first
    act = dict(zip(ids, activity, strict=True)) if len(ids) <= MAX_OPTIONS else {}
    user = st.selectbox(
        t("ue.user"),
        options,
        key="ue_user",
        format_func=lambda u: f"{u} · {act[u]} {t('ue.items_short')}" if u in act else str(u),
        help=t("ue.user_help"),
    )
    session.remember_user(user)
    return user


def _profile(run, user: str) -> None:
    profile = run.user_profile(user)
    hist = tables.localized_titles(profile["history"], run.dataset)
    seg, strategy = profile.get("segment", ""), profile.get("strategy", "")
    c1, c2, c3 = st.columns(3)
    c1.metric(t("ue.n_items"), f"{len(hist):,}")
    c2.metric(t("common.segment"), t(f"seg_short.{seg}"), help=t(f"seg.{seg}"))
    c3.metric(t("ue.strategy"), t(f"strategy.{strategy}"))
    if strategy in ("cold", "new"):
        st.info(t("ue.cold_info"))
    ratings = bool(getattr(run.dataset, "has_ratings", False))
    a, b = st.columns(2)
    for col, key, title in (
        (a, "top_categories", t("ue.fav_categories")),
        (b, "top_brands", t("ue.fav_brands")),
    ):
        series = profile.get(key)
        if series is not None and len(series):
            top = series.head(6)
            fig = go.Figure(
                go.Bar(
                    x=top.to_numpy(),
                    y=plot_texts(top.index),
                    orientation="h",
                    marker_color=charts.PALETTE[0],
                    hovertemplate="%{y}: %{x:.1f}<extra></extra>",
                )
            )
            fig.update_yaxes(autorange="reversed")
            with col:
                charts.plot(
                    charts.style_fig(
                        fig,
                        title,
                        t("ue.interest_rating" if ratings else "ue.interest"),
                        None,
                        height=240,
                        legend=False,
                    ),
                    key=f"ue_{key}",
                )
    cols = tables.shown_columns(
        hist,
        [
            "time",
            "item_id",
            "title",
            "rating",
            "category",
            "brand",
            "price",
            "price_band",
            "n_events",
            "purchased",
        ],
        run.dataset,
    )
    st.dataframe(
        hist[cols].head(200),
        hide_index=True,
        height=260,
        column_config=tables.item_columns(
            **{
                "time": st.column_config.DatetimeColumn(t("ue.time"), format="YYYY-MM-DD HH:mm"),
                "title": st.column_config.TextColumn(t("common.title"), width="large"),
                "rating": st.column_config.NumberColumn(
                    t("ue.rating"), format="%.1f ★", width="small"
                ),
                "price": tables.price_column(),
                "n_events": st.column_config.NumberColumn(t("ue.n_events")),
                "purchased": st.column_config.CheckboxColumn(t("ue.purchased")),
            }
        ),
    )


def _cards(frame: pd.DataFrame, per_row: int = 5, key: str = "c") -> None:
    rows = frame.to_dict("records")
    for start in range(0, len(rows), per_row):
        cols = st.columns(per_row)
        for col, rec in zip(cols, rows[start : start + per_row], strict=False):
            with col.container(border=True):
                rank = rec.get("position", rec.get("rank", ""))
                st.markdown(f"**#{rank}** · {md(rec.get('title') or rec.get('item_id'))}")
                parts = [t("ue.card_item", id=md(rec.get("item_id")))]
                parts += [md(rec[c]) for c in ("category", "brand") if pd.notna(rec.get(c))]
                price = tables.price_text(rec.get("price"))
                if price:
                    parts.append(price)
                st.caption(" · ".join(parts))
                tags = []
                if rec.get("rules"):
                    tags.append(":material/sell: " + md(rec["rules"]))
                if rec.get("diversity_moved"):
                    tags.append(":material/shuffle: " + t("ue.moved_diversity"))
                moved = rec.get("moved")
                if moved and pd.notna(moved) and int(moved) != 0 and not rec.get("diversity_moved"):
                    tags.append(
                        (":material/arrow_upward: " if moved > 0 else ":material/arrow_downward: ")
                        + t("ue.moved", n=abs(int(moved)))
                    )
                if rec.get("anchor_title") and pd.notna(rec.get("anchor_title")):
                    tags.append(
                        ":material/history: " + t("ue.because", title=md(rec["anchor_title"]))
                    )
                for tag in tags:
                    st.caption(tag)


def _contrib_chart(frame: pd.DataFrame, names: list[str], key: str) -> None:
    cols = [f"contrib_{m}" for m in names if f"contrib_{m}" in frame.columns]
    if not cols:
        return
    bar_labels = [
        plot_text(f"#{p} {str(ti)[:38]}")
        for p, ti in zip(
            frame.get("position", range(1, len(frame) + 1)),
            frame.get("title", frame["item_id"]),
            strict=False,
        )
    ]
    colors = charts.model_color(names)
    fig = go.Figure()
    for m in names:
        c = f"contrib_{m}"
        if c in frame.columns:
            fig.add_bar(
                y=bar_labels,
                x=frame[c].to_numpy(),
                name=labels.part_label(m),
                orientation="h",
                marker_color=colors[m],
                hovertemplate="%{y}<br>" + labels.part_label(m) + ": %{x:.3f}<extra></extra>",
            )
    fig.update_layout(barmode="stack")
    fig.update_yaxes(autorange="reversed")
    fig = charts.style_fig(
        fig, t("ue.contrib_title"), t("ue.contrib_axis"), None, height=110 + 30 * len(frame)
    )
    # legend between the title and the bars: below, it would cover the axis title
    fig.update_layout(
        legend={"orientation": "h", "y": 1.0, "yanchor": "bottom", "x": 0.0, "xanchor": "left"},
        margin={"t": 76},
    )
    charts.plot(fig, key=key)


def _explained(run, user: str, fusion, rerank) -> pd.DataFrame | None:
    try:
        frame = run.explain(user, fusion, rerank)
    except RecsysError as err:
        st.caption(t("ue.explain_failed", err=errors.error_text(err)))
        try:
            frame = run.recommend([user], fusion, rerank).table()
        except RecsysError as err2:
            errors.show_error(err2)
            return None
    frame = tables.localized_titles(frame, run.dataset)
    if "anchor_item_id" in frame.columns and lang_is_zh():
        anchors = tables.localized_titles(
            frame[["anchor_item_id"]]
            .rename(columns={"anchor_item_id": "item_id"})
            .assign(title=frame.get("anchor_title")),
            run.dataset,
        )
        frame["anchor_title"] = anchors["title"].to_numpy()
    if "category" not in frame.columns and "item_id" in frame.columns:
        cat = run.dataset.catalog.set_index("item_id")
        for c in ("category", "brand", "price"):
            if c in cat.columns:
                frame[c] = frame["item_id"].map(cat[c])
    return frame


@st.fragment
def _what_if(run, user: str, fusion, rerank, base: pd.DataFrame | None) -> None:
    with errors.boundary():  # a fragment rerun does not pass through app.py's boundary
        _what_if_body(run, user, fusion, rerank, base)


def _what_if_body(run, user: str, fusion, rerank, base: pd.DataFrame | None) -> None:
    session: list[tuple[str, str]] = st.session_state.setdefault(f"ue_session_{user}", [])
    ds = run.dataset
    titles = tables.item_titles(ds)
    c1, c2, c3, c4 = st.columns([3, 1, 1, 1], vertical_alignment="bottom")
    item = c1.selectbox(
        t("ue.wi_item"), list(titles), format_func=lambda i: f"{titles[i]} ({i})", key="ue_wi_item"
    )
    event = c2.selectbox(
        t("ue.wi_event"), EVENTS, format_func=lambda e: t(f"event.{e}"), key="ue_wi_event"
    )
    if c3.button(t("ue.wi_add"), key="ue_wi_add", type="primary"):
        session.append((str(item), str(event)))
    if c4.button(t("ue.wi_reset"), key="ue_wi_reset", disabled=not session):
        session.clear()
    if not session:
        st.caption(t("ue.wi_help"))
        return
    st.caption(" → ".join(f"{t('event.' + e)}: {md(titles.get(i, i))}" for i, e in session))
    start = time.perf_counter()
    try:
        recs = run.recommend_what_if(user, session, fusion, rerank)
    except RecsysError as err:
        errors.show_error(err)
        return
    seconds = time.perf_counter() - start
    table = tables.localized_titles(recs.table(), ds)
    before = set(base["item_id"].astype(str)) if base is not None else set()
    table["new"] = ~table["item_id"].astype(str).isin(before)
    st.caption(t("ue.wi_updated", ms=seconds * 1000, n=int(table["new"].sum())))
    cols = tables.shown_columns(
        table, ["rank", "new", "title", "category", "brand", "price", "score"]
    )
    st.dataframe(
        table[cols],
        hide_index=True,
        column_config=tables.item_columns(
            **{
                "new": st.column_config.CheckboxColumn(t("ue.wi_new")),
                "title": st.column_config.TextColumn(t("common.title"), width="large"),
                "score": st.column_config.ProgressColumn(
                    t("common.score"), min_value=0.0, max_value=1.0, format="%.3f"
                ),
                "price": tables.price_column(),
            }
        ),
    )


# ---------------------------------------------------------------------------- page
page_header("ue.title", "ue.intro")
run = nav.require_run()
fusion, rerank = state.current_configs(run)
user = _pick_user(run)
if user is None:
    st.stop()

tab_profile, tab_list, tab_models, tab_whatif = st.tabs(
    [t("ue.profile"), t("ue.fused"), t("ue.models"), t("ue.whatif")]
)
with tab_profile:
    try:
        _profile(run, user)
    except RecsysError as err:
        errors.show_error(err)
        st.stop()
with tab_list:
    explained = _explained(run, user, fusion, rerank)
    if explained is not None and len(explained):
        st.caption(t("ue.fused_help"))
        _cards(explained)
        parts = [c.removeprefix("contrib_") for c in explained.columns if c.startswith("contrib_")]
        _contrib_chart(explained, parts, key="ue_contrib")
    elif explained is not None:
        st.info(t("ue.empty_list"))
with tab_models:
    try:
        lists = run.single_model_lists(user)
    except RecsysError as err:
        errors.show_error(err)
        lists = {}
    fused_ids = (
        set(explained["item_id"].astype(str))
        if explained is not None and "item_id" in explained.columns
        else set()
    )
    names = list(lists)
    for start in range(0, len(names), 3):
        cols = st.columns(3)
        for col, name in zip(cols, names[start : start + 3], strict=False):
            frame = tables.localized_titles(lists[name], run.dataset)
            frame = frame.assign(in_fused=frame["item_id"].astype(str).isin(fused_ids))
            with col:
                st.markdown(f"**{labels.model_label(name)}**")
                st.dataframe(
                    frame[
                        [c for c in ("rank", "in_fused", "title", "category") if c in frame.columns]
                    ],
                    hide_index=True,
                    height=390,
                    column_config=tables.item_columns(
                        **{
                            "in_fused": st.column_config.CheckboxColumn(
                                t("ue.in_fused"), width="small"
                            ),
                            "title": st.column_config.TextColumn(t("common.title"), width="medium"),
                        }
                    ),
                )
    st.caption(t("ue.models_help"))
with tab_whatif:
    st.caption(t("ue.wi_intro"))
    _what_if(run, user, fusion, rerank, explained)
