"""The accuracy benchmark behind ``python -m recsys bench --quality``: a script that prints figures.

For each dataset (the demo store, and any log given on the command line) it trains the default
preset the way ``export`` does (weights tuned and the strategy chosen on validation), then
reports on the held-out test part, which nothing tuned on:

* every single model of the run, the tuned weighted blend, learning to rank, and the default
  (the strategy chosen on validation);
* NDCG@10, recall@10 and catalog coverage;
* the paired significance of the default against the best single model on test;
* where the time went: each model's fit per stage, the pools, tuning and the choice.

Protocol: per-user temporal 80/20 split (validation carved the same way out of the training
part); with ratings, a held-out item is relevant when rated at least 4.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from recsys.data.dataset import Dataset
from recsys.evaluation.offline_ab import paired_permutation_test
from recsys.ranking.fusion import FusionConfig
from recsys.service.preset import Preset, default_preset
from recsys.service.run import Evaluation, Run
from recsys.service.stage import STAGES
from recsys.service.training import train_run

#: With ratings, held-out items rated at least this are the relevant ones.
RELEVANT_RATING = 4.0
#: The accuracy cut-off reported.
K = 10


@dataclass
class QualityResult:
    """The benchmark's figures for one dataset."""

    name: str
    shape: tuple[int, int, int]  # users, items, pairs
    table: pd.DataFrame  # one row per strategy: ndcg@10, recall@10, coverage, n_users
    default: str  # the strategy chosen on validation
    best_model: str  # the best single model on test
    ratio: float  # default NDCG@10 / best single model NDCG@10 (test)
    p_value: float  # paired randomisation test, default vs best single model (test)
    choice: dict = field(default_factory=dict)  # validation scores behind the choice
    timings: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0


def benchmark_preset(dataset: Dataset, preset: Preset | None = None) -> Preset:
    """``preset`` (default: the default preset) with the benchmark's protocol.

    Temporal 80/20 split; liked = rating >= 4 when there are ratings.
    """
    preset = Preset.from_dict((preset or default_preset()).to_dict())
    preset.split = {**preset.split, "method": "temporal", "test_fraction": 0.2}
    if dataset.has_ratings:
        preset.split = {**preset.split, "min_rating": RELEVANT_RATING}
    return preset


def run_quality(dataset: Dataset, name: str, preset: Preset | None = None) -> QualityResult:
    """Train ``preset`` (default: the default preset) and score every strategy on the test part.

    Trained as the Train page does: all three stages (validation, test, full) with weight
    tuning and the strategy choice, so the printed time is a whole training.
    """
    t0 = time.perf_counter()
    run = train_run(dataset, benchmark_preset(dataset, preset), stages=STAGES, tune=True)
    seconds = time.perf_counter() - t0
    metric = f"ndcg@{K}"
    rr = run.preset.rerank
    blend_cfg = _tuned_blend(run)
    evaluations: dict[str, Evaluation] = {
        "default": run.evaluate(run.preset.fusion, rr),
        "blend (weighted, tuned)": run.evaluate(blend_cfg, rr),
        "learning to rank": run.evaluate(FusionConfig("ltr", weights=blend_cfg.weights), rr),
    }
    singles = evaluations["default"].models
    rows = {
        label: _row(ev.fusion.values, len(ev.fusion.users)) for label, ev in evaluations.items()
    }
    rows |= {m: _row(r.values, len(r.users)) for m, r in singles.items()}
    table = pd.DataFrame.from_dict(rows, orient="index")
    best = max(singles, key=lambda m: singles[m].values[metric] or 0.0)
    default_per_user = evaluations["default"].fusion.per_user[metric]
    best_per_user = singles[best].per_user[metric]
    diff = default_per_user - best_per_user
    p_value = float(paired_permutation_test(diff[np.isfinite(diff)], 2000))
    best_value = float(singles[best].values[metric] or 0.0)
    default_value = float(evaluations["default"].fusion.values[metric] or 0.0)
    choice = run.strategy_choice
    return QualityResult(
        name=name,
        shape=(dataset.n_users, dataset.n_items, len(dataset.interactions)),
        table=table,
        default=choice.winner if choice else run.preset.fusion.method,
        best_model=best,
        ratio=default_value / best_value if best_value > 0 else float("nan"),
        p_value=p_value,
        choice=choice.to_dict() if choice else {},
        timings=dict(run.timings),
        seconds=seconds,
    )


def _tuned_blend(run: Run) -> FusionConfig:
    """The weighted blend with the weights tuned on validation, whatever won the choice."""
    weights = run.preset.fusion.weights
    if run.strategy_choice and run.strategy_choice.winner not in ("blend", "ltr"):
        weights = run.strategy_choice.blend_weights or weights
    return FusionConfig("weighted", run.preset.fusion.normalization, weights)


def _row(values: dict, n_users: int) -> dict:
    return {
        f"ndcg@{K}": values.get(f"ndcg@{K}"),
        f"recall@{K}": values.get(f"recall@{K}"),
        "coverage": values.get("coverage"),
        "users": n_users,
    }


def format_result(result: QualityResult) -> str:
    """The result as text: the table, the verdict and the time breakdown."""
    users, items, pairs = result.shape
    out = [f"== {result.name}: {users:,} users x {items:,} items, {pairs:,} pairs"]
    out.append(result.table.to_string(float_format=lambda v: f"{v:.4f}"))
    scores = ", ".join(f"{c} {v:.4f}" for c, v in result.choice.get("scores", {}).items())
    out.append(
        f"chosen on validation: {result.default} ({result.choice.get('objective')}: {scores})"
    )
    out.append(
        f"default vs best single model ({result.best_model}) on test: "
        f"x{result.ratio:.3f} NDCG@{K}, paired randomisation p = {result.p_value:.4f}"
    )
    stages: dict[str, float] = {}
    for key, sec in result.timings.items():
        stage = key.split("/", 1)[0] if "/" in key and not key.startswith("fuser") else key
        stages[stage] = stages.get(stage, 0.0) + sec
    out.append(
        "time: "
        + ", ".join(f"{k} {v:.1f} s" for k, v in stages.items())
        + f" | total {result.seconds:.1f} s"
    )
    fits = {k: v for k, v in result.timings.items() if "/" in k and not k.startswith("fuser")}
    out.append("model fits: " + ", ".join(f"{k} {v:.1f} s" for k, v in fits.items()))
    return "\n".join(out)


def result_dict(result: QualityResult) -> dict:
    """A JSON-ready form of ``result``."""
    from recsys.jsonable import jsonable

    return jsonable(
        {
            "name": result.name,
            "shape": {"users": result.shape[0], "items": result.shape[1], "pairs": result.shape[2]},
            "table": result.table.to_dict(orient="index"),
            "default": result.default,
            "best_model": result.best_model,
            "ratio": result.ratio,
            "p_value": result.p_value,
            "choice": result.choice,
            "timings": result.timings,
            "seconds": result.seconds,
        }
    )


def run_benchmark(
    sources: list[tuple[str, Callable[[], Dataset]]],
    write: Callable[[str], None] | None = None,
    preset: Preset | None = None,
) -> list[QualityResult]:
    """Run the benchmark on each ``(name, load)`` and print as it goes."""
    say = write or (lambda text: sys.stdout.write(text + "\n"))
    results = []
    for name, load in sources:
        result = run_quality(load(), name, preset)
        say(format_result(result))
        results.append(result)
    return results


def demo_source(n_users: int = 2000, n_items: int = 500, n_events: int = 50_000) -> Dataset:
    """The demo store as a Dataset, through the same ingest as an upload."""
    from recsys.data.demo import write_demo
    from recsys.data.ingest import load_dataset

    with tempfile.TemporaryDirectory() as tmp:
        catalog, interactions = write_demo(Path(tmp), n_users, n_items, n_events, seed=0)
        return load_dataset(interactions, catalog, name="demo store").dataset
