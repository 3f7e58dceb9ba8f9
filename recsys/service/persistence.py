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
from recsys.service.stage import STAGES
from recsys.service.strategy import StrategyChoice
from recsys.service.training import install_stages, prepare_run

if TYPE_CHECKING:
    from recsys.service.workspace import Workspace

log = logging.getLogger(__name__)


def save_run(run: Run, workspace: Workspace, dataset_id: str, *, saved_by: str = "") -> str:
    """Store fitted models and the manifest (with who saved it) in the workspace; returns the run id."""
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
        "dataset_id": dataset_id,
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
    """Restore a saved run (pools are rebuilt, which takes seconds, not a retrain)."""
    t0 = time.perf_counter()
    models, manifest, _ = workspace.load_run(run_id)
    if dataset is None:
        dataset = workspace.load_dataset(str(dataset_id or manifest.get("dataset_id")))
    if dataset.fingerprint != manifest.get("dataset_fingerprint"):
        raise RecsysError(
            "this run was trained on different data; train again on the active dataset."
        )
    preset = Preset.from_dict(manifest["preset"])
    run = prepare_run(dataset, preset)
    by_stage: dict[str, dict[str, Recommender]] = {s: {} for s in STAGES}
    for key, model in models.items():
        stage, name = key.split("__", 1)
        by_stage[stage][name] = model
    run.timings = dict(manifest.get("timings", {}))
    run.weights_tuned = bool(manifest.get("weights_tuned", False))
    if manifest.get("strategy_choice"):
        run.strategy_choice = StrategyChoice.from_dict(manifest["strategy_choice"])
    run.created_at = manifest.get("created_at", time.time())
    install_stages(run, {s: m for s, m in by_stage.items() if m})
    fusers = list(manifest.get("trained_fusers", []))
    if manifest.get("has_stacker"):  # manifests written before learned fusers had a registry
        fusers.append("stacking")
    if "validation" in run.stages:
        for method in fusers:
            if method in FUSERS and FUSERS[method].needs_training:
                run.trained_fuser(method)  # cheap, deterministic: refit rather than unpickle
    log.info(
        "run %s loaded (%d fitted models, pools rebuilt; %.1f s)",
        run_id,
        len(models),
        time.perf_counter() - t0,
    )
    return run
