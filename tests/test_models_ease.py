"""EASE against a direct dense solve and a hand-computed two-item case."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import recsys.models.ease as ease_module
from recsys.data.dataset import Dataset
from recsys.errors import ConfigError
from recsys.models.ease import EASE
from tests.fixtures_data import cold_items, make_dataset


def _dataset(pairs, catalog=None, weights=None):
    users, items = zip(*pairs, strict=True)
    events = pd.DataFrame(
        {"user_id": users, "item_id": items, "weight": weights or [1.0] * len(pairs)}
    )
    return Dataset.construct(
        events, None if catalog is None else pd.DataFrame({"item_id": catalog})
    )


def test_two_items_by_hand():
    # u1 {a, b}, u2 {a, b}, u3 {a}: G = [[3, 2], [2, 2]], λ = 1
    # B_ab = G_ab / (G_aa + λ) = 2/4, B_ba = G_ab / (G_bb + λ) = 2/3 (one-regressor ridge)
    ds = _dataset([("u1", "a"), ("u1", "b"), ("u2", "a"), ("u2", "b"), ("u3", "a")])
    model = EASE(l2=1.0).fit(ds)
    np.testing.assert_allclose(model.item_weights_, [[0, 0.5], [2 / 3, 0]], rtol=1e-6)
    np.testing.assert_allclose(model.score_items(np.array([2]))[0], [0.0, 0.5], rtol=1e-6)


def test_matches_direct_dense_solve_with_a_cold_item():
    ds = make_dataset(n_users=40, n_items=30, n_cold_items=3, seed=3)
    x = (ds.matrix("weight").toarray() > 0).astype(np.float64)
    lam = 7.5
    p = np.linalg.inv(x.T @ x + lam * np.eye(ds.n_items))
    b = np.eye(ds.n_items) - p / np.diag(p)[None, :]
    np.fill_diagonal(b, 0.0)
    model = EASE(l2=lam).fit(ds)
    users = np.arange(ds.n_users)
    np.testing.assert_allclose(model.score_items(users), x @ b, rtol=1e-4, atol=1e-6)
    cold = cold_items(ds)
    assert len(cold) == 3 and np.allclose((x @ b)[:, cold], 0)  # the full solve agrees: 0


def test_weighted_variant_uses_log1p_and_history_matches_rows():
    ds = make_dataset(n_users=30, n_items=20, n_cold_items=0, seed=4)
    w = ds.matrix("weight")
    x = np.log1p(w.toarray().astype(np.float64))
    lam = 3.0
    p = np.linalg.inv(x.T @ x + lam * np.eye(ds.n_items))
    b = np.eye(ds.n_items) - p / np.diag(p)[None, :]
    np.fill_diagonal(b, 0.0)
    model = EASE(l2=lam, binary=False).fit(ds)
    np.testing.assert_allclose(model.score_items(np.arange(5)), x[:5] @ b, rtol=1e-4, atol=1e-6)
    row = w[2]
    np.testing.assert_allclose(
        model.score_history(row.indices, row.data), model.score_items(np.array([2]))[0], rtol=1e-6
    )


def test_auto_l2_picks_the_best_tried_factor_of_the_mean_popularity():
    ds = make_dataset(n_users=60, n_items=24, n_cold_items=2, seed=5)
    model = EASE().fit(ds)
    trials = model.l2_trials_
    assert len(trials) >= 3
    best = max(trials, key=trials.get)
    pop = ds.item_popularity()
    assert model.l2_ == pytest.approx(best * pop[pop > 0].mean())
    again = EASE().fit(ds)
    assert again.l2_trials_ == trials  # seeded holdout: same choice


def test_too_many_items_is_a_plain_config_error(monkeypatch):
    monkeypatch.setattr(ease_module, "MAX_ITEMS", 10)
    ds = make_dataset(n_users=20, n_items=15, n_cold_items=0, seed=0)
    with pytest.raises(ConfigError) as err:
        EASE(l2=1.0).fit(ds)
    text = str(err.value)
    assert "15 items" in text and "GB" in text and "10 items" in text and "rp3beta" in text


def test_memory_formula():
    assert ease_module.fit_memory_bytes(20_000) == 12 * 20_000**2  # 4.8 GB, as documented


def test_bad_l2_is_refused():
    ds = make_dataset(n_users=10, n_items=8, n_cold_items=0)
    for bad in ("big", 0.0, -1.0):
        with pytest.raises(ConfigError):
            EASE(l2=bad).fit(ds)
