"""Data page: demo store or uploads, column roles, event weights, readiness report, charts."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from pages import _ui
from pages._i18n import t
from recsys.data.schema import DEFAULT_EVENT_WEIGHTS, Col
from recsys.errors import DataValidationError

INTERACTION_ROLES = ("user", "item", "event", "rating", "quantity", "timestamp")
CATALOG_ROLES = ("item", "title", "description", "category", "brand", "price")
USER_ROLES = ("user",)
UNKNOWN = "\x00unknown"  # placeholder for empty attribute values in the cached chart tables
BAND_ORDER = {"budget": 0, "mid": 1, "premium": 2, "luxury": 3, UNKNOWN: 9}


# ---------------------------------------------------------------------------- cached parsing
@st.cache_data(show_spinner=False, max_entries=16)
def _read_columns(
    digest: str, _data: bytes, file_name: str
) -> tuple[list[str], pd.DataFrame, str, str]:
    """Columns, a preview, encoding and delimiter of an uploaded CSV (cached by content hash)."""
    from recsys.data.ingest import read_csv_bytes

    raw = read_csv_bytes(_data, file_name)
    return list(raw.frame.columns), raw.frame.head(8), raw.encoding, raw.delimiter


@st.cache_data(show_spinner=False, max_entries=16)
def _detect(columns: tuple[str, ...], kind: str) -> dict[str, str]:
    from recsys.data.ingest import detect_roles

    return detect_roles(list(columns), kind)


def _digest(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()


def _read_error(file_name: str, err: Exception) -> str:
    """ "Could not read X: <reason>" without repeating the file name the library already gives."""
    text = str(err)
    prefix = f"file '{file_name}': "
    if text.startswith(prefix):
        text = text[len(prefix) :]
    return t("data.read_failed", file=file_name, err=text) + " " + t("data.kept_active")


# ---------------------------------------------------------------------------- widgets
def _file_roles(file, title_key: str, kind: str, roles) -> tuple[bytes, str, dict] | None:
    """Read an uploaded file's header, show its role pickers and preview.

    Returns ``(bytes, digest, role mapping)``, or None after showing a read error.
    """
    data = file.getvalue()
    digest = _digest(data)
    try:
        columns, head, encoding, delimiter = _read_columns(digest, data, file.name)
    except DataValidationError as err:
        st.error(_read_error(file.name, err))
        return None
    st.markdown(f"**{t(title_key)}** · `{file.name}` · {encoding} · `{delimiter!r}`")
    mapping = _role_pickers(kind, roles, columns, digest)
    st.dataframe(head, hide_index=True, height=180)
    return data, digest, mapping


def _role_pickers(
    kind: str, roles: tuple[str, ...], columns: list[str], digest: str
) -> dict[str, str | None]:
    """One selectbox per role, defaulting to the detected column; returns the mapping."""
    detected = _detect(tuple(columns), kind)
    options: list[str | None] = [None, *columns]
    mapping: dict[str, str | None] = {}
    cols = st.columns(len(roles))
    for col, role in zip(cols, roles, strict=True):
        default = detected.get(role)
        index = options.index(default) if default in options else 0
        mapping[role] = col.selectbox(
            t(f"data.role.{role}"),
            options,
            index=index,
            format_func=lambda c: t("common.none") if c is None else str(c),
            key=f"data_role_{kind}_{role}_{digest[:10]}",
        )
    return mapping


def _event_weights_editor(digest: str) -> dict[str, float]:
    frame = pd.DataFrame(
        {"event": list(DEFAULT_EVENT_WEIGHTS), "weight": list(DEFAULT_EVENT_WEIGHTS.values())}
    )
    edited = st.data_editor(
        frame,
        key=f"data_event_weights_{digest[:10]}",
        hide_index=True,
        disabled=["event"],
        column_config={
            "event": st.column_config.TextColumn(t("data.event")),
            "weight": st.column_config.NumberColumn(
                t("data.weight"), min_value=0.0, max_value=100.0, step=0.5
            ),
        },
        width=360,
    )
    weights = {
        str(e): float(w)
        for e, w in zip(edited["event"], edited["weight"], strict=True)
        if pd.notna(w)
    }
    return weights


def _upload_section(has_datasets: bool) -> None:
    with st.expander(t("data.upload_header"), expanded=not has_datasets):
        st.caption(t("data.upload_help"))
        left, right, third = st.columns(3)
        inter_file = left.file_uploader(
            t("data.upload_interactions"), type=["csv", "tsv", "txt"], key="data_up_inter"
        )
        cat_file = right.file_uploader(
            t("data.upload_catalog"), type=["csv", "tsv", "txt"], key="data_up_cat"
        )
        user_file = third.file_uploader(
            t("data.upload_users"),
            type=["csv", "tsv", "txt"],
            key="data_up_users",
            help=t("data.upload_users_help"),
        )
        if inter_file is None:
            return
        inter = _file_roles(
            inter_file, "data.roles_interactions", "interactions", INTERACTION_ROLES
        )
        if inter is None:
            return
        inter_bytes, inter_digest, inter_map = inter
        st.caption(t("data.roles_help"))

        cat_bytes, cat_map = None, None
        if cat_file is not None:
            cat = _file_roles(cat_file, "data.roles_catalog", "catalog", CATALOG_ROLES)
            if cat is None:
                return
            cat_bytes, _, cat_map = cat

        user_bytes, user_map = None, None
        if user_file is not None:
            users = _file_roles(user_file, "data.roles_users", "users", USER_ROLES)
            if users is None:
                return
            user_bytes, _, user_map = users

        weights = None
        if inter_map.get("event"):
            st.markdown(f"**{t('data.event_weights')}**")
            st.caption(t("data.event_weights_help"))
            weights = _event_weights_editor(inter_digest)

        missing = [r for r in ("user", "item") if not inter_map.get(r)]
        if cat_map is not None and not cat_map.get("item"):
            missing.append("catalog_item")
        if user_map is not None and not user_map.get("user"):
            missing.append("users_user")
        files = {"catalog_item": cat_file, "users_user": user_file}
        for role in missing:
            st.error(t(f"data.missing_role.{role}", file=(files.get(role) or inter_file).name))
        name = st.text_input(
            t("data.name"), value=Path(inter_file.name).stem, key=f"data_name_{inter_digest[:10]}"
        )
        if st.button(t("data.check_save"), type="primary", key="data_save", disabled=bool(missing)):
            from recsys.data.ingest import load_dataset

            try:
                with st.spinner("…"):
                    result = load_dataset(
                        inter_bytes,
                        cat_bytes,
                        interactions_name=inter_file.name,
                        catalog_name=cat_file.name if cat_file is not None else None,
                        interactions_map=inter_map,
                        catalog_map=cat_map,
                        event_weights=weights,
                        name=name or "dataset",
                        users=user_bytes,
                        users_name=user_file.name if user_file is not None else None,
                        users_map=user_map,
                    )
            except DataValidationError as err:
                st.error(t("data.upload_failed", err=str(err)))
                partial = getattr(err, "report", None)
                if partial is not None:
                    with st.expander(t("data.report")):
                        st.code(partial.to_text(), language=None)
                return
            except Exception as err:  # noqa: BLE001 - never a traceback in the UI
                st.error(t("data.upload_failed", err=str(err)))
                return
            _ui.save_loaded(result, name or "dataset", source="upload")
            n_dropped = sum(
                sum((f.get("dropped") or {}).values())
                for f in result.report.to_dict().get("files", [])
            )
            st.session_state["data_flash"] = t("data.saved", name=name) + (
                " " + t("data.saved_dropped", n=n_dropped) if n_dropped else ""
            )
            st.rerun()


# ---------------------------------------------------------------------------- report + charts
def _report_section(report: dict) -> None:
    if not report:
        return
    files = report.get("files", [])
    for f in files:
        kept, read = f.get("rows_kept", 0), f.get("rows_read", 0)
        kind = f.get("kind", "")
        st.markdown(
            f"**{t('data.file.' + kind) if kind in ('interactions', 'catalog', 'users') else kind}** "
            f"`{f.get('name', '')}` — {f.get('encoding', '')} · "
            + t("data.rows_read_kept", read=read, kept=kept)
        )
        mapping = f.get("mapping") or {}
        if mapping:
            st.caption(" · ".join(f"{t('data.role.' + r)} ← `{c}`" for r, c in mapping.items()))
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
            st.warning(t("data.dropped_summary", n=sum(dropped.values()), file=f.get("name", "")))
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
            st.caption(":material/info: " + note)
    events = report.get("event_counts") or {}
    if events:
        st.caption(" · ".join(f"{k}: {v:,}" for k, v in events.items()))
    if report.get("time_start"):
        st.caption(f":material/schedule: {report['time_start']} → {report['time_end']}")
    warnings = report.get("warnings") or []
    st.markdown(f"**{t('data.warnings')}**")
    if warnings:
        for w in warnings:
            st.warning(w)
    else:
        st.success(t("data.no_warnings"))


@st.cache_data(show_spinner=False, max_entries=8)
def _chart_tables(fingerprint: str, _ds) -> dict[str, pd.DataFrame]:
    """Small derived tables for the charts (cached per dataset fingerprint)."""
    inter = _ds.interactions
    cat = _ds.catalog
    out: dict[str, pd.DataFrame] = {
        "per_user": pd.DataFrame({"n": _ds.user_activity()}),
        "per_item": pd.DataFrame({"n": _ds.item_popularity()}),
    }
    pop = _ds.item_popularity()
    for column in (Col.CATEGORY, Col.BRAND, Col.PRICE_BAND):
        if column in cat.columns and cat[column].notna().any():
            values = cat[column].fillna("").astype(str).str.strip().replace("", UNKNOWN).to_numpy()
            frame = pd.DataFrame({"value": values, "pairs": pop})
            agg = (
                frame.groupby("value")
                .agg(items=("pairs", "size"), pairs=("pairs", "sum"))
                .reset_index()
            )
            agg["items_share"] = agg["items"] / max(agg["items"].sum(), 1)
            agg["pairs_share"] = agg["pairs"] / max(agg["pairs"].sum(), 1)
            out[column] = agg.sort_values("pairs", ascending=False)
    if Col.RATING in inter.columns and inter[Col.RATING].notna().any():
        ratings = inter[Col.RATING].dropna().round(2).value_counts().sort_index()
        out["ratings"] = pd.DataFrame({"rating": ratings.index, "pairs": ratings.to_numpy()})
    if _ds.has_timestamps:
        ts = pd.to_datetime(inter[Col.TIMESTAMP].dropna(), unit="s")
        weekly = ts.dt.to_period("W").dt.start_time.value_counts().sort_index()
        out["weekly"] = pd.DataFrame({"week": weekly.index, "pairs": weekly.to_numpy()})
    return out


def _hist_log(values: np.ndarray, title: str, x_title: str, y_title: str) -> go.Figure:
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
            marker_color=_ui.PALETTE[0],
        )
    )
    fig.update_yaxes(type="log", dtick=1)
    fig.update_xaxes(type="category")
    return _ui.style_fig(fig, title, x_title, y_title, legend=False)


def _mix_chart(frame: pd.DataFrame, title: str, top: int | None = None) -> go.Figure:
    frame = frame.head(top) if top else frame
    frame = frame.assign(value=frame["value"].replace(UNKNOWN, t("data.chart.unknown")))
    fig = go.Figure()
    fig.add_bar(
        y=frame["value"],
        x=frame["items_share"] * 100,
        name=t("data.chart.items"),
        orientation="h",
        customdata=frame["items"],
        hovertemplate="%{y}: %{x:.1f}% (%{customdata:,})<extra>"
        + t("data.chart.items")
        + "</extra>",
        marker_color=_ui.PALETTE[1],
    )
    fig.add_bar(
        y=frame["value"],
        x=frame["pairs_share"] * 100,
        name=t("common.interactions"),
        orientation="h",
        customdata=frame["pairs"],
        hovertemplate="%{y}: %{x:.1f}% (%{customdata:,})<extra>"
        + t("common.interactions")
        + "</extra>",
        marker_color=_ui.PALETTE[0],
    )
    fig.update_yaxes(autorange="reversed")
    return _ui.style_fig(
        fig, title, t("common.share") + " (%)", None, height=max(300, 26 * len(frame) + 90)
    )


def _charts_section(ds) -> None:
    """Only the charts this dataset can fill; one line says which attributes are missing."""
    tables = _chart_tables(ds.fingerprint, ds)
    charts: list[tuple[str, go.Figure]] = [
        (
            "data_chart_users",
            _hist_log(
                tables["per_user"]["n"].to_numpy(),
                t("data.chart.per_user"),
                t("data.chart.n_interactions"),
                t("data.chart.n_users"),
            ),
        ),
        (
            "data_chart_items",
            _hist_log(
                tables["per_item"]["n"].to_numpy(),
                t("data.chart.per_item"),
                t("data.chart.n_interactions"),
                t("data.chart.n_items"),
            ),
        ),
    ]
    missing: list[str] = []
    if "ratings" in tables:
        r = tables["ratings"]
        fig = go.Figure(
            go.Bar(
                x=r["rating"].astype(str),
                y=r["pairs"],
                marker_color=_ui.PALETTE[4],
                hovertemplate="%{x}: %{y:,}<extra></extra>",
            )
        )
        fig.update_xaxes(type="category")
        charts.append(
            (
                "data_chart_ratings",
                _ui.style_fig(
                    fig,
                    t("data.chart.ratings"),
                    t("data.role.rating"),
                    t("data.pairs"),
                    legend=False,
                ),
            )
        )
    if "weekly" in tables:
        w = tables["weekly"]
        fig = go.Figure(
            go.Scatter(
                x=w["week"],
                y=w["pairs"],
                mode="lines+markers" if len(w) <= 60 else "lines",
                line={"color": _ui.PALETTE[2]},
                hovertemplate="%{x|%Y-%m-%d}: %{y:,}<extra></extra>",
            )
        )
        charts.append(
            (
                "data_chart_time",
                _ui.style_fig(
                    fig,
                    t("data.chart.activity"),
                    t("data.chart.week"),
                    t("data.pairs"),
                    legend=False,
                ),
            )
        )
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
                _ui.plot(fig, key=key)
    if missing:
        st.caption(":material/info: " + t("data.chart.missing", what=", ".join(missing)))


# ---------------------------------------------------------------------------- page
_ui.page_header("data.title", "data.intro")
flash = st.session_state.pop("data_flash", None)
if flash:
    st.success(flash)

datasets = _ui.list_datasets()
pick_col, demo_col, del_col = st.columns([6, 2, 1.4], vertical_alignment="bottom")
with pick_col:
    if datasets:
        ids = [d["id"] for d in datasets]
        by_id = {d["id"]: d for d in datasets}
        active = st.session_state.get("dataset_id")
        picked = st.selectbox(
            t("data.pick"),
            ids,
            index=ids.index(active) if active in ids else 0,
            format_func=lambda i: _ui.dataset_label(by_id[i]),
            key=f"data_pick_{active}",
        )
        if picked != active:
            _ui.set_active_dataset(picked)
            st.rerun()
    else:
        st.info(t("data.empty"))
with demo_col:
    if st.button(t("data.demo_button"), help=t("data.demo_help"), key="data_demo", width="stretch"):
        try:
            with st.spinner(t("data.demo_creating")):
                _ui.create_demo_dataset()
        except Exception as err:  # noqa: BLE001
            _ui.show_error(err)
        else:
            st.session_state["data_flash"] = t("data.demo_done", name="Demo store")
            st.rerun()

with del_col:
    active_id = st.session_state.get("dataset_id")
    active_entry = next((d for d in datasets if d["id"] == active_id), None)
    with st.popover(
        t("data.delete"),
        icon=":material/delete:",
        disabled=active_entry is None,
        width="stretch",
        help=t("data.delete_help"),
    ):
        if active_entry is not None:
            n_runs = len(_ui.list_runs(active_id))
            st.markdown(t("data.delete_confirm", name=_ui.dataset_label(active_entry)))
            if n_runs:
                st.caption(t("data.delete_runs", n=n_runs))
            if st.button(t("data.delete_yes"), type="primary", key="data_delete_yes"):
                try:
                    _ui.delete_dataset(active_id)
                except Exception as err:  # noqa: BLE001
                    _ui.show_error(err)
                else:
                    st.session_state["data_flash"] = t(
                        "data.deleted", name=active_entry.get("name") or active_id
                    )
                    st.rerun()

_upload_section(bool(datasets))

ds = _ui.get_dataset()
if ds is None:
    st.stop()

meta = _ui.dataset_meta(st.session_state["dataset_id"])
report = meta.get("report") or {}
st.subheader(f"{t('data.active')}: {ds.name}")
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
            columns=", ".join(ds.user_attribute_columns),
        )
    )

tab_charts, tab_report, tab_preview = st.tabs(
    [t("data.charts"), t("data.report"), t("data.preview")]
)
with tab_charts:
    _charts_section(ds)
with tab_report:
    _report_section(report)
with tab_preview:
    st.markdown(f"**{t('data.preview_catalog')}**")
    st.dataframe(ds.catalog.head(50), hide_index=True, height=260)
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
