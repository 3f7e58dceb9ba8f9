"""The incremental-update benchmark behind ``python -m recsys bench --update``.

The demo store (or the log given by ``--interactions``/``--catalog``, e.g. a 100,000-user store
from ``python -m recsys demo-data``) is loaded as an upload would be; its newest ``fraction`` of
events (by time, "yesterday's events") is held back. A run of the default preset is trained on the rest and
saved in a scratch workspace; then the held-back events are folded in with
``recsys.service.incremental.refresh`` (append + update, the path ``python -m recsys update``
takes) and, for comparison, the same preset is retrained from scratch on the grown data. It
reports the seconds of both and the held-out metrics of both (same preset, same split).
"""

from __future__ import annotations

import gc
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from recsys.errors import ConfigError


@dataclass(frozen=True)
class UpdateBench:
    """Figures of one update benchmark.

    Attributes
    ----------
    n_events, n_new : events of the store and the newest ones folded in.
    update_s : seconds of the update (every stage's models, then the candidate pools).
    refresh_s : seconds of the whole ``refresh``: load the saved run, append the CSV, update,
        save the new dataset and run.
    retrain_s : seconds of a full retrain of the same preset on the grown data.
    models : per model ``model, incremental, update_s, retrain_s, speed_up``.
    gap : held-out metrics per strategy, update vs retrain (``retrain_gap``).
    """

    n_events: int
    n_new: int
    update_s: float
    refresh_s: float
    retrain_s: float
    models: pd.DataFrame
    gap: pd.DataFrame


def run_update_bench(
    fraction: float = 0.01,
    n_users: int = 2000,
    n_items: int = 500,
    n_events: int = 50_000,
    models: tuple[str, ...] | None = None,
    interactions: Path | None = None,
    catalog: Path | None = None,
) -> UpdateBench:
    """Measure an update with the newest ``fraction`` of a store's events (module doc).

    Without ``interactions``, a demo store of ``n_users``, ``n_items`` and ``n_events`` is
    generated; with it, that events CSV (and ``catalog``, optional) is used instead.
    """
    from recsys.data.demo import write_demo
    from recsys.data.ingest import load_dataset
    from recsys.service.incremental import (
        held_out_metrics,
        refresh,
        retrain,
        retrain_gap,
        timing_table,
    )
    from recsys.service.persistence import save_run
    from recsys.service.preset import default_preset
    from recsys.service.training import train_run
    from recsys.service.workspace import Workspace

    if not 0 < fraction < 1:
        raise ConfigError("--fraction must be between 0 and 1 (0.01 = the newest 1 % of events).")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        if interactions is None:
            catalog, interactions = write_demo(root / "demo", n_users, n_items, n_events, seed=0)
        elif not Path(interactions).is_file():
            raise ConfigError(f"--interactions: no such file {interactions}.")
        events = pd.read_csv(interactions, dtype=str, keep_default_na=False)
        if "timestamp" not in events.columns:
            raise ConfigError(
                "the update benchmark needs a timestamp column to hold back the newest events."
            )
        events = events.sort_values("timestamp", kind="stable")
        n_new = max(1, round(len(events) * fraction))
        events.iloc[:-n_new].to_csv(root / "old.csv", index=False)
        events.iloc[-n_new:].to_csv(root / "new.csv", index=False)
        loaded = load_dataset(root / "old.csv", catalog, name="bench store")
        workspace = Workspace(root / "workspace")
        dataset_id = workspace.save_dataset("bench store", loaded.events, loaded.catalog, {})
        dataset = workspace.load_dataset(dataset_id)
        run = train_run(dataset, default_preset(models, dataset=dataset))
        run_id = save_run(run, workspace, dataset_id)
        t0 = time.perf_counter()
        done = refresh(workspace, run_id, root / "new.csv")
        refresh_s = time.perf_counter() - t0
        updated = held_out_metrics(done.run)
        # A 100,000-user store cannot hold the updated run's candidate pools and a retrain's at
        # once: the retrain needs only the run's preset, stage names and strategy.
        for stage in done.run.stages.values():
            stage.pool = None
            stage.__dict__.pop("sample_pool", None)
        gc.collect()
        t0 = time.perf_counter()
        full = retrain(done.run, done.appended.dataset)
        retrain_s = time.perf_counter() - t0
    return UpdateBench(
        n_events=len(events),
        n_new=done.appended.n_events,
        update_s=float(done.report.seconds["total"]),
        refresh_s=refresh_s,
        retrain_s=retrain_s,
        models=timing_table(done.report, full),
        gap=retrain_gap(updated, full),
    )


def format_bench(result: UpdateBench) -> str:
    """The benchmark as plain text: the totals, seconds per model and the metric gap."""
    lines = [
        f"{result.n_new:,} new events on {result.n_events - result.n_new:,}: "
        f"update {result.update_s:.1f} s (with loading, appending and saving "
        f"{result.refresh_s:.1f} s), full retrain {result.retrain_s:.1f} s "
        f"({result.retrain_s / max(result.update_s, 1e-9):.1f}x faster)",
        "",
        result.models.round(3).to_string(index=False),
        "",
        result.gap.round(4).to_string(index=False),
    ]
    return "\n".join(lines)


def main(
    fraction: float = 0.01,
    sizes: tuple[int, int, int] = (2000, 500, 50_000),
    write: Callable[[str], None] | None = None,
    *,
    models: tuple[str, ...] | None = None,
    interactions: Path | None = None,
    catalog: Path | None = None,
) -> int:
    """Run the benchmark and write it through ``write`` (stdout by default).

    ``models`` replaces the default preset's models; ``interactions``/``catalog`` the demo store.
    """
    say = write or (lambda text: sys.stdout.write(text + "\n"))
    result = run_update_bench(
        fraction, *sizes, models=models, interactions=interactions, catalog=catalog
    )
    say(format_bench(result))
    return 0


__all__ = ["UpdateBench", "format_bench", "main", "run_update_bench"]
