"""The dense product of a small neighbour matrix gives exactly the sparse product's scores."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import scipy.sparse as sp

from recsys.models import make_model
from recsys.models.similarity_product import (
    DENSE_CELLS,
    similarity_scores,
    worth_densifying,
)
from tests.fixtures_data import make_dataset

NEIGHBOUR_MODELS = ("item_knn", "rp3beta", "content_tfidf")


def _similarity(model) -> sp.csr_matrix:
    return model.similarity_ if hasattr(model, "similarity_") else model.neighbours_


@pytest.mark.parametrize("name", NEIGHBOUR_MODELS)
def test_dense_scores_equal_the_sparse_product(name):
    ds = make_dataset(n_users=120, n_items=40, seed=3)
    model = make_model(name).fit(ds)
    s = _similarity(model)
    assert worth_densifying(s)  # a small catalog takes the dense path
    users = np.arange(ds.n_users, dtype=np.int32)
    dense = model.score_items(users)
    assert "_dense_similarity" in model.__dict__
    if name == "content_tfidf":
        expected = model.pool_scores(users).toarray()
    else:
        expected = (model.user_rows_[users] @ s).toarray()
    np.testing.assert_array_equal(dense, expected.astype(np.float32))
    assert dense.dtype == np.float32


def test_a_replaced_matrix_is_not_served_from_the_old_copy():
    ds = make_dataset(n_users=80, n_items=30, seed=1)
    model = make_model("item_knn").fit(ds)
    users = np.arange(ds.n_users, dtype=np.int32)
    before = model.score_items(users)
    updated = copy.copy(model)  # as the incremental update does: a copy with a new matrix
    updated.similarity_ = sp.csr_matrix(model.similarity_ * 2.0)
    np.testing.assert_array_equal(updated.score_items(users), 2.0 * before)
    np.testing.assert_array_equal(model.score_items(users), before)


def test_large_or_sparse_matrices_stay_sparse():
    big = sp.identity(int(DENSE_CELLS**0.5) + 1, dtype=np.float32, format="csr")
    assert not worth_densifying(big)
    sparse = sp.random(1000, 1000, density=0.01, format="csr", dtype=np.float32, random_state=0)
    assert not worth_densifying(sparse)
    owner = type("Owner", (), {})()
    rows = sp.random(5, 1000, density=0.05, format="csr", dtype=np.float32, random_state=1)
    np.testing.assert_array_equal(similarity_scores(owner, rows, sparse), (rows @ sparse).toarray())
    assert "_dense_similarity" not in owner.__dict__
