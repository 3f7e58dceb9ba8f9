"""Shared UI helpers for the pages: session state, workspace access, guards, chart styling.

Presentation only; the recommendation logic lives in ``recsys/``. Trained runs are kept per
browser session in ``st.session_state`` and on disk in the workspace, never in a global
``st.cache_resource``: another session never sees this session's unsaved work.
"""

from __future__ import annotations

import dataclasses
import os
import threading
import time
from collections.abc import Callable
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from pages._i18n import t
from recsys.jsonable import jsonable


def fast_mode() -> bool:
    """Test / demo switch (``FUSION_STUDIO_FAST=1``): a small demo store and few training epochs."""
    return os.environ.get("FUSION_STUDIO_FAST", "") not in ("", "0", "false", "False")


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

_DEMO_LOCK = threading.Lock()

PAGE_FILES: dict[str, str] = {
    "data": "pages/1_data.py",
    "train": "pages/2_train.py",
    "fusion": "pages/3_fusion.py",
    "users": "pages/4_users.py",
    "items": "pages/5_items.py",
    "insights": "pages/6_insights.py",
    "compare": "pages/7_compare.py",
    "export": "pages/8_export.py",
}


def url_path(key: str) -> str:
    """URL of a page: its file name without the order prefix (``pages/3_fusion.py`` -> ``fusion``).

    Must equal the name Streamlit's legacy ``pages/`` mode derives from the file, see
    ``ensure_app_frame``.
    """
    stem = PAGE_FILES[key].rsplit("/", 1)[-1].removesuffix(".py")
    return stem.split("_", 1)[1] if stem[:1].isdigit() and "_" in stem else stem


# ---------------------------------------------------------------------------- session state
def init_state() -> None:
    """Session-state defaults (called by ``app.py`` on every run; idempotent)."""
    ss = st.session_state
    ss.setdefault("lang", "en")
    ss.setdefault("dataset_id", None)
    ss.setdefault("run_id", None)
    ss.setdefault("_datasets", {})  # id -> Dataset (this session's cache)
    ss.setdefault("_runs", {})  # id -> Run (this session's trained / loaded runs)
    ss.setdefault("_restored", False)


def demo_size() -> dict[str, int]:
    """Size of the generated demo store (small in fast / test mode)."""
    if fast_mode():
        return {"n_users": 600, "n_items": 200, "n_events": 12_000}
    return {"n_users": 2000, "n_items": 500, "n_events": 50_000}


def get_workspace():
    """The workspace on disk (root from ``FUSION_STUDIO_WORKSPACE``)."""
    from recsys.service.workspace import Workspace

    root = os.environ.get("FUSION_STUDIO_WORKSPACE") or None
    key = "_workspace"
    ws = st.session_state.get(key)
    if ws is None or getattr(ws, "_fs_root_env", None) != root:
        ws = Workspace(root)
        try:
            ws._fs_root_env = root
        except AttributeError:
            pass
        st.session_state[key] = ws
    return ws


def list_datasets() -> list[dict[str, Any]]:
    """Datasets saved in the workspace as dicts (``id, name, created_at, n_users ...``), newest first."""
    try:
        items = get_workspace().list_datasets()
    except Exception:  # noqa: BLE001 - an unreadable workspace shows as empty
        return []
    return [dataclasses.asdict(d) if dataclasses.is_dataclass(d) else dict(d) for d in items]


def dataset_meta(dataset_id: str) -> dict[str, Any]:
    try:
        meta = get_workspace().dataset_meta(dataset_id)
    except Exception:  # noqa: BLE001
        return {}
    return meta if isinstance(meta, dict) else {}


def create_demo_dataset() -> str:
    """Generate the demo store, ingest it like an upload, save it and make it active."""
    from recsys.data.demo import generate_store
    from recsys.data.ingest import load_dataset

    catalog, interactions, users = generate_store(**demo_size(), seed=0, with_users=True)
    result = load_dataset(
        interactions.to_csv(index=False).encode("utf-8"),
        catalog.to_csv(index=False).encode("utf-8"),
        interactions_name="demo_interactions.csv",
        catalog_name="demo_catalog.csv",
        users=users.to_csv(index=False).encode("utf-8"),
        users_name="demo_users.csv",
        name="Demo store",
    )
    ds_id = save_loaded(result, "Demo store", source="demo")
    return ds_id


def save_loaded(result, name: str, *, source: str) -> str:
    """Save an ingest ``LoadResult`` to the workspace and make it the active dataset."""
    meta = {
        "source": source,
        "report": result.report.to_dict(),
        "mappings": jsonable(getattr(result, "mappings", {})),
    }
    users = getattr(result, "users", None)
    ds_id = get_workspace().save_dataset(name, result.events, result.catalog, meta, users=users)
    st.session_state["_datasets"][ds_id] = result.dataset
    set_active_dataset(ds_id)
    return ds_id


def ensure_workspace_ready() -> bool:
    """On first start with an empty workspace, create the demo store. True if it was created."""
    ss = st.session_state
    if ss.get("_restored"):
        return False
    ss["_restored"] = True
    created = False
    if not list_datasets():
        with _DEMO_LOCK:
            if not list_datasets():
                with st.spinner(t("data.demo_creating")):
                    create_demo_dataset()
                created = True
    if ss.get("dataset_id") is None:
        last = _ws_state("active_dataset")
        ids = [d["id"] for d in list_datasets()]
        ss["dataset_id"] = last if last in ids else (ids[0] if ids else None)
    if ss.get("run_id") is None and ss.get("dataset_id"):
        ss["run_id"] = latest_run_id(ss["dataset_id"])
    return created


def _ws_state(key: str, default: Any = None) -> Any:
    try:
        return get_workspace().get_state().get(key, default)
    except Exception:  # noqa: BLE001
        return default


def _ws_set_state(key: str, value: Any) -> None:
    try:
        get_workspace().set_state(**{key: value})
    except Exception:  # noqa: BLE001 - remembering the last choice is best effort
        pass


def set_active_dataset(dataset_id: str | None) -> None:
    ss = st.session_state
    if ss.get("dataset_id") != dataset_id:
        ss["dataset_id"] = dataset_id
        ss["run_id"] = latest_run_id(dataset_id) if dataset_id else None
        clear_derived()
    _ws_set_state("active_dataset", dataset_id)


def clear_derived() -> None:
    """Forget per-run UI state (fusion lab sliders, tuning results) after a switch."""
    for key in list(st.session_state.keys()):
        if isinstance(key, str) and key.startswith(
            ("lab_", "cur_", "ue_", "ie_", "cmp_", "ex_", "ins_")
        ):
            del st.session_state[key]


def get_dataset():
    """The active ``Dataset`` or None."""
    ss = st.session_state
    ds_id = ss.get("dataset_id")
    if not ds_id:
        return None
    cache = ss["_datasets"]
    if ds_id not in cache:
        if ds_id not in {d["id"] for d in list_datasets()}:  # deleted (maybe by another tab)
            ss["dataset_id"], ss["run_id"], ss["_runs"] = None, None, {}
            clear_derived()
            st.info(t("common.dataset_gone"))
            return None
        try:
            cache[ds_id] = get_workspace().load_dataset(ds_id)
        except Exception as err:  # noqa: BLE001
            st.error(t("common.error_prefix") + str(err))
            return None
    return cache[ds_id]


def delete_dataset(dataset_id: str) -> str | None:
    """Delete a dataset and its runs from the workspace; returns the new active dataset id.

    When the active dataset is deleted, the newest remaining dataset (with its latest run)
    becomes active; with none left the app shows the empty Data page.
    """
    ss = st.session_state
    get_workspace().delete_dataset(dataset_id, with_runs=True)
    ss["_datasets"].pop(dataset_id, None)
    if ss.get("dataset_id") == dataset_id:
        ss["_runs"] = {}
        remaining = [d["id"] for d in list_datasets()]
        set_active_dataset(remaining[0] if remaining else None)
    return ss.get("dataset_id")


def dataset_label(entry: dict[str, Any]) -> str:
    name = entry.get("name") or entry.get("id")
    n_users = entry.get("n_users")
    n_items = entry.get("n_items")
    created = str(entry.get("created_at") or "")[:16].replace("T", " ")
    bits = [str(name)]
    if n_users and n_items:
        bits.append(f"{int(n_users):,} × {int(n_items):,}")
    if created:
        bits.append(created)
    return " · ".join(bits)


# ---------------------------------------------------------------------------- runs
def engine_available() -> bool:
    try:
        from recsys.service import run  # noqa: F401
    except Exception:  # noqa: BLE001
        return False
    return hasattr(run, "Run")


def list_runs(dataset_id: str | None = None) -> list[dict[str, Any]]:
    """Run manifests (``id``/``run_id``, ``created_at``, ``preset`` ...), newest first."""
    try:
        runs = get_workspace().list_runs(dataset_id)
    except Exception:  # noqa: BLE001
        return []
    out = []
    for m in runs:
        rec = dict(m)
        rec.setdefault("id", rec.get("run_id"))
        out.append(rec)
    return out


def latest_run_id(dataset_id: str | None) -> str | None:
    runs = list_runs(dataset_id)
    return runs[0]["id"] if runs else None


def run_label(rec: dict[str, Any]) -> str:
    preset = rec.get("preset") or {}
    models = preset.get("models") or {}
    created = rec.get("created_at") or ""
    if isinstance(created, int | float):
        created = time.strftime("%Y-%m-%d %H:%M", time.localtime(created))
    created = str(created)[:16].replace("T", " ")
    names = ", ".join(model_label(m) for m in models)
    return f"{created} · {names}" if names else f"{created} · {rec.get('id')}"


def get_run():
    """The active trained ``Run`` of this session (loaded from the workspace when needed)."""
    ss = st.session_state
    run_id = ss.get("run_id")
    if not run_id:
        return None
    cache = ss["_runs"]
    if run_id not in cache:
        if not engine_available():
            return None
        from recsys.service.persistence import load_run

        try:
            with st.spinner(t("common.loading_run")):
                cache[run_id] = load_run(get_workspace(), run_id, dataset=get_dataset())
        except Exception as err:  # noqa: BLE001
            st.warning(t("common.run_load_failed", err=str(err)))
            ss["run_id"] = None
            return None
    return cache[run_id]


def set_run(run, run_id: str) -> None:
    ss = st.session_state
    ss["_runs"] = {run_id: run}  # keep one run in memory per session
    ss["run_id"] = run_id
    clear_derived()


# ---------------------------------------------------------------------------- page guards
def ensure_app_frame() -> None:
    """Rerun through ``app.py`` when Streamlit ran a page file on its own.

    On a fresh server, the first request for a deep link (``/fusion``: a browser tab that
    reconnects after a restart) is served with Streamlit's legacy ``pages/`` folder mode until
    ``app.py`` has called ``st.navigation`` once (``PagesManager.uses_pages_directory`` is a
    process-wide flag, set from the folder's existence). That mode names a page after its file
    (``3_fusion.py`` -> ``fusion``), so every ``url_path`` is the file's name (``url_path``):
    the legacy mode finds the page, and this rerun (legacy mode off) resolves to the same page,
    with no "Page not found" popup. Here the page ran without the session defaults and the
    sidebar: switch that mode off and rerun through the router.
    """
    try:
        from streamlit.runtime.pages_manager import PagesManager
    except ImportError:  # pragma: no cover - private module moved
        return
    if "_restored" not in st.session_state:  # app.py never ran in this session
        PagesManager.uses_pages_directory = False
        st.rerun()


def page_header(title_key: str, intro_key: str | None = None) -> None:
    ensure_app_frame()
    init_state()
    st.title(t(title_key))
    if intro_key:
        st.caption(t(intro_key))


def require_dataset():
    ds = get_dataset()
    if ds is None:
        st.info(t("common.need_dataset"))
        st.page_link(PAGE_FILES["data"], label=t("common.go_data"), icon=":material/database:")
        st.stop()
    return ds


def require_run():
    require_dataset()
    if not engine_available():
        st.warning(t("common.engine_missing"))
        st.stop()
    run = get_run()
    if run is None:
        st.info(t("common.need_run"))
        st.page_link(
            PAGE_FILES["train"], label=t("common.go_train"), icon=":material/model_training:"
        )
        st.stop()
    return run


def show_error(err: BaseException) -> None:
    """A short message, never a traceback."""
    st.error(t("common.error_prefix") + str(err))


# ---------------------------------------------------------------------------- charts
def style_fig(
    fig: go.Figure,
    title: str,
    x_title: str | None = None,
    y_title: str | None = None,
    *,
    height: int = 340,
    legend: bool = True,
) -> go.Figure:
    """Common layout: readable title, axis titles with units, CJK-capable font."""
    fig.update_layout(
        title={
            "text": title,
            "x": 0.0,
            "xanchor": "left",
            "y": 0.98,
            "yanchor": "top",
            "font": {"size": 15},
        },
        height=height,
        margin={"l": 10, "r": 10, "t": 44, "b": 10},
        font={"family": "Noto Sans, Noto Sans CJK SC, Microsoft YaHei, sans-serif", "size": 12},
        showlegend=legend,
        # legend below the plot so it never collides with the title
        legend={
            "orientation": "h",
            "yanchor": "top",
            "y": -(70 if x_title else 40) / max(height - 150, 120),
            "xanchor": "left",
            "x": 0.0,
            "title": None,
        },
        hoverlabel={"font": {"family": "Noto Sans, Noto Sans CJK SC, sans-serif"}},
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


def model_label(name: str) -> str:
    """The model's display name (translated when the interface is in Chinese)."""
    from pages._i18n import STRINGS

    if lang_is_zh() and f"model.{name}" in STRINGS:
        return STRINGS[f"model.{name}"][1]
    try:
        from recsys.models import model_class

        return model_class(name).label
    except Exception:  # noqa: BLE001
        return name


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start


def metrics_frame(
    reports: dict[str, dict[str, float]], keys: list[str] | None = None
) -> pd.DataFrame:
    """{row label: {metric: value}} -> DataFrame (rows = models / fusion, columns = metrics)."""
    frame = pd.DataFrame(reports).T
    if keys:
        frame = frame[[k for k in keys if k in frame.columns]]
    return frame


# ---------------------------------------------------------------------------- current strategy
def current_configs(run):
    """This session's current (fusion, rerank) configs; the run's preset until the lab changes them."""
    from recsys.ranking.fusion import FusionConfig
    from recsys.ranking.rerank import RerankConfig

    f = st.session_state.get("cur_fusion")
    r = st.session_state.get("cur_rerank")
    if f is None or r is None:
        return run.preset.fusion, run.preset.rerank
    try:
        return FusionConfig.from_dict(f), RerankConfig.from_dict(r)
    except Exception:  # noqa: BLE001 - a stale config falls back to the preset
        return run.preset.fusion, run.preset.rerank


def weights_tuned(run) -> bool:
    """True when the run's fusion weights were tuned on validation (``train_run(tune=True)``).

    An untrained-weights preset has no weights (every model counts 1.0); tuned weights are
    stored in the run's preset, so a preset with weights for a weighted method was tuned.
    """
    if hasattr(run, "weights_tuned"):
        return bool(run.weights_tuned)
    from recsys.ranking.fusion import FUSERS

    fusion = run.preset.fusion
    method = FUSERS.get(fusion.method)
    return bool(fusion.weights) and bool(getattr(method, "uses_weights", False))


def trained_preset_label(run) -> str:
    """Name of the run's own preset: says whether its weights were tuned on validation."""
    return t("lab.trained_preset_tuned" if weights_tuned(run) else "lab.trained_preset")


def set_current_configs(fusion, rerank) -> None:
    st.session_state["cur_fusion"] = fusion.to_dict()
    st.session_state["cur_rerank"] = rerank.to_dict()


def current_preset(run, name: str | None = None):
    """The run's preset with this session's fusion and re-ranking settings."""
    fusion, rerank = current_configs(run)
    preset = run.preset.with_fusion(fusion).with_rerank(rerank)
    if name:
        preset.name = name
    return preset


def parse_value(text: Any) -> Any:
    """Rule value typed in a cell: numbers become numbers, ``a, b`` becomes a list."""
    if text is None or (isinstance(text, float) and pd.isna(text)):
        return None
    if isinstance(text, int | float):
        return text
    raw = str(text).strip()
    if "," in raw:
        return [parse_value(part) for part in raw.split(",") if part.strip()]
    try:
        number = float(raw)
    except ValueError:
        return raw
    return int(number) if number.is_integer() and "." not in raw else number


def rules_from_rows(rows: pd.DataFrame) -> tuple[list, list[str]]:
    """Rows of the rules editor -> (valid ``Rule`` list, error messages of the invalid rows)."""
    from recsys.ranking.rerank import Rule

    rules, errors = [], []
    for i, row in enumerate(rows.to_dict("records"), start=1):
        kind = row.get("kind")
        if not kind or (isinstance(kind, float) and pd.isna(kind)):
            continue
        data = {
            "kind": str(kind),
            "column": row.get("column") or None,
            "op": row.get("op") or "==",
            "value": parse_value(row.get("value")),
            "factor": float(row["factor"]) if pd.notna(row.get("factor")) else 1.0,
            "item_id": (str(row["item_id"]).strip() or None)
            if pd.notna(row.get("item_id"))
            else None,
            "position": int(row["position"]) if pd.notna(row.get("position")) else 1,
            "segment": row.get("segment") or "all",
        }
        if data["op"] in ("in", "not_in") and not isinstance(data["value"], list):
            data["value"] = [data["value"]]
        try:
            rules.append(Rule(**data))
        except Exception as err:  # noqa: BLE001
            errors.append(f"#{i}: {err}")
    return rules, errors


def rules_to_rows(rules: list) -> pd.DataFrame:
    cols = ["kind", "column", "op", "value", "factor", "item_id", "position", "segment"]
    rows = []
    for r in rules:
        d = r.to_dict() if hasattr(r, "to_dict") else dict(r)
        value = d.get("value")
        if isinstance(value, list | tuple):
            value = ", ".join(map(str, value))
        rows.append({**{c: d.get(c) for c in cols}, "value": None if value is None else str(value)})
    frame = pd.DataFrame(rows, columns=cols)
    return frame.astype(
        {
            "kind": object,
            "column": object,
            "op": object,
            "value": object,
            "item_id": object,
            "segment": object,
        }
    )


def localized_titles(
    frame: pd.DataFrame, dataset, item_col: str = "item_id", title_col: str = "title"
) -> pd.DataFrame:
    """In Chinese mode, show the catalog's ``title_zh`` (when it has one) instead of ``title``."""
    from pages._i18n import lang

    cat = dataset.catalog
    if lang() != "zh" or "title_zh" not in cat.columns or item_col not in frame.columns:
        return frame
    zh = pd.Series(cat["title_zh"].to_numpy(), index=cat["item_id"].astype(str).to_numpy())
    mapped = frame[item_col].astype(str).map(zh)
    out = frame.copy()
    if title_col in out.columns:
        out[title_col] = mapped.where(mapped.notna() & (mapped.astype(str) != ""), out[title_col])
    return out


def fusion_text(name: str, what: str = "label") -> str:
    """Label or description of a fusion method (translated when the interface is in Chinese)."""
    from pages._i18n import STRINGS
    from recsys.ranking.fusion import FUSERS

    key = f"fusion.{name}.{what}"
    if lang_is_zh() and key in STRINGS:
        return STRINGS[key][1]
    method = FUSERS.get(name)
    return getattr(method, what, name) if method is not None else name


def lang_is_zh() -> bool:
    return st.session_state.get("lang", "en") == "zh"


def rerun_fragment() -> None:
    """Rerun only the current fragment; a full rerun when called outside a fragment rerun."""
    from streamlit.errors import StreamlitAPIException

    try:
        st.rerun(scope="fragment")
    except StreamlitAPIException:
        st.rerun()


def item_columns(**extra) -> dict:
    """Translated ``column_config`` for the usual item / user columns, plus ``extra``."""
    cc = st.column_config
    return {
        "user_id": cc.TextColumn(t("common.user")),
        "item_id": cc.TextColumn(t("common.item")),
        "rank": cc.NumberColumn(t("common.rank"), width="small"),
        "position": cc.NumberColumn(t("common.rank"), width="small"),
        "title": cc.TextColumn(t("common.title"), width="large"),
        "category": cc.TextColumn(t("common.category")),
        "brand": cc.TextColumn(t("common.brand")),
        "price": cc.NumberColumn(t("common.price"), format="%.0f"),
        "price_band": cc.TextColumn(t("common.price_band")),
        "segment": cc.TextColumn(t("common.segment")),
        **extra,
    }


def shown_columns(frame: pd.DataFrame, columns: list[str], dataset=None) -> list[str]:
    """The ``columns`` of ``frame`` worth showing: present and not empty for this data.

    A column whose values are all missing (no brand, no price in the catalog) is dropped; so
    are the per-pair flags that say nothing for the dataset as a whole: ``purchased`` when the
    data has no purchases (ratings, views only), ``n_events`` when every pair is one event,
    ``rating`` when the data has no ratings.
    """
    inter = getattr(dataset, "interactions", None)
    out = []
    for c in columns:
        if c not in frame.columns:
            continue
        if inter is not None and c == "purchased":
            if "purchased" not in inter.columns or not inter["purchased"].any():
                continue
        elif inter is not None and c == "n_events":
            if "n_events" not in inter.columns or not (inter["n_events"] > 1).any():
                continue
        elif c == "rating" and dataset is not None and not getattr(dataset, "has_ratings", True):
            continue
        values = frame[c]
        if len(values) and not values.notna().any():
            continue
        if (
            len(values)
            and values.dtype == object
            and not values.astype(str).str.strip().ne("").any()
        ):
            continue
        out.append(c)
    return out


def metric_label(key: str) -> str:
    """``ndcg@10`` -> "NDCG@10" / "NDCG@10"; unknown metric keys are shown as they are."""
    from pages._i18n import STRINGS

    base, _, k = key.partition("@")
    if f"metric.{base}" not in STRINGS:
        return key
    return t(f"metric.{base}", k=k)
