import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from recsys.errors import ConfigError
from recsys.evaluation.metrics import evaluate_lists
from recsys.evaluation.tuning import pareto_front, tune_knobs, tune_weights, violation
from recsys.ranking.topk import TopK, top_k_indices

TARGET = np.array([0.6, 0.3, 0.1])
NAMES = ["a", "b", "c"]


def _peaked(weights):
    w = np.array([weights[n] for n in NAMES])
    return {"ndcg@10": 1.0 - float(np.sum((w - TARGET) ** 2)), "coverage": float(w[2])}


def test_finds_known_peak():
    res = tune_weights(_peaked, NAMES, n_samples=100, n_refine=60, seed=0)
    w = np.array([res.best_weights[n] for n in NAMES])
    assert np.abs(w - TARGET).max() < 0.05
    assert res.feasible
    assert sum(res.best_weights.values()) == pytest.approx(1.0)
    # vertices + centre + samples + refine, one row each, with weights, metrics and flags
    assert len(res.trials) == 3 + 1 + 100 + 60
    assert {"a", "b", "c", "ndcg@10", "coverage", "feasible", "phase"} <= set(res.trials.columns)
    assert (res.trials["phase"] == "refine").sum() == 60


def test_constraint_excludes_unconstrained_optimum():
    res = tune_weights(_peaked, NAMES, constraints={"coverage": (">=", 0.4)}, seed=0)
    assert res.feasible
    assert res.best_weights["c"] >= 0.4
    assert res.best_metrics["coverage"] >= 0.4
    feasible = res.trials[res.trials["feasible"]]
    assert res.best_metrics["ndcg@10"] == pytest.approx(feasible["ndcg@10"].max())
    assert (~res.trials["feasible"]).any()  # infeasible trials are kept in the table


def test_infeasible_says_so():
    res = tune_weights(
        _peaked, NAMES, constraints={"coverage": (">=", 2.0)}, n_samples=20, n_refine=5
    )
    assert not res.feasible
    assert "no trial meets" in res.message
    assert res.best_weights["c"] == pytest.approx(1.0)  # closest to the bound


def test_deterministic_per_seed():
    a = tune_weights(_peaked, NAMES, n_samples=30, n_refine=10, seed=5)
    b = tune_weights(_peaked, NAMES, n_samples=30, n_refine=10, seed=5)
    c = tune_weights(_peaked, NAMES, n_samples=30, n_refine=10, seed=6)
    pd.testing.assert_frame_equal(a.trials, b.trials)
    assert not a.trials[NAMES].equals(c.trials[NAMES])


def test_real_pool_prefers_perfect_model():
    rng = np.random.default_rng(0)
    n_users, n_items = 200, 60
    truth = sp.random(n_users, n_items, density=0.08, format="csr", random_state=3)
    truth.data[:] = 1
    train = sp.random(n_users, n_items, density=0.1, format="csr", random_state=4)
    perfect = truth.toarray() + 0.01 * rng.random((n_users, n_items))
    noise = rng.random((n_users, n_items))

    def minmax(s):
        lo, hi = s.min(axis=1, keepdims=True), s.max(axis=1, keepdims=True)
        return (s - lo) / (hi - lo)

    fa, fb = minmax(perfect), minmax(noise)
    users = np.arange(n_users, dtype=np.int32)

    def evaluate(w):
        idx, vals = top_k_indices(w["A"] * fa + w["B"] * fb, 10)
        return evaluate_lists(TopK(users, idx, vals), truth, k=10, train=train).values

    res = tune_weights(evaluate, ["A", "B"], n_samples=20, n_refine=10, seed=0)
    assert res.best_weights["A"] > 0.7
    assert res.best_metrics["ndcg@10"] > 0.9
    assert res.seconds > 0


def test_tune_knobs_random_and_grid():
    def evaluate(p):
        return {
            "ndcg@10": -((p["mmr_lambda"] - 0.8) ** 2) - (p["novelty"] - 0.1) ** 2,
            "depth": p["depth"],
        }

    space = {"mmr_lambda": (0.5, 1.0), "novelty": (0.0, 0.5), "depth": (1, 3)}
    res = tune_knobs(evaluate, space, n_samples=40, n_refine=30, seed=1)
    assert abs(res.best_params["mmr_lambda"] - 0.8) < 0.05
    assert abs(res.best_params["novelty"] - 0.1) < 0.05
    assert isinstance(res.best_params["depth"], int)
    grid = tune_knobs(
        evaluate,
        {"mmr_lambda": (0.5, 1.0), "novelty": [0.0, 0.1], "depth": [1]},
        method="grid",
        grid_points=6,
    )
    assert len(grid.trials) == 12
    assert grid.best_params == {"mmr_lambda": 0.8, "novelty": 0.1, "depth": 1}


def test_violation_and_bad_constraint():
    assert violation({"x": 0.5}, {"x": (">=", 0.3)}) == 0
    assert violation({"x": 0.2}, {"x": (">=", 0.4)}) == pytest.approx(0.5)
    assert violation({"x": 120}, {"x": ("<=", 100)}) == pytest.approx(0.2)
    assert violation({}, {"x": ("<=", 1)}) == float("inf")
    with pytest.raises(ConfigError):
        tune_weights(_peaked, NAMES, constraints={"coverage": ("=>", 0.3)})


def test_pareto_front():
    trials = pd.DataFrame(
        {
            "coverage": [0.1, 0.2, 0.3, 0.2, 0.05, np.nan],
            "ndcg@10": [0.5, 0.4, 0.1, 0.3, 0.5, 0.9],
            "feasible": [True, True, True, True, True, True],
        }
    )
    mask = pareto_front(trials, x="coverage", y="ndcg@10")
    # (0.1,0.5) (0.2,0.4) (0.3,0.1) on the front; (0.2,0.3) and (0.05,0.5) dominated; NaN never
    assert mask.tolist() == [True, True, True, False, False, False]
