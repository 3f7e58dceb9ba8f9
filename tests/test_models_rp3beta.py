"""RP3beta against a plain Python loop over the definition."""

from __future__ import annotations

import numpy as np
import pytest

from recsys.errors import ConfigError
from recsys.models.rp3beta import RP3beta
from tests.fixtures_data import cold_items, make_dataset


def _loop_weights(x: np.ndarray, alpha: float, beta: float) -> np.ndarray:
    """W_ij = sum_u (x_iu / deg_i)^a (x_uj / deg_u)^a / pop_j^b, W_ii = 0, by plain loops."""
    n_users, n_items = x.shape
    w = np.zeros((n_items, n_items))
    for i in range(n_items):
        item_total = sum(x[u, i] for u in range(n_users))
        for j in range(n_items):
            pop = sum(1 for u in range(n_users) if x[u, j] > 0)
            if i == j or item_total == 0 or pop == 0:
                continue
            walk = 0.0
            for u in range(n_users):
                user_total = sum(x[u, :])
                if x[u, i] > 0 and x[u, j] > 0:
                    walk += (x[u, i] / item_total) ** alpha * (x[u, j] / user_total) ** alpha
            w[i, j] = walk / pop**beta
    return w


@pytest.mark.parametrize(("alpha", "beta", "binary"), [(1.0, 0.0, True), (0.5, 0.4, False)])
def test_matches_a_loop_when_every_neighbour_is_kept(alpha, beta, binary):
    ds = make_dataset(n_users=12, n_items=9, n_cold_items=1, events_per_user=4, seed=2)
    x = ds.matrix("weight").toarray().astype(np.float64)
    x = (x > 0).astype(np.float64) if binary else np.log1p(x)
    expected = _loop_weights(x, alpha, beta)
    model = RP3beta(alpha=alpha, beta=beta, topk=100, binary=binary).fit(ds)
    np.testing.assert_allclose(model.similarity_.toarray(), expected, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(model.score_items(np.arange(12)), x @ expected, rtol=1e-5, atol=1e-7)
    assert (model.score_items(np.arange(12))[:, cold_items(ds)] == 0).all()


def test_topk_keeps_the_largest_entries_of_each_row():
    ds = make_dataset(n_users=30, n_items=16, n_cold_items=0, seed=1)
    full = RP3beta(topk=100).fit(ds).similarity_.toarray()
    top = RP3beta(topk=3).fit(ds).similarity_.toarray()
    for i in range(ds.n_items):
        kept = np.flatnonzero(top[i])
        assert len(kept) == min(3, np.count_nonzero(full[i]))
        np.testing.assert_allclose(top[i, kept], full[i, kept], rtol=1e-6)
        assert full[i, kept].min() >= np.sort(full[i])[-3] - 1e-7


def test_history_scores_like_the_users_row():
    ds = make_dataset(n_users=20, n_items=12, n_cold_items=0, seed=3)
    model = RP3beta(binary=False).fit(ds)
    row = ds.matrix("weight")[5]
    np.testing.assert_allclose(
        model.score_history(row.indices, row.data), model.score_items(np.array([5]))[0], rtol=1e-6
    )


def test_bad_parameters_are_refused():
    ds = make_dataset(n_users=10, n_items=8, n_cold_items=0)
    for params in ({"alpha": 0.0}, {"beta": -0.1}, {"topk": 0}):
        with pytest.raises(ConfigError):
            RP3beta(**params).fit(ds)


def test_blocks_of_rows_give_the_same_matrix(monkeypatch):
    import recsys.models.item_knn as item_knn

    ds = make_dataset(n_users=30, n_items=16, n_cold_items=2, seed=4)
    whole = RP3beta(topk=5).fit(ds).similarity_
    monkeypatch.setattr(item_knn, "_BLOCK_CELLS", 3 * ds.n_items)  # 3 rows per block
    calls = []
    blocked = RP3beta(topk=5).fit(ds, progress=lambda f, m: calls.append(f)).similarity_
    assert len(calls) == 6
    np.testing.assert_array_equal(blocked.toarray(), whole.toarray())
