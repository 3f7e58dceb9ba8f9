"""Refreshing a trained run with new events, without a full retrain where the models allow.

``update_run(run, dataset)`` takes a run and the grown dataset (the run's data plus appended
events) and returns a *new* run on the grown data: the same preset, the splits redrawn on the
new data, and each stage's models carried from the old stage's training set to the new one by
``recsys.models.update.update_model`` (fold-in, touched rows, swapped counts), or refitted when
a model has no incremental path. The old run is never changed. ``UpdateReport`` says which
models were updated incrementally, which needed a full retrain, and how long each took.

``retrain_gap(updated, retrained)`` puts the held-out metrics of the updated run next to those
of a full retrain on the same data (same preset, same split), so the cost of not retraining is
a number, not a guess.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from recsys.data.dataset import Dataset
from recsys.errors import ConfigError, Message, WorkspaceError
from recsys.models import Recommender
from recsys.models.update import data_delta, update_model
from recsys.ranking.fusion import FUSERS
from recsys.service.run import Run
from recsys.service.training import RunProgress, install_stages, prepare_run, train_run

if TYPE_CHECKING:
    from recsys.service.appending import Appended, Source
    from recsys.service.workspace import Workspace

log = logging.getLogger(__name__)

#: Metrics ``retrain_gap`` compares (at the run's k).
GAP_METRICS: tuple[str, ...] = ("ndcg", "recall", "hit_rate", "coverage")


@dataclass
class UpdateReport:
    """What an incremental update did.

    Attributes
    ----------
    models : one row per (stage, model): ``stage, model, incremental, note, seconds``.
    changed_users : stage -> users whose training rows changed (new users included).
    new_users, new_items : users and items the old run had never seen.
    seconds : ``models`` (all model updates), ``pools`` (candidate pools of the new run),
        ``total``.
    parent_run : id of the run that was updated (None when unsaved).
    """

    models: pd.DataFrame
    changed_users: dict[str, int]
    new_users: int
    new_items: int
    seconds: dict[str, float]
    parent_run: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def incremental(self) -> list[str]:
        """Models updated incrementally in every stage."""
        by_model = self.models.groupby("model", sort=False)["incremental"].all()
        return [str(m) for m, ok in by_model.items() if ok]

    @property
    def retrained(self) -> list[str]:
        """Models that needed a full retrain (in at least one stage)."""
        by_model = self.models.groupby("model", sort=False)["incremental"].all()
        return [str(m) for m, ok in by_model.items() if not ok]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON values (stored in the new run's manifest under ``update``)."""
        return {
            "parent_run": self.parent_run,
            "incremental": self.incremental,
            "retrained": self.retrained,
            "changed_users": {k: int(v) for k, v in self.changed_users.items()},
            "new_users": int(self.new_users),
            "new_items": int(self.new_items),
            "seconds": {k: round(float(v), 3) for k, v in self.seconds.items()},
            "models": [
                {
                    "stage": str(r.stage),
                    "model": str(r.model),
                    "incremental": bool(r.incremental),
                    "note": str(r.note),
                    "seconds": round(float(r.seconds), 3),
                }
                for r in self.models.itertuples()
            ],
            **self.extra,
        }


def update_run(
    run: Run,
    dataset: Dataset,
    *,
    parent_run: str | None = None,
    progress: RunProgress | None = None,
) -> tuple[Run, UpdateReport]:
    """A new run on ``dataset`` (``run``'s data plus new events), updated without a full retrain.

    Parameters
    ----------
    run : a trained run; left unchanged.
    dataset : the grown data; every user and item of ``run.dataset`` must be in it.
    parent_run : the stored id of ``run``, recorded in the report.
    progress : ``progress(stage, model, fraction, message)`` as for ``train_run``.

    Returns
    -------
    (new run, report). The new run has the same stages, preset (weights included) and strategy
    choice; its timings hold the update's seconds per ``update/<stage>/<model>``.
    """
    report = progress or (lambda stage, model, fraction, message: None)
    t_start = time.perf_counter()
    new_run = prepare_run(dataset, run.preset)
    sources = {"validation": new_run.val_split.train, "test": new_run.split.train, "full": dataset}
    rows: list[dict[str, Any]] = []
    changed: dict[str, int] = {}
    fitted: dict[str, dict[str, Recommender]] = {}
    for stage, st in run.stages.items():
        new_train = sources[stage]
        delta = data_delta(st.train, new_train)
        changed[stage] = len(delta.changed_users)
        fitted[stage] = {}
        for name, model in st.models.items():
            report(stage, name, 0.0, Message("updating", "progress.updating"))
            done = update_model(model, st.train, new_train, delta)
            fitted[stage][name] = done.model
            new_run.timings[f"update/{stage}/{name}"] = round(done.seconds, 3)
            rows.append(
                {
                    "stage": stage,
                    "model": name,
                    "incremental": done.incremental,
                    "note": done.note,
                    "seconds": done.seconds,
                }
            )
            report(stage, name, 1.0, Message("updated", "progress.updated"))
    t_models = time.perf_counter() - t_start
    report("pools", None, 0.0, Message("building candidate pools", "progress.pools"))
    t0 = time.perf_counter()
    install_stages(new_run, fitted)
    new_run.weights_tuned = run.weights_tuned
    new_run.strategy_choice = run.strategy_choice
    method = FUSERS[run.preset.fusion.method]
    if method.needs_training and "validation" in new_run.stages:
        new_run.trained_fuser(method.name)
    t_pools = time.perf_counter() - t0
    new_run.timings["update/pools"] = round(t_pools, 3)
    report("pools", None, 1.0, Message("ready", "progress.ready"))
    base = data_delta(run.dataset, dataset)
    out = UpdateReport(
        models=pd.DataFrame(rows, columns=["stage", "model", "incremental", "note", "seconds"]),
        changed_users=changed,
        new_users=len(base.new_users),
        new_items=len(base.new_items),
        seconds={
            "models": t_models,
            "pools": t_pools,
            "total": time.perf_counter() - t_start,
        },
        parent_run=parent_run,
    )
    log.info(
        "run updated: %d incremental, %d retrained, %.1f s",
        len(out.incremental),
        len(out.retrained),
        out.seconds["total"],
    )
    return new_run, out


def retrain(run: Run, dataset: Dataset, *, progress: RunProgress | None = None) -> Run:
    """A full retrain of ``run``'s preset (weights as they are, nothing re-tuned) on ``dataset``."""
    out = train_run(dataset, run.preset, progress=progress, stages=tuple(run.stages))
    out.weights_tuned = run.weights_tuned
    out.strategy_choice = run.strategy_choice
    return out


def held_out_metrics(run: Run) -> pd.DataFrame:
    """The run's held-out (test stage) metrics table: one row per strategy."""
    if "test" not in run.stages:
        raise ConfigError("comparing with a retrain needs runs with a test stage.")
    return run.evaluate(stage="test").table()


def retrain_gap(
    updated: Run | pd.DataFrame,
    retrained: Run | pd.DataFrame,
    metrics: Sequence[str] = GAP_METRICS,
) -> pd.DataFrame:
    """Held-out metrics of the updated run next to a full retrain on the same data.

    Either side may be given as its ``held_out_metrics`` table, taken earlier (a large store
    cannot hold both runs' candidate pools at once). Returns one row per strategy (``fusion``
    then each model) and, per metric ``m`` at the run's k, columns ``m (update)``,
    ``m (retrain)`` and ``m gap`` (update - retrain).
    """
    a = updated if isinstance(updated, pd.DataFrame) else held_out_metrics(updated)
    b = retrained if isinstance(retrained, pd.DataFrame) else held_out_metrics(retrained)
    out = pd.DataFrame(index=a.index)
    for metric in metrics:
        at_k = [c for c in a.columns if str(c).startswith(f"{metric}@")]  # at the run's k
        key = metric if metric in a.columns else (at_k[0] if at_k else metric)
        if key not in a.columns or key not in b.columns:
            continue
        out[f"{key} (update)"] = a[key].astype(float)
        out[f"{key} (retrain)"] = b[key].reindex(a.index).astype(float)
        out[f"{key} gap"] = out[f"{key} (update)"] - out[f"{key} (retrain)"]
    out.index.name = "strategy"
    return out.reset_index()


def timing_table(report: UpdateReport, retrained: Run | None = None) -> pd.DataFrame:
    """Seconds per model (all stages summed): the update next to the full retrain, if given."""
    per = report.models.groupby("model", sort=False).agg(
        incremental=("incremental", "all"), update_s=("seconds", "sum")
    )
    if retrained is not None:
        fit = pd.Series(
            {
                name: sum(v for k, v in retrained.timings.items() if k.endswith(f"/{name}"))
                for name in per.index
            }
        )
        per["retrain_s"] = fit
        per["speed_up"] = np.divide(
            per["retrain_s"],
            per["update_s"],
            out=np.full(len(per), np.nan),
            where=(per["update_s"] > 0) & (per["retrain_s"] > 0),  # 0: below the timer's 1 ms
        )
    return per.reset_index()


@dataclass(frozen=True)
class Refreshed:
    """What ``refresh`` did: the grown dataset, the updated run (saved) and the report."""

    appended: Appended
    run: Run
    run_id: str
    report: UpdateReport


def refresh(
    workspace: Workspace,
    run_id: str,
    events: Source,
    *,
    file_name: str | None = None,
    catalog: Source | None = None,
    catalog_name: str | None = None,
    interactions_map: Mapping[str, str | None] | None = None,
    event_weights: Mapping[str, float] | None = None,
    progress: RunProgress | None = None,
) -> Refreshed:
    """Append ``events`` to the dataset of stored run ``run_id`` and save the updated run.

    Both the grown dataset and the updated run are new workspace entries; the run's manifest
    records under ``update`` its parent run and which models were updated incrementally. The
    old dataset and run are left as they were.
    """
    from recsys.service.appending import append_to_workspace
    from recsys.service.persistence import load_run, save_run

    manifest = next((m for m in workspace.list_runs() if m.get("run_id") == run_id), None)
    if manifest is None:
        raise WorkspaceError(f"run '{run_id}' is not in the workspace.")
    dataset_id = str(manifest["dataset_id"])
    old = load_run(workspace, run_id, dataset_id=dataset_id)
    grown = append_to_workspace(
        workspace,
        dataset_id,
        events,
        catalog=catalog,
        file_name=file_name,
        catalog_name=catalog_name,
        interactions_map=interactions_map,
        event_weights=event_weights,
    )
    new_run, report = update_run(old, grown.dataset, parent_run=run_id, progress=progress)
    report.extra.update(parent_dataset=dataset_id, events=grown.n_events)
    new_id = save_run(new_run, workspace, grown.dataset_id, extra={"update": report.to_dict()})
    return Refreshed(grown, new_run, new_id, report)


__all__ = [
    "GAP_METRICS",
    "Refreshed",
    "UpdateReport",
    "refresh",
    "retrain",
    "retrain_gap",
    "held_out_metrics",
    "timing_table",
    "update_run",
]
