"""Storing a trained run in the workspace and restoring it (pools are rebuilt, models are not)."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from recsys.data.dataset import Dataset
from recsys.errors import RecsysError
from recsys.jsonable import jsonable
from recsys.models import Recommender
from recsys.ranking.fusion import FUSERS
from recsys.service.preset import Preset
from recsys.service.run import Run
from recsys.service.run_manifest import invalid
from recsys.service.stage import STAGES
from recsys.service.strategy import StrategyChoice
from recsys.service.training import install_stages, prepare_run

if TYPE_CHECKING:
    from recsys.service.workspace import Workspace

log = logging.getLogger(__name__)


def save_run(run: Run, workspace: Workspace, dataset_id: str, *, extra: dict | None = None) -> str:
    """Store fitted models (``.npz`` + JSON) and the manifest in the workspace; the run id.

    ``extra`` adds JSON entries to the manifest (an incremental update records ``update``);
    each must be a key of ``run_manifest.SCHEMA``.
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
    run_id = workspace.save_run(dataset_id, models, manifest)
    log.info("run %s saved (dataset %s, %d fitted models)", run_id, dataset_id, len(models))
    return run_id


def load_run(
    workspace: Workspace,
    run_id: str,
    dataset: Dataset | None = None,
    dataset_id: str | None = None,
) -> Run:
    """Restore a saved run (pools are rebuilt, which takes seconds, not a retrain).

    Order: the manifest is checked against its schema, then the dataset's fingerprint, and
    only then are the model files read (as data; nothing is unpickled). A run of an older
    version, of other data or with foreign files raises ``InvalidRunError``.
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
    run = prepare_run(dataset, preset)
    run.timings = dict(manifest.get("timings", {}))
    run.weights_tuned = bool(manifest.get("weights_tuned", False))
    run.tuning_check = dict(manifest.get("tuning_check") or {})
    run.strategy_choice = strategy
    run.created_at = manifest["created_at"]
    install_stages(run, {s: m for s, m in by_stage.items() if m})
    if "validation" in run.stages:
        for method in manifest.get("trained_fusers", []):
            if method in FUSERS and FUSERS[method].needs_training:
                run.trained_fuser(method)  # cheap, deterministic: refit rather than store
    log.info(
        "run %s loaded (%d fitted models, pools rebuilt; %.1f s)",
        run_id,
        len(models),
        time.perf_counter() - t0,
    )
    return run
