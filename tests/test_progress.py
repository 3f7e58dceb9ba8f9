"""Training progress weighted by estimated cost: never 100 % before the end, with time left."""

from __future__ import annotations

import pytest

from recsys.data.demo import write_demo
from recsys.data.ingest import load_dataset
from recsys.service.preset import Preset
from recsys.service.progress import (
    MAX_BEFORE_DONE,
    PlanStep,
    TrainingProgress,
    measured_costs,
    training_plan,
)
from recsys.service.training import train_run

MODELS = {"popularity": {}, "item_knn": {}, "svd": {"n_epochs": 3, "n_factors": 8}}


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    catalog, interactions = write_demo(out, n_users=200, n_items=80, n_events=3000, seed=5)
    return load_dataset(interactions, catalog, name="progress demo").dataset


def test_plan_lists_every_fit_pools_tuning_and_strategy(dataset):
    plan = training_plan(dataset, Preset(models=MODELS), tune=True)
    keys = [s.key for s in plan]
    for stage in ("validation", "test", "full"):
        for model in MODELS:
            assert f"{stage}/{model}" in keys
    assert {"pools", "tuning", "strategy"} <= set(keys)
    assert all(s.seconds > 0 for s in plan)
    untuned = {s.key for s in training_plan(dataset, Preset(models=MODELS), tune=False)}
    assert "tuning" not in untuned and "strategy" not in untuned
    # more epochs cost more; the full fit costs more than the validation one
    est = {s.key: s.seconds for s in plan}
    assert est["full/svd"] > est["validation/svd"]
    slower = training_plan(
        dataset, Preset(models={**MODELS, "svd": {"n_epochs": 30, "n_factors": 8}})
    )
    assert {s.key: s.seconds for s in slower}["full/svd"] == pytest.approx(10 * est["full/svd"])


def test_progress_is_weighted_monotone_and_below_one_until_finish():
    clock = iter(range(100)).__next__
    tracker = TrainingProgress([PlanStep("test/a", 1.0), PlanStep("tuning", 9.0)], clock=clock)
    tracker.update("test", "a", 1.0)
    assert tracker.fraction == pytest.approx(0.1)  # the cheap step is a tenth of the work
    tracker.update("tuning", None, 0.5)
    assert tracker.fraction == pytest.approx(0.55)
    tracker.update("tuning", None, 0.2)  # never goes back
    assert tracker.fraction == pytest.approx(0.55)
    tracker.update("tuning", None, 1.0)
    assert tracker.fraction == MAX_BEFORE_DONE < 1.0
    assert tracker.seconds_left == 0.0
    tracker.finish()
    assert tracker.fraction == 1.0


def test_time_left_follows_the_measured_pace():
    now = [0.0]
    tracker = TrainingProgress([PlanStep("a", 10.0), PlanStep("b", 10.0)], clock=lambda: now[0])
    now[0] = 20.0  # step a took twice its estimate
    tracker.update("a", None, 1.0)
    assert tracker.seconds_left == pytest.approx(20.0)


def test_a_real_run_reports_only_planned_steps_and_stays_below_one(dataset):
    preset = Preset(models=MODELS)
    plan = training_plan(dataset, preset, tune=True)
    tracker = TrainingProgress(plan)
    seen: list[tuple[str, float]] = []

    def progress(stage, model, fraction, message):
        key = f"{stage}/{model}" if model else stage
        assert key in tracker.estimates, key  # every step the run reports is in the plan
        tracker.update(stage, model, fraction)
        seen.append((key, tracker.fraction))

    run = train_run(dataset, preset, progress=progress, tune=True)
    fractions = [f for _, f in seen]
    assert fractions == sorted(fractions)
    assert max(fractions) <= MAX_BEFORE_DONE
    last_fit = max(i for i, (key, _) in enumerate(seen) if key.startswith("full/"))
    assert seen[last_fit][1] < MAX_BEFORE_DONE  # pools and tuning still to come
    assert {"pools", "tuning", "strategy"} <= {key for key, _ in seen}
    assert run.tuning_check["objective"] == "ndcg@10"
    assert run.tuning_check["before"] is not None and run.tuning_check["tuned"] is not None


def test_measured_costs_from_earlier_runs():
    manifests = [
        {
            "split_info": {"train_pairs": 8000, "test_pairs": 2000},
            "preset": {"models": {"svd": {"n_epochs": 40}}},
            "timings": {"full/svd": 2.0, "test/svd": 1.5, "pools": 1.0},
        },
        {
            "split_info": {"train_pairs": 800, "test_pairs": 200},
            "timings": {"full/svd": 9.0, "full/item_knn": 0.5},
        },
    ]
    costs = measured_costs(manifests)
    assert costs["svd"] == pytest.approx(2.0 / 2.0 / 10.0)  # newest run, per unit of epochs
    assert costs["item_knn"] == pytest.approx(0.5)
