"""Export: recommendations (CSV / Parquet) for everyone or a segment, audience lists, the
preset JSON and a short metrics report. The user ids of the recommendations and audiences can be
pseudonymised (HMAC-SHA-256 with the workspace key); the mapping then stays in the workspace."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pandas as pd
import streamlit as st

from recsys.errors import RecsysError
from recsys.ranking.fusion import FUSERS
from recsys.service.export import table_bytes
from recsys.service.pseudonyms import pseudonymised_export
from ui import errors, lab_settings, labels, nav, preset_use, state, tables
from ui.frame import page_header
from ui.i18n import t
from ui.metrics_report import metrics_report
from ui.text import md

AUTO_PREPARE_USERS = 20_000
CHUNK = 5_000


def _segment_users(run, segment: str) -> list[str]:
    return run.users_in_segment(segment)


def _recommendation_table(run, users: list[str], fusion, rerank, bar, in_use) -> pd.DataFrame:
    parts = []
    for start in range(0, len(users), CHUNK):
        parts.append(run.recommend(users[start : start + CHUNK], fusion, rerank).table())
        bar.progress(
            min((start + CHUNK) / max(len(users), 1), 1.0),
            text=t("ex.preparing_n", n=min(start + CHUNK, len(users)), total=len(users)),
        )
    table = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    # provenance: which run, strategy and time produced each row
    table["run_id"] = st.session_state.get("run_id")
    table["preset_id"] = in_use.id
    table["preset"] = in_use.name
    table["preset_modified"] = in_use.modified
    table["fusion_method"] = fusion.method
    table["fusion_weights"] = json.dumps(fusion.weights, sort_keys=True)
    table["settings_version"] = lab_settings.version()  # the lab's version these rows are for
    table["generated_at"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return table


def _shipped(cache: dict, table: pd.DataFrame, file_name: str, pseudo: bool) -> pd.DataFrame:
    """The table as downloaded: with ``pseudo``, user ids pseudonymised (once per ``cache``,
    which lives as long as the table) and the local mapping's path shown, never downloaded."""
    if not pseudo:
        return table
    if cache.get("file") != file_name:
        try:
            out, path = pseudonymised_export(state.get_workspace(), table, file_name)
        except RecsysError as err:
            errors.show_error(err)
            st.stop()
        cache.update(file=file_name, table=out, path=path)
    st.caption(t("ex.pseudo_mapping", path=md(str(cache["path"]))))
    return cache["table"]


# ---------------------------------------------------------------------------- page
page_header("ex.title", "ex.intro")
run = nav.require_run()
fusion, rerank = state.current_configs(run)
in_use = preset_use.in_use(run, fusion, rerank)
ss = st.session_state

pseudo = st.checkbox(t("ex.pseudo"), value=False, key="ex_pseudo", help=t("ex.pseudo_help"))

st.subheader(t("ex.recs"))
c1, c2, c3 = st.columns([2, 1, 1])
segment = (
    c1.segmented_control(
        t("ex.scope"),
        ["all", "new", "cold", "regular", "heavy"],
        default="all",
        format_func=lambda s: t(f"seg.{s}"),
        key="ex_scope",
    )
    or "all"
)
fmt = (
    c2.segmented_control(
        t("ex.format"), ["csv", "parquet"], default="csv", format_func=str.upper, key="ex_fmt"
    )
    or "csv"
)
excel = c3.checkbox(
    t("ex.excel_bom"), value=False, key="ex_bom", help=t("ex.excel_bom_help"), disabled=fmt != "csv"
)
st.caption(
    t(
        "ex.current_setting",
        method=labels.fusion_text(fusion.method),
        k=rerank.k,
        n_rules=sum(r.enabled for r in rerank.rules),  # the rules applied
    )
)

if FUSERS[fusion.method].uses_weights:  # the weights every row records (fusion_weights)
    st.caption(
        t(
            "ex.weights",
            weights=", ".join(
                f"{labels.model_label(m)} {fusion.weights.get(m, 1.0):.2f}" for m in run.model_names
            ),
        ),
        help=t("ex.weights_help"),
    )
users = _segment_users(run, segment)
config_key = (
    st.session_state.get("run_id"),
    repr(in_use),
    lab_settings.version(),
    segment,
    repr(fusion.to_dict()),
    repr(rerank.to_dict()),
)
prepared = ss.get("ex_prepared")
if prepared is None or prepared["key"] != config_key:
    prepared = None
    auto = len(users) <= AUTO_PREPARE_USERS
    if auto or st.button(t("ex.prepare", n=len(users)), key="ex_prepare", type="primary"):
        bar = st.progress(0.0, text=t("ex.preparing"))
        try:
            start = time.perf_counter()
            table = _recommendation_table(run, users, fusion, rerank, bar, in_use)
        except RecsysError as err:
            errors.show_error(err)
            st.stop()
        bar.empty()
        prepared = {"key": config_key, "table": table, "seconds": time.perf_counter() - start}
        ss["ex_prepared"] = prepared

if prepared is not None:
    table = prepared["table"]
    n_users = table["user_id"].nunique() if len(table) else 0
    st.caption(t("ex.ready", rows=len(table), users=n_users, s=prepared["seconds"]))
    name = f"recommendations_{segment}.{fmt}"
    table = _shipped(prepared.setdefault("pseudo", {}), table, name, pseudo)
    data = table_bytes(table, fmt, excel_bom=excel)
    st.download_button(
        t("ex.download", fmt=fmt.upper()),
        data=data,
        file_name=name,
        mime="text/csv" if fmt == "csv" else "application/octet-stream",
        key="ex_download_recs",
        type="primary",
        on_click="ignore",
    )
    with st.expander(t("ex.preview")):
        st.dataframe(
            tables.localized_titles(table.head(100), run.dataset),
            hide_index=True,
            column_config=tables.item_columns(),
        )

st.divider()
st.subheader(t("ex.audience"))
cat = run.dataset.catalog
a1, a2, a3 = st.columns([1, 2, 1])
target_kind = a1.selectbox(
    t("ex.target_kind"),
    [c for c in ("item", "brand", "category") if c == "item" or c in cat.columns],
    format_func=lambda c: t(f"ex.target.{c}"),
    key="ex_target_kind",
)
if target_kind == "item":
    shown = tables.localized_titles(
        cat[["item_id", "title"]] if "title" in cat.columns else cat[["item_id"]], run.dataset
    )
    titles = dict(
        zip(
            shown["item_id"].astype(str),
            shown.get("title", shown["item_id"]).astype(str),
            strict=True,
        )
    )
    target = a2.selectbox(
        t("ex.target"),
        list(titles),
        format_func=lambda i: f"{titles[i]} ({i})",
        key="ex_target_item",
    )
else:
    values = sorted(cat[target_kind].dropna().astype(str).unique())
    target = a2.selectbox(t("ex.target"), values, key=f"ex_target_{target_kind}")
size = int(a3.number_input(t("ex.audience_size"), 10, 100_000, 500, step=50, key="ex_aud_k"))
if st.button(t("ex.build_audience"), key="ex_build_audience"):
    try:
        with st.spinner(t("ex.building")):
            aud = run.audience(
                **{"item_id" if target_kind == "item" else target_kind: target, "k": size},
                fusion=fusion,
            )
        ss["ex_audience"] = (target_kind, target, aud, {})
    except RecsysError as err:
        errors.show_error(err)
if ss.get("ex_audience"):
    kind, value, aud, aud_pseudo = ss["ex_audience"]
    st.caption(t("ex.audience_ready", n=len(aud), target=md(value)))
    aud_name = f"audience_{kind}_{value}.csv"
    aud = _shipped(aud_pseudo, aud, aud_name, pseudo)
    st.download_button(
        t("ex.download_audience"),
        data=table_bytes(aud, "csv"),
        file_name=aud_name,
        mime="text/csv",
        key="ex_download_audience",
        on_click="ignore",
    )

st.divider()
st.subheader(t("ex.preset"))
preset = state.current_preset(run, in_use.name)
preset.id = in_use.id
st.caption(
    t(
        "ex.preset_in_use",
        name=labels.named(in_use.name, in_use.id),
        state=t("ex.preset_modified" if in_use.modified else "ex.preset_as_saved"),
    )
)
st.download_button(
    t("ex.download_preset"),
    data=preset.to_json().encode("utf-8"),
    file_name=in_use.file_name(),
    mime="application/json",
    key="ex_download_preset",
    on_click="ignore",
)
with st.expander(t("ex.preset_preview")):
    st.json(preset.to_dict(), expanded=False)

st.divider()
st.subheader(t("ex.report"))
try:
    report_md, report_csv = metrics_report(
        run, fusion, rerank, st.session_state.get("run_id"), in_use
    )
except RecsysError as err:
    errors.show_error(err)
else:
    r1, r2 = st.columns(2)
    r1.download_button(
        t("ex.download_report_md"),
        data=report_md.encode("utf-8"),
        file_name="metrics_report.md",
        mime="text/markdown",
        key="ex_download_report_md",
        on_click="ignore",
    )
    r2.download_button(
        t("ex.download_report_csv"),
        data=report_csv,
        file_name="metrics.csv",
        mime="text/csv",
        key="ex_download_report_csv",
        on_click="ignore",
    )
    with st.expander(t("ex.report_preview")):
        st.markdown(report_md)
