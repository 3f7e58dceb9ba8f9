"""The compiled sparse products give exactly scipy's values, and the same top-20 lists."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from recsys.models import make_model
from recsys.models.similarity_product import worth_densifying
from recsys.models.sparse_kernels import csr_dense, csr_sparse_dense
from recsys.ranking.topk import top_k_indices
from tests.fixtures_data import make_dataset


def _random_csr(rows: int, cols: int, density: float, seed: int, dtype=np.float32):
    m = sp.random(rows, cols, density=density, format="csr", dtype=dtype, random_state=seed)
    m.data = (m.data - 0.3).astype(dtype)  # negative values too: cancellations, -0.0
    return m


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_sparse_product_equals_scipy(seed):
    rows = _random_csr(300, 700, 0.02, seed)
    other = _random_csr(700, 900, 0.03, seed + 10)
    got = csr_sparse_dense(rows, other)
    expected = (rows @ other).toarray()
    assert got.dtype == np.float32 and got.shape == (300, 900)
    np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(top_k_indices(got, 20)[0], top_k_indices(expected, 20)[0])


def test_unsorted_indices_and_empty_rows_equal_scipy():
    rows = _random_csr(50, 80, 0.1, 3)
    rows.data[rows.indptr[5] : rows.indptr[6]] = 0  # an empty row once the zeros are removed
    rows.eliminate_zeros()
    other = _random_csr(80, 60, 0.2, 4)
    perm = np.random.default_rng(0).permutation  # shuffle the order inside each stored row
    for m in (rows, other):
        for i in range(m.shape[0]):
            a, b = m.indptr[i], m.indptr[i + 1]
            order = a + perm(b - a)
            m.indices[a:b], m.data[a:b] = m.indices[order], m.data[order]
        m.has_sorted_indices = False
    np.testing.assert_array_equal(csr_sparse_dense(rows, other), (rows @ other).toarray())
    assert not csr_sparse_dense(rows, other)[5].any()


@pytest.mark.parametrize("seed", [0, 1])
def test_sparse_by_dense_product_equals_scipy(seed):
    rows = _random_csr(300, 700, 0.03, seed)
    dense = np.random.default_rng(seed).standard_normal((700, 333)).astype(np.float32)
    got = csr_dense(rows, dense)
    expected = rows @ dense
    assert got.dtype == np.float32 and got.shape == (300, 333)
    np.testing.assert_array_equal(got, expected)
    # a memory-mapped matrix (a loaded run), a Fortran-ordered one (scipy's path), no rows
    np.testing.assert_array_equal(csr_dense(rows, np.asfortranarray(dense)), expected)
    assert csr_dense(rows[:0], dense).shape == (0, 333)
    assert rows.has_sorted_indices  # the item-by-item kernel; unsorted rows take the row kernel
    shuffled = rows.copy()
    rng = np.random.default_rng(seed)
    for i in range(shuffled.shape[0]):
        a, b = shuffled.indptr[i], shuffled.indptr[i + 1]
        order = a + rng.permutation(b - a)
        shuffled.indices[a:b], shuffled.data[a:b] = shuffled.indices[order], shuffled.data[order]
    shuffled.has_sorted_indices = False
    np.testing.assert_array_equal(csr_dense(shuffled, dense), shuffled @ dense)


def test_ease_scores_with_the_compiled_product(tmp_path):
    ds = make_dataset(n_users=120, n_items=90, seed=4)
    model = make_model("ease").fit(ds)
    users = np.arange(ds.n_users)
    expected = np.zeros((ds.n_users, ds.n_items), np.float32)
    expected[:, model.active_items_] = model.user_rows_ @ model.item_weights_
    np.testing.assert_array_equal(model.score_items(users), expected)
    path = tmp_path / "w.npy"
    np.save(path, model.item_weights_)
    model.item_weights_ = np.load(path, mmap_mode="r")
    np.testing.assert_array_equal(model.score_items(users), expected)


def test_other_dtypes_fall_back_to_scipy():
    rows = _random_csr(20, 30, 0.2, 5, np.float64)
    other = _random_csr(30, 40, 0.2, 6)
    expected = np.asarray((rows @ other).toarray(), np.float32)
    np.testing.assert_array_equal(csr_sparse_dense(rows, other), expected)
    assert csr_sparse_dense(rows[:0], other).shape == (0, 40)


def test_a_neighbour_model_on_a_large_catalog_scores_as_the_sparse_product():
    ds = make_dataset(n_users=150, n_items=400, seed=2)
    model = make_model("item_knn", k_neighbors=5).fit(ds)
    assert not worth_densifying(model.similarity_)  # the sparse path
    users = np.arange(ds.n_users, dtype=np.int32)
    expected = (model.user_rows_[users] @ model.similarity_).toarray()
    np.testing.assert_array_equal(model.score_items(users), expected)
