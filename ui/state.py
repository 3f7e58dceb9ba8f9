"""Session state: the workspace, the active dataset and run, and this session's strategy.

A session keeps the ids of its dataset and run; the loaded objects are shared read-only by
every session of the server (``ui.shared_runs``), keyed by id and the checksum of their files.
This session's unsaved work (lab settings, what-if events) stays in its ``st.session_state``:
another session never sees it.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
from typing import Any

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from recsys.data.demo import generate_store
from recsys.data.ingest import load_dataset
from recsys.errors import RecsysError
from recsys.jsonable import jsonable
from recsys.ranking.fusion import FUSERS, FusionConfig
from recsys.ranking.rerank import RerankConfig
from recsys.service.entries import unique_name
from recsys.service.preset_fit import fit_to_dataset
from recsys.service.workspace import Workspace
from ui import lab_settings, shared_runs
from ui.auth import current_user
from ui.errors import error_text
from ui.i18n import t
from ui.text import md

log = logging.getLogger(__name__)

_DEMO_LOCK = threading.Lock()
DEMO_NAME = "Demo store"
#: Widget / result keys that belong to one run (dropped when the dataset or run changes).
DERIVED_PREFIXES = ("lab_", "cur_", "ue_", "ie_", "cmp_", "ex_", "ins_")


def fast_mode() -> bool:
    """Test / demo switch (``FUSION_STUDIO_FAST=1``): a small demo store and few training epochs."""
    return os.environ.get("FUSION_STUDIO_FAST", "") not in ("", "0", "false", "False")


def demo_size() -> dict[str, int]:
    """Size of the generated demo store (small in fast / test mode)."""
    if fast_mode():
        return {"n_users": 600, "n_items": 200, "n_events": 12_000}
    return {"n_users": 2000, "n_items": 500, "n_events": 50_000}


def init_state() -> None:
    """Session-state defaults (called by ``app.py`` on every run; idempotent)."""
    ss = st.session_state
    ss.setdefault("lang", "en")
    ss.setdefault("dataset_id", None)
    ss.setdefault("run_id", None)
    ss.setdefault("_restored", False)


# ---------------------------------------------------------------------------- workspace
def get_workspace() -> Workspace:
    """The workspace on disk (root from ``FUSION_STUDIO_WORKSPACE``)."""
    root = os.environ.get("FUSION_STUDIO_WORKSPACE") or None
    cached = st.session_state.get("_workspace")
    if cached is None or cached[0] != root:
        cached = (root, Workspace(root))
        st.session_state["_workspace"] = cached
    return cached[1]


def list_datasets() -> list[dict[str, Any]]:
    """Datasets saved in the workspace as dicts (``id, name, created_at, n_users ...``), newest first.

    An unreadable workspace shows as empty (and is logged).
    """
    try:
        items = get_workspace().list_datasets()
    except OSError as err:  # WorkspaceError is an OSError
        log.warning("cannot list the datasets: %s", err)
        return []
    return [dataclasses.asdict(d) if dataclasses.is_dataclass(d) else dict(d) for d in items]


def dataset_meta(dataset_id: str) -> dict[str, Any]:
    try:
        meta = get_workspace().dataset_meta(dataset_id)
    except OSError as err:
        log.warning("cannot read the metadata of dataset %s: %s", dataset_id, err)
        return {}
    return meta if isinstance(meta, dict) else {}


# ---------------------------------------------------------------------------- datasets
def demo_dataset() -> dict[str, Any] | None:
    """The newest demo store in the workspace (a record of ``list_datasets``), or None."""
    return next((d for d in list_datasets() if d.get("source") == "demo"), None)


def create_demo_dataset() -> str:
    """Generate the demo store, ingest it like an upload, save it and make it active.

    A second copy gets a free name (``Demo store (2)``), so two copies never look alike.
    """
    name = unique_name(DEMO_NAME, [d["name"] for d in list_datasets()])
    catalog, interactions, users = generate_store(**demo_size(), seed=0, with_users=True)
    result = load_dataset(
        interactions.to_csv(index=False).encode("utf-8"),
        catalog.to_csv(index=False).encode("utf-8"),
        interactions_name="demo_interactions.csv",
        catalog_name="demo_catalog.csv",
        users=users.to_csv(index=False).encode("utf-8"),
        users_name="demo_users.csv",
        name=name,
    )
    return save_loaded(result, name, source="demo")


def save_loaded(result, name: str, *, source: str, replace_id: str | None = None) -> str:
    """Save an ingest ``LoadResult`` to the workspace and make it the active dataset.

    With ``replace_id`` (the user chose to overwrite an entry of the same name), that dataset
    and its runs are deleted once the new one is saved.
    """
    meta = {
        "source": source,
        "report": result.report.to_dict(),
        "mappings": jsonable(getattr(result, "mappings", {})),
        "saved_by": current_user(),
    }
    users = getattr(result, "users", None)
    ws = get_workspace()
    ds_id = ws.save_dataset(name, result.events, result.catalog, meta, users=users)
    shared_runs.share_dataset(ws, ds_id, result.dataset, holder())
    set_active_dataset(ds_id)
    if replace_id and replace_id != ds_id:
        get_workspace().delete_dataset(replace_id, with_runs=True)
        st.session_state["_datasets"].pop(replace_id, None)
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
    if ss.get("dataset_id") is None:  # not in this tab's URL (ui.session)
        ss["dataset_id"] = default_dataset_id()
    if ss.get("run_id") is None and ss.get("dataset_id"):
        ss["run_id"] = latest_run_id(ss["dataset_id"])
    return created


def default_dataset_id() -> str | None:
    """Where a new tab without a dataset in its URL starts: the dataset of the newest saved run,
    else the newest dataset (saved work decides, never another session's current choice)."""
    ids = [d["id"] for d in list_datasets()]
    trained = [r.get("dataset_id") for r in list_runs()]
    return next((d for d in trained if d in ids), ids[0] if ids else None)


def set_active_dataset(dataset_id: str | None) -> None:
    """Make a dataset (and its latest run) active in this session only (see ``ui.session``)."""
    ss = st.session_state
    if ss.get("dataset_id") != dataset_id:
        ss["dataset_id"] = dataset_id
        ss["run_id"] = latest_run_id(dataset_id) if dataset_id else None
        clear_derived()


def clear_derived() -> None:
    """Forget per-run UI state (fusion lab sliders, tuning results) after a switch."""
    for key in list(st.session_state.keys()):
        if isinstance(key, str) and key.startswith(DERIVED_PREFIXES):
            del st.session_state[key]


def holder() -> str | None:
    """This session's id: it holds its run and dataset in the shared caches (``ui.shared_runs``)."""
    ctx = get_script_run_ctx(suppress_warning=True)
    return ctx.session_id if ctx is not None else None


def get_dataset():
    """The active ``Dataset`` or None (a dataset that cannot be read shows why)."""
    ss = st.session_state
    ds_id = ss.get("dataset_id")
    if not ds_id:
        return None
    if ds_id not in {d["id"] for d in list_datasets()}:  # deleted (maybe by another tab)
        ss["dataset_id"], ss["run_id"] = None, None
        clear_derived()
        st.info(t("common.dataset_gone"))
        return None
    try:
        return shared_runs.dataset(get_workspace(), ds_id, holder())
    except RecsysError as err:
        st.error(t("common.error_prefix") + error_text(err))
        return None


def delete_dataset(dataset_id: str) -> str | None:
    """Delete a dataset and its runs from the workspace; returns the new active dataset id.

    When the active dataset is deleted, the newest remaining dataset (with its latest run)
    becomes active; with none left the app shows the empty Data page.
    """
    ss = st.session_state
    ws = get_workspace()
    run_ids = [r["id"] for r in list_runs(dataset_id)]
    ws.delete_dataset(dataset_id, with_runs=True)
    for entry_id in (dataset_id, *run_ids):
        shared_runs.forget(ws, entry_id)
    if ss.get("dataset_id") == dataset_id:
        remaining = [d["id"] for d in list_datasets()]
        set_active_dataset(remaining[0] if remaining else None)
    return ss.get("dataset_id")


# ---------------------------------------------------------------------------- runs
def list_runs(dataset_id: str | None = None) -> list[dict[str, Any]]:
    """Run manifests (``id``/``run_id``, ``created_at``, ``preset`` ...), newest first."""
    try:
        runs = get_workspace().list_runs(dataset_id)
    except OSError as err:
        log.warning("cannot list the runs: %s", err)
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


def get_run():
    """The active trained ``Run`` of this session (shared, read-only: ``ui.shared_runs``).

    Loaded from the workspace once per server. A run that cannot be loaded (``RecsysError``:
    invalid, outdated or trained on other data; nothing in it is unpickled) is dropped with a
    message saying to train again.
    """
    ss = st.session_state
    run_id = ss.get("run_id")
    if not run_id:
        return None
    ds_id = ss.get("dataset_id")
    if get_dataset() is None or ds_id is None:
        return None
    try:
        with st.spinner(t("common.loading_run")):
            return shared_runs.run(get_workspace(), run_id, ds_id, holder())
    except RecsysError as err:
        st.warning(t("common.run_load_failed", err=error_text(err)))
        ss["run_id"] = None
        return None


def set_run(run, run_id: str) -> None:
    """Make a run this session just trained and saved the active one (and share it)."""
    ss = st.session_state
    shared_runs.share_run(get_workspace(), run_id, run, holder())
    ss["run_id"] = run_id
    clear_derived()


def pick_run(run_id: str) -> None:
    """Make a saved run of the active dataset the active run (loaded on first use)."""
    ss = st.session_state
    ss["run_id"] = run_id
    clear_derived()


def invalid_runs() -> list[dict[str, Any]]:
    """Run folders that cannot be used (``run_id``, ``problem``, ``code``); never opened."""
    try:
        return get_workspace().invalid_runs()
    except OSError as err:
        log.warning("cannot list the runs: %s", err)
        return []


def run_size_mb(run_id: str) -> float | None:
    """Disk space of a stored run in MB (None when it cannot be measured)."""
    try:
        return get_workspace().run_size(run_id) / 2**20
    except OSError as err:
        log.warning("cannot measure run %s: %s", run_id, err)
        return None


def delete_run(run_id: str) -> None:
    """Delete one stored run; when it is this session's run, no run is active afterwards."""
    ss = st.session_state
    ws = get_workspace()
    ws.delete_run(run_id)
    shared_runs.forget(ws, run_id)
    if ss.get("run_id") == run_id:
        ss["run_id"] = None
        clear_derived()


# ---------------------------------------------------------------------------- current strategy
def current_configs(run) -> tuple[FusionConfig, RerankConfig]:
    """This session's current (fusion, rerank) settings (``ui.lab_settings``, versioned).

    Rules that cannot apply to the run's dataset (a column or pinned item it lacks) are turned
    off with a warning naming them, so no page breaks on them.
    """
    fusion, rerank = lab_settings.current(run)
    rerank, dropped = fit_to_dataset(rerank, run.dataset)
    if dropped:
        st.warning(t("preset.rules_off", rules=md("; ".join(dropped))), icon=":material/warning:")
    return fusion, rerank


def set_current_configs(fusion: FusionConfig, rerank: RerankConfig) -> int:
    """Commit the lab's settings; returns their version (``ui.lab_settings.commit``)."""
    return lab_settings.commit(fusion, rerank)


def current_preset(run, name: str | None = None):
    """The run's preset with this session's fusion and re-ranking settings."""
    fusion, rerank = current_configs(run)
    preset = run.preset.with_fusion(fusion).with_rerank(rerank)
    if name:
        preset.name = name
    return preset


def weights_tuned(run) -> bool:
    """True when the run's fusion weights were tuned on validation (``train_run(tune=True)``).

    Runs saved before the flag existed: a preset with weights for a weighted method was tuned
    (an untuned preset has no weights; every model counts 1.0).
    """
    if hasattr(run, "weights_tuned"):
        return bool(run.weights_tuned)
    fusion = run.preset.fusion
    method = FUSERS.get(fusion.method)
    return bool(fusion.weights) and bool(getattr(method, "uses_weights", False))
