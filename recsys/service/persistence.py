"""Storing a trained run in the workspace and restoring it (nothing is refitted or rescored).

A run is saved with its fitted models and its candidate pools (``recsys.service.stored_pools``),
so loading one scores nothing: the pools are read back memory-mapped. Runs saved before pools
were stored rebuild them on load. Learned fusers are refitted when first used (cheap and
deterministic), not on load.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from recsys.data.dataset import Dataset
from recsys.errors import RecsysError
from recsys.jsonable import jsonable
from recsys.models import Recommender
from recsys.service.preset import Preset
from recsys.service.run import Run
from recsys.service.run_manifest import invalid
from recsys.service.stage import STAGES
from recsys.service.stored_pools import PoolMismatch, pool_files, read
from recsys.service.strategy import StrategyChoice
from recsys.service.training import install_stages, prepare_run

if TYPE_CHECKING:
    from recsys.service.workspace import Workspace

log = logging.getLogger(__name__)


def save_run(
    run: Run,
    workspace: Workspace,
    dataset_id: str,
    *,
    extra: dict | None = None,
    saved_by: str = "",
) -> str:
    """Store fitted models (``.npz`` + JSON) and the manifest in the workspace; the run id.

    ``extra`` adds JSON entries to the manifest (an incremental update records ``update``);
    each must be a key of ``run_manifest.SCHEMA``. ``saved_by`` records who saved it.
    """
    models = {
        f"{stage}__{name}": model
        for stage, st in run.stages.items()
        for name, model in st.models.items()
    }
    manifest = {
        "preset": run.preset.to_dict(),
        "dataset_fingerprint": run.dataset.fingerprint,
        "dataset_name": run.dataset.name,
        "saved_by": str(saved_by or ""),
        "timings": run.timings,
        "created_at": run.created_at,
        "split_info": jsonable(run.split.info),
        "metrics": {
            name: jsonable(r.values) for name, r in run.single_model_reports("test").items()
        }
        if "test" in run.stages
        else {},
        "trained_fusers": sorted(run.trained_fusers),
        "weights_tuned": run.weights_tuned,
        "strategy_choice": run.strategy_choice.to_dict() if run.strategy_choice else None,
        "tuning_check": jsonable(run.tuning_check),
        "dataset_id": dataset_id,
        **(extra or {}),
    }
    pools, manifest["pools"] = pool_files(run.stages)
    run_id = workspace.save_run(dataset_id, models, manifest, pools=pools)
    log.info("run %s saved (dataset %s, %d fitted models)", run_id, dataset_id, len(models))
    return run_id


def load_run(
    workspace: Workspace,
    run_id: str,
    dataset: Dataset | None = None,
    dataset_id: str | None = None,
) -> Run:
    """Restore a saved run: its models and stored pools are read, nothing is scored.

    Order: the manifest is checked against its schema, then the dataset's fingerprint, and
    only then are the model files read (as data; nothing is unpickled), then the pool files
    (checked against their SHA-256 and against the pools the run would build). A run of an
    older version, of other data or with foreign or altered files raises ``InvalidRunError``.
    A run saved without pools builds them (seconds, not a retrain).
    """
    t0 = time.perf_counter()
    manifest = workspace.run_manifest(run_id)
    if dataset is None:
        dataset = workspace.load_dataset(str(dataset_id or manifest["dataset_id"]))
    models, manifest, _ = workspace.load_run(run_id, fingerprint=dataset.fingerprint)
    try:
        preset = Preset.from_dict(manifest.get("preset", {}))
        choice = manifest.get("strategy_choice")
        strategy = StrategyChoice.from_dict(choice) if choice else None
    except (RecsysError, KeyError, TypeError, ValueError) as err:
        raise invalid(run_id, f"its settings cannot be read ({err})") from err
    by_stage: dict[str, dict[str, Recommender]] = {s: {} for s in STAGES}
    for key, model in models.items():
        stage, _, name = key.partition("__")
        if stage not in by_stage or name != model.name or name not in preset.models:
            raise invalid(run_id, f"model file '{key}' does not belong to its preset")
        if (model.n_users_, model.n_items_) != (dataset.n_users, dataset.n_items):
            raise invalid(run_id, f"model '{key}' does not match its dataset")
        by_stage[stage][name] = model
    try:
        stored = read(
            workspace.run_pools(run_id, manifest),
            manifest.get("pools"),
            n_users=dataset.n_users,
            n_items=dataset.n_items,
        )
    except PoolMismatch as err:
        raise invalid(run_id, str(err)) from err
    run = prepare_run(dataset, preset)
    run.timings = dict(manifest.get("timings", {}))
    run.weights_tuned = bool(manifest.get("weights_tuned", False))
    run.tuning_check = dict(manifest.get("tuning_check") or {})
    run.strategy_choice = strategy
    run.created_at = manifest["created_at"]
    try:
        install_stages(run, {s: m for s, m in by_stage.items() if m}, stored=stored)
    except PoolMismatch as err:
        raise invalid(run_id, str(err)) from err
    log.info(
        "run %s loaded (%d fitted models, pools %s; %.1f s)",
        run_id,
        len(models),
        "read" if stored else "rebuilt",
        time.perf_counter() - t0,
    )
    return run
