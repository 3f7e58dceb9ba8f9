"""Data page: the active dataset's readiness report, charts and preview."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from recsys.data.prices import CURRENCIES
from recsys.data.schema import Col
from recsys.errors import RecsysError
from recsys.service.data_summary import BAND_ORDER, UNKNOWN, summary_tables
from ui import state, tables
from ui.charts import PALETTE, hist_log, plot, style_fig
from ui.errors import show_error
from ui.i18n import t
from ui.text import md, plot_texts

FILE_KINDS = ("interactions", "catalog", "users")


# ---------------------------------------------------------------------------- report
def _file_report(f: dict) -> None:
    kept, read = f.get("rows_kept", 0), f.get("rows_read", 0)
    kind = f.get("kind", "")
    st.markdown(
        f"**{t('data.file.' + kind) if kind in FILE_KINDS else kind}** "
        f"{md(f.get('name', ''))} — {md(f.get('encoding', ''))} · "
        + t("data.rows_read_kept", read=read, kept=kept)
    )
    mapping = f.get("mapping") or {}
    if mapping:
        st.caption(" · ".join(f"{t('data.role.' + r)} ← {md(c)}" for r, c in mapping.items()))
    dropped = f.get("dropped") or {}
    if dropped:
        lines = f.get("dropped_lines") or {}
        frame = pd.DataFrame(
            {
                "reason": list(dropped),
                "rows": list(dropped.values()),
                "lines": [", ".join(map(str, lines.get(r, []))) for r in dropped],
            }
        )
        st.warning(t("data.dropped_summary", n=sum(dropped.values()), file=md(f.get("name", ""))))
        st.dataframe(
            frame,
            hide_index=True,
            column_config={
                "reason": st.column_config.TextColumn(t("data.dropped_reason"), width="large"),
                "rows": st.column_config.NumberColumn(t("data.dropped_rows")),
                "lines": st.column_config.TextColumn(t("data.dropped_lines")),
            },
        )
    for note in f.get("notes") or []:
        st.caption(":material/info: " + md(note))


def report_section(report: dict) -> None:
    """The readiness report saved with the dataset: per file kept / dropped rows, warnings."""
    if not report:
        return
    for f in report.get("files", []):
        _file_report(f)
    events = report.get("event_counts") or {}
    if events:
        st.caption(" · ".join(f"{md(k)}: {v:,}" for k, v in events.items()))
    if report.get("time_start"):
        st.caption(f":material/schedule: {report['time_start']} → {report['time_end']}")
    warnings = report.get("warnings") or []
    st.markdown(f"**{t('data.warnings')}**")
    if warnings:
        for w in warnings:  # the library's messages start in lower case ("catalog: ...")
            st.warning(md(w[:1].upper() + w[1:]))
    else:
        st.success(t("data.no_warnings"))


# ---------------------------------------------------------------------------- charts
@st.cache_data(show_spinner=False, max_entries=8)
def _summary(fingerprint: str, _ds) -> dict[str, pd.DataFrame]:
    """``summary_tables`` of a dataset, cached per dataset fingerprint."""
    return summary_tables(_ds)


def _mix_chart(frame: pd.DataFrame, title: str, top: int | None = None) -> go.Figure:
    frame = frame.head(top) if top else frame
    frame = frame.assign(value=plot_texts(frame["value"].replace(UNKNOWN, t("data.chart.unknown"))))
    fig = go.Figure()
    for share, count, name, color in (
        ("items_share", "items", t("data.chart.items"), PALETTE[1]),
        ("pairs_share", "pairs", t("common.interactions"), PALETTE[0]),
    ):
        fig.add_bar(
            y=frame["value"],
            x=frame[share] * 100,
            name=name,
            orientation="h",
            customdata=frame[count],
            hovertemplate="%{y}: %{x:.1f}% (%{customdata:,})<extra>" + name + "</extra>",
            marker_color=color,
        )
    fig.update_yaxes(autorange="reversed")
    return style_fig(
        fig, title, t("common.share") + " (%)", None, height=max(300, 26 * len(frame) + 90)
    )


def _ratings_chart(r: pd.DataFrame) -> go.Figure:
    fig = go.Figure(
        go.Bar(
            x=r["rating"].astype(str),
            y=r["pairs"],
            marker_color=PALETTE[4],
            hovertemplate="%{x}: %{y:,}<extra></extra>",
        )
    )
    fig.update_xaxes(type="category")
    return style_fig(
        fig, t("data.chart.ratings"), t("data.role.rating"), t("data.pairs"), legend=False
    )


def _activity_chart(w: pd.DataFrame) -> go.Figure:
    fig = go.Figure(
        go.Scatter(
            x=w["week"],
            y=w["pairs"],
            mode="lines+markers" if len(w) <= 60 else "lines",
            line={"color": PALETTE[2]},
            hovertemplate="%{x|%Y-%m-%d}: %{y:,}<extra></extra>",
        )
    )
    return style_fig(
        fig, t("data.chart.activity"), t("data.chart.week"), t("data.pairs"), legend=False
    )


def charts_section(ds) -> None:
    """Only the charts this dataset can fill; one line says which attributes are missing."""
    tables = _summary(ds.fingerprint, ds)
    charts: list[tuple[str, go.Figure]] = [
        (
            "data_chart_users",
            hist_log(
                tables["per_user"]["n"].to_numpy(),
                t("data.chart.per_user"),
                t("data.chart.n_interactions"),
                t("data.chart.n_users"),
            ),
        ),
        (
            "data_chart_items",
            hist_log(
                tables["per_item"]["n"].to_numpy(),
                t("data.chart.per_item"),
                t("data.chart.n_interactions"),
                t("data.chart.n_items"),
            ),
        ),
    ]
    missing: list[str] = []
    if "ratings" in tables:
        charts.append(("data_chart_ratings", _ratings_chart(tables["ratings"])))
    if "weekly" in tables:
        charts.append(("data_chart_time", _activity_chart(tables["weekly"])))
    else:
        missing.append(t("data.chart.missing_time"))
    for column, title_key, top, chart_key in (
        (Col.CATEGORY, "data.chart.category_mix", 20, "data_chart_cat"),
        (Col.BRAND, "data.chart.brand_mix", 15, "data_chart_brand"),
        (Col.PRICE_BAND, "data.chart.price_bands", None, "data_chart_price"),
    ):
        if column not in tables:
            missing.append(t(f"common.{column}"))
            continue
        frame = tables[column]
        if column == Col.PRICE_BAND:
            frame = frame.sort_values("value", key=lambda v: v.map(BAND_ORDER).fillna(5))
        charts.append((chart_key, _mix_chart(frame, t(title_key), top=top)))
    for i in range(0, len(charts), 2):
        cols = st.columns(2)
        for col, (key, fig) in zip(cols, charts[i : i + 2], strict=False):
            with col:
                plot(fig, key=key)
    if missing:
        st.caption(":material/info: " + t("data.chart.missing", what=", ".join(missing)))


# ---------------------------------------------------------------------------- summary + preview
def dataset_summary(ds, report: dict) -> None:
    """Headline numbers of the active dataset."""
    m1, m2, m3, m4 = st.columns(4)
    m1.metric(t("common.users"), f"{ds.n_users:,}")
    m2.metric(t("common.items"), f"{ds.n_items:,}")
    m3.metric(
        t("data.pairs"),
        f"{len(ds.interactions):,}",
        help=t("data.pairs_help", n=report.get("n_events") or len(ds.interactions)),
    )
    density = len(ds.interactions) / max(ds.n_users * max(ds.n_items, 1), 1)
    m4.metric(t("common.density"), f"{density:.3%}")
    if ds.user_attribute_columns:
        st.caption(
            t(
                "data.users_with_attributes",
                n=int(ds.users_with_attributes().sum()),
                total=ds.n_users,
                columns=", ".join(md(c) for c in ds.user_attribute_columns),
            )
        )


def currency_setting(ds) -> None:
    """The dataset's currency (a setting kept with it): how every page shows its prices."""
    if "price" not in ds.catalog.columns or not ds.catalog["price"].notna().any():
        return
    ds_id = st.session_state.get("dataset_id")
    current, decimals = tables.price_style()
    options = list(CURRENCIES)
    choice = st.selectbox(
        t("data.currency"),
        options,
        index=options.index(current) if current in options else 0,
        format_func=lambda c: t("data.currency_none") if not c else f"{c} ({CURRENCIES[c]})",
        key=f"data_currency_{ds_id}",
        help=t("data.currency_help"),
    )
    if choice != current and ds_id:
        try:
            state.get_workspace().update_dataset_meta(ds_id, currency=choice)
        except RecsysError as err:
            show_error(err)
            return
        tables.forget_price_style()
        current, decimals = tables.price_style()
    sample = ds.catalog["price"].dropna()
    if len(sample):
        st.caption(t("data.currency_example", example=tables.price_text(sample.iloc[0])))


def preview_section(ds) -> None:
    """The first rows of the catalog, the user attributes and the interactions."""
    st.markdown(f"**{t('data.preview_catalog')}**")
    st.dataframe(
        ds.catalog.head(50),
        hide_index=True,
        height=260,
        column_config={"price": tables.price_column()},
    )
    if ds.user_attribute_columns:
        st.markdown(f"**{t('data.preview_users')}**")
        st.dataframe(ds.users.head(50), hide_index=True, height=260)
    st.markdown(f"**{t('data.preview_events')}**")
    preview = ds.interactions.head(50).assign(
        user_id=lambda f: ds.user_ids.to_external(f[Col.USER_IDX].to_numpy()),
        item_id=lambda f: ds.item_ids.to_external(f[Col.ITEM_IDX].to_numpy()),
    )
    if ds.has_timestamps:
        preview["time"] = pd.to_datetime(preview[Col.TIMESTAMP], unit="s")
    st.dataframe(
        preview.drop(columns=[Col.USER_IDX, Col.ITEM_IDX, Col.TIMESTAMP]),
        hide_index=True,
        height=260,
    )
