"""Sparse and shared-row pool scores select and gather exactly what dense scores do."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from recsys.data.demo import write_demo
from recsys.data.ingest import load_dataset
from recsys.models import make_model
from recsys.ranking.candidates import build_pool
from recsys.ranking.pool_scores import block_scores, is_shared_row
from recsys.service.pools import strategy_pool


def _random_sparse(rng, b, n, density):
    """Values in {0, 0.5, 1, 2} (many ties, explicit zeros), some rows empty."""
    m = sp.random(b, n, density=density, format="csr", random_state=rng, dtype=np.float32)
    m.data = rng.choice(np.array([0.0, 0.5, 1.0, 2.0], np.float32), size=m.nnz)
    keep = np.ones(b, np.float32)
    keep[rng.choice(b, size=b // 5, replace=False)] = 0  # empty rows
    m = sp.csr_matrix(sp.diags(keep) @ m)
    m.eliminate_zeros()
    m.data[rng.random(m.nnz) < 0.1] = 0.0  # explicit zeros
    return m


def _exclusions(rng, b, n, density=0.08):
    ex = sp.random(b, n, density=density, format="coo", random_state=rng)
    return ex.row.astype(np.int64), ex.col.astype(np.int64)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("m", [1, 3, 17, 40])
def test_sparse_top_and_gather_equal_the_dense_path(seed, m):
    rng = np.random.default_rng(seed)
    b, n = 23, 40
    s = _random_sparse(rng, b, n, density=[0.02, 0.2, 0.6][seed % 3])
    ex = _exclusions(rng, b, n)
    dense, fast = block_scores(s.toarray(), *ex), block_scores(s, *ex)
    top = dense.top(m)
    np.testing.assert_array_equal(fast.top(m), top)
    cols = np.concatenate([top, rng.integers(-1, n, size=(b, 5))], axis=1).astype(np.int32)
    np.testing.assert_array_equal(fast.gather(cols), dense.gather(cols))


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("m", [1, 5, 30, 50])
def test_shared_row_top_and_gather_equal_the_dense_path(seed, m):
    rng = np.random.default_rng(seed)
    b, n = 19, 45
    row = rng.choice(np.array([0.0, 1.0, 3.0, 7.5], np.float32), size=n)
    row[rng.choice(n, 4, replace=False)] = [-np.inf, np.nan, -2.0, np.inf][: min(4, n)]
    shared = np.broadcast_to(row, (b, n))
    assert is_shared_row(shared) and not is_shared_row(np.array(shared))
    ex = _exclusions(rng, b, n, density=0.2)
    cache: dict = {}
    dense, fast = block_scores(np.array(shared), *ex), block_scores(shared, *ex, cache=cache)
    top = dense.top(m)
    np.testing.assert_array_equal(fast.top(m), top)
    cols = np.concatenate([top, rng.integers(-1, n, size=(b, 4))], axis=1).astype(np.int32)
    np.testing.assert_array_equal(fast.gather(cols), dense.gather(cols))
    again = block_scores(shared[:3], ex[0][:0], ex[1][:0], cache=cache)
    assert again.order is cache["sorted"][1]  # the row is sorted once per pool build


def test_negative_sparse_values_fall_back_to_the_dense_path():
    s = sp.csr_matrix(np.array([[0.0, -1.0, 2.0], [1.0, 0.0, 0.0]], np.float32))
    none = np.zeros(0, np.int64)
    np.testing.assert_array_equal(block_scores(s, none, none).top(2), [[2, 0], [0, 1]])


def test_build_pool_is_the_same_for_every_form_of_the_scores():
    rng = np.random.default_rng(7)
    n_users, n_items = 300, 60
    knn = _random_sparse(rng, n_users, n_items, 0.1)
    pop = rng.choice(np.array([1.0, 2.0, 5.0], np.float32), size=n_items)
    factors = rng.normal(size=(n_users, n_items)).astype(np.float32)
    exclude = sp.random(n_users, n_items, density=0.1, format="csr", random_state=rng)
    fast = {
        "knn": lambda u: knn[u],
        "pop": lambda u: np.broadcast_to(pop, (len(u), n_items)),
        "mf": lambda u: factors[u],
    }
    dense = {
        "knn": lambda u: knn[u].toarray(),
        "pop": lambda u: np.tile(pop, (len(u), 1)),
        "mf": lambda u: factors[u],
    }
    users = rng.permutation(n_users).astype(np.int32)
    kw = {"per_model": 9, "exclude": exclude, "block_size": 64, "n_items": n_items}
    a, b = build_pool(fast, users, n_jobs=2, **kw), build_pool(dense, users, n_jobs=1, **kw)
    for name in ("users", "items", "scores", "ranks"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))


class _DenseOnly:
    """A fitted model seen through ``score_items`` only (the dense path)."""

    def __init__(self, model):
        self.model = model
        self.handles_cold_users = model.handles_cold_users
        self.n_items_ = model.n_items_

    def pool_scores(self, users):
        return self.model.score_items(users)

    def score_history(self, items):
        return self.model.score_history(items)


def test_neighbour_and_popularity_models_give_the_dense_pool(tmp_path):
    catalog, interactions = write_demo(tmp_path, n_users=400, n_items=90, n_events=4000, seed=2)
    ds = load_dataset(interactions, catalog).dataset
    names = ("item_knn", "rp3beta", "content_tfidf", "popularity", "svd")
    models = {n: make_model(n, **({"n_epochs": 3} if n == "svd" else {})).fit(ds) for n in names}
    activity = ds.user_activity().copy()
    activity[:40] = 0  # new users: served the empty-history scores
    activity[40:60] = 1  # cold users
    users = np.arange(ds.n_users, dtype=np.int32)
    kw = {"cold_threshold": 3, "per_model": 12, "exclude": ds.matrix("ones")}
    fast = strategy_pool(models, users, activity, **kw)
    dense = strategy_pool({n: _DenseOnly(m) for n, m in models.items()}, users, activity, **kw)
    for name in ("items", "scores", "ranks"):
        np.testing.assert_array_equal(getattr(fast, name), getattr(dense, name))
    assert sp.issparse(models["item_knn"].pool_scores(users[:5]))
    assert is_shared_row(models["popularity"].pool_scores(users[:5]))
