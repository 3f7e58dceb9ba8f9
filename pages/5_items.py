"""Item explorer: similar items (content and bought-together) and the audience most likely to
want an item, exportable as a CSV target list."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from recsys.errors import RecsysError
from recsys.service.export import table_bytes
from ui import charts, errors, nav, state, tables
from ui.frame import page_header
from ui.i18n import t
from ui.text import md

page_header("ie.title", "ie.intro")
run = nav.require_run()
fusion, _ = state.current_configs(run)
ds = run.dataset
cat = tables.localized_titles(ds.catalog, ds)
has_title = "title" in cat.columns
titles = dict(
    zip(
        cat["item_id"].astype(str),
        (cat["title"] if has_title else cat["item_id"]).astype(str),
        strict=True,
    )
)
pop = ds.item_popularity()
order = np.argsort(-pop)
ids = [str(ds.item_ids.external_ids[i]) for i in order]

c1, c2 = st.columns([3, 1])
with c1:
    if "ie_item" not in st.session_state or st.session_state["ie_item"] not in titles:
        st.session_state["ie_item"] = ids[0]
    item = st.selectbox(
        t("ie.item"),
        ids,
        key="ie_item",
        format_func=lambda i: f"{titles[i]} ({i})",
        help=t("ie.item_help"),
    )
with c2:
    k = int(st.number_input(t("ie.k"), 3, 50, 10, key="ie_k"))

row = cat[cat["item_id"].astype(str) == item].iloc[0]
i_idx = int(ds.item_ids.to_internal([item])[0])
facts: list[tuple[str, str]] = []
for column in ("category", "brand"):
    if column in cat.columns and cat[column].notna().any():
        value = row.get(column)
        text = "" if value is None or value != value else str(value).strip()
        facts.append((t(f"common.{column}"), md(text) if text else "—"))
if "price" in cat.columns and cat["price"].notna().any():
    price = tables.price_text(row.get("price"))  # the dataset's currency and decimals
    facts.append((t("common.price"), price or t("ie.price_unknown")))
facts.append((t("ie.buyers"), f"{int(pop[i_idx]):,}"))
for col, (label, value) in zip(st.columns(len(facts)), facts, strict=True):
    col.metric(label, value)

tab_sim, tab_aud = st.tabs([t("ie.similar"), t("ie.audience")])
with tab_sim:
    left, right = st.columns(2)
    for col, by, label in (
        (left, "content", t("ie.by_content")),
        (right, "cooccurrence", t("ie.by_cooc")),
    ):
        with col:
            st.markdown(f"**{label}**")
            try:
                sim = tables.localized_titles(run.similar_items(item, k=k, by=by), ds)
            except RecsysError as err:
                errors.show_error(err)
                continue
            if not len(sim):
                st.info(t("ie.no_similar"))
                continue
            cols = tables.shown_columns(sim, ["similarity", "title", "category", "brand", "price"])
            st.dataframe(
                sim[cols],
                hide_index=True,
                column_config=tables.item_columns(
                    **{
                        "similarity": st.column_config.ProgressColumn(
                            t("ie.similarity"),
                            min_value=0.0,
                            max_value=float(max(sim["similarity"].max(), 1e-9)),
                            format="%.2f",
                        ),
                        "title": st.column_config.TextColumn(t("common.title"), width="large"),
                        "price": tables.price_column(),
                    }
                ),
            )
    st.caption(t("ie.similar_help"))

with tab_aud:
    a1, a2 = st.columns([1, 3], vertical_alignment="bottom")
    size = int(a1.number_input(t("ex.audience_size"), 10, 100_000, 200, step=50, key="ie_aud_k"))
    key = (st.session_state.get("run_id"), item, size, repr(fusion.to_dict()))
    if st.session_state.get("ie_aud_key") != key:
        try:
            with st.spinner(t("ex.building")):
                st.session_state["ie_aud"] = run.audience(item_id=item, k=size, fusion=fusion)
            st.session_state["ie_aud_key"] = key
        except RecsysError as err:
            errors.show_error(err)
            st.stop()
    aud = st.session_state["ie_aud"]

    a2.download_button(
        t("ex.download_audience"),
        data=table_bytes(aud, "csv"),
        file_name=f"audience_item_{item}.csv",
        mime="text/csv",
        key="ie_download",
        on_click="ignore",
    )
    b1, b2 = st.columns([2, 1])
    with b1:
        st.dataframe(
            aud,
            hide_index=True,
            height=360,
            column_config=tables.item_columns(
                **{
                    "score": st.column_config.ProgressColumn(
                        t("ie.likelihood"),
                        min_value=0.0,
                        max_value=1.0,
                        format="%.3f",
                        help=t("ie.likelihood_help"),
                    ),
                    "top_share": st.column_config.NumberColumn(
                        t("ie.top_share"), format="percent", help=t("ie.top_share_help")
                    ),
                }
            ),
        )
    with b2:
        if "segment" in aud.columns and len(aud):
            counts = aud["segment"].value_counts()
            fig = go.Figure(
                go.Bar(
                    x=[t(f"seg.{s}") for s in counts.index],
                    y=counts.to_numpy(),
                    marker_color=charts.PALETTE[0],
                    hovertemplate="%{x}: %{y:,}<extra></extra>",
                )
            )
            charts.plot(
                charts.style_fig(
                    fig, t("ie.aud_segments"), None, t("common.users"), height=300, legend=False
                ),
                key="ie_aud_seg",
            )
    st.caption(t("ie.audience_help"))
