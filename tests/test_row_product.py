"""``RowProduct``: the top-k of ``rows @ W`` equals the dense path's, bit for bit."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import scipy.sparse as sp

from recsys.models.base import mask_exclusions
from recsys.models.ease import EASE
from recsys.models.sparse_kernels import csr_dense
from recsys.ranking.row_product import PANEL, PanelMatrix, RowProduct
from recsys.ranking.topk import top_k_indices
from tests.fixtures_data import cold_items, make_dataset


def _case(seed: int):
    """Random rows, weights, a column subset, exclusions; ties on every third seed."""
    rng = np.random.default_rng(seed)
    n_items = int(rng.integers(1, 3 * PANEL + 20))
    n_cols = int(rng.integers(1, n_items + 1))
    columns = np.sort(rng.choice(n_items, n_cols, replace=False)).astype(np.int32)
    w = rng.standard_normal((n_cols, n_cols)).astype(np.float32)
    if seed % 3 == 0:
        w = np.round(w)  # many equal scores: ties are broken by the lower item
    b = int(rng.integers(1, 40))
    rows = sp.random(b, n_cols, density=0.1, random_state=seed, dtype=np.float32, format="csr")
    if seed % 2 == 0:
        rows.data[:] = 1
    excluded = sp.random(b, n_items, density=float(rng.uniform(0, 0.6)), random_state=seed + 1)
    dense = np.zeros((b, n_items), np.float32)
    dense[:, columns] = csr_dense(rows, w)
    masked = dense.copy()
    mask_exclusions(masked, excluded.tocsr())
    product = RowProduct(rows, PanelMatrix.of(w, columns, n_items))
    return product, masked, excluded.tocsr(), int(rng.integers(1, n_items + 3))


@pytest.mark.parametrize("seed", range(24))
def test_top_k_equals_the_dense_path(seed):
    product, masked, ex, k = _case(seed)
    want_idx, want_vals = top_k_indices(masked, k)
    idx, vals = product.top(k, ex if seed % 4 else _shuffled(ex))
    assert np.array_equal(idx, want_idx)
    assert np.array_equal(vals, want_vals)


def _shuffled(csr: sp.csr_matrix) -> sp.csr_matrix:
    """The same matrix with each row's entries stored in reverse order."""
    out = csr.copy()
    for r in range(out.shape[0]):
        lo, hi = out.indptr[r], out.indptr[r + 1]
        out.indices[lo:hi] = out.indices[lo:hi][::-1]
        out.data[lo:hi] = out.data[lo:hi][::-1]
    out.has_sorted_indices = False
    return out


def test_empty_rows_score_zero_and_take_the_lowest_items():
    w = np.ones((PANEL + 3, PANEL + 3), np.float32)
    rows = sp.csr_matrix((2, PANEL + 3), dtype=np.float32)
    product = RowProduct(rows, PanelMatrix.of(w, np.arange(PANEL + 3), PANEL + 3))
    idx, vals = product.top(4, sp.csr_matrix(([1.0, 1.0], ([0, 0], [0, 2])), shape=(2, PANEL + 3)))
    assert idx.tolist() == [[1, 3, 4, 5], [0, 1, 2, 3]]
    assert (vals == 0).all()


def _ease_and_dense_top(k: int, seed: int):
    ds = make_dataset(n_users=300, n_items=PANEL + 70, n_cold_items=5, seed=seed)
    model = EASE(l2=10.0).fit(ds)
    users = np.arange(ds.n_users, dtype=np.int32)
    scores = model.score_items(users)
    mask_exclusions(scores, ds.matrix("ones"))
    return ds, model, users, top_k_indices(scores, k)


def test_ease_recommend_equals_score_items_then_top_k():
    ds, model, users, (want_idx, want_vals) = _ease_and_dense_top(20, seed=5)
    assert len(cold_items(ds)) == 5  # items outside B's columns score 0
    got = model.recommend(users, 20, exclude=ds.matrix("ones"), block_size=64, n_jobs=2)
    assert np.array_equal(got.items, want_idx)
    assert np.array_equal(got.scores, want_vals)


def test_ease_pickles_without_its_panel_copy():
    ds, model, users, _ = _ease_and_dense_top(5, seed=7)
    first = model.recommend(users, 5)
    assert getattr(model, "_panel_cache", None) is not None
    again = pickle.loads(pickle.dumps(model))
    assert getattr(again, "_panel_cache", None) is None
    assert np.array_equal(again.recommend(users, 5).items, first.items)
