"""ALS and BPR against the ``implicit`` library's own recommend / recalculate_user."""

from __future__ import annotations

import warnings

import implicit.cpu.als as implicit_als
import implicit.cpu.bpr as implicit_bpr
import numpy as np
import pytest
import scipy.sparse as sp

from recsys.models.implicit_models import ImplicitALS, ImplicitBPR, confidence
from tests.fixtures_data import make_dataset


@pytest.fixture(scope="module")
def data():
    return make_dataset(n_users=60, n_items=40, n_cold_items=2, seed=7)


def _reference(model, data):
    """The same model fitted directly with implicit, on the same matrix and seed."""
    if isinstance(model, ImplicitALS):
        ref = implicit_als.AlternatingLeastSquares(
            factors=model.factors,
            regularization=model.regularization,
            alpha=1.0,
            iterations=model.iterations,
            random_state=model.random_state,
        )
        matrix = confidence(data.matrix("weight"), model.alpha, model.confidence_scale)
    else:
        ref = implicit_bpr.BayesianPersonalizedRanking(
            factors=model.factors,
            learning_rate=model.learning_rate,
            regularization=model.regularization,
            iterations=model.iterations,
            num_threads=1,
            random_state=model.random_state,
        )
        matrix = data.matrix("ones")
    ref.fit(matrix, show_progress=False)
    return ref, matrix


@pytest.mark.parametrize(
    "model",
    [
        ImplicitALS(factors=8, iterations=6, alpha=4.0, confidence_scale="linear"),
        ImplicitALS(factors=8, iterations=6, confidence_scale="log"),
        ImplicitBPR(factors=8, iterations=20),
    ],
    ids=["als-linear", "als-log", "bpr"],
)
def test_lists_equal_implicits_own_recommend(model, data):
    model.fit(data)
    ref, matrix = _reference(model, data)
    np.testing.assert_allclose(model.item_factors_, ref.item_factors, rtol=1e-5, atol=1e-6)
    users = np.array([0, 7, 21, 33, 59], np.int32)
    ids, _ = ref.recommend(users, matrix[users], N=10, filter_already_liked_items=True)
    ours = model.recommend(users, k=10, exclude=data.matrix("ones"))
    np.testing.assert_array_equal(ours.items, ids)


def test_als_fold_in_equals_implicits_exact_user_solve(data):
    model = ImplicitALS(factors=8, iterations=6, alpha=3.0).fit(data)
    ref, _ = _reference(model, data)
    items = np.array([1, 5, 9, 5], np.int32)  # item 5 twice: weights add up
    weights = np.array([1.0, 3.0, 5.0, 2.0], np.float32)
    row = sp.csr_matrix((weights, (np.zeros(len(items), int), items)), shape=(1, data.n_items))
    row.sum_duplicates()
    row = confidence(row, 3.0, "log")
    expected = ref.recalculate_user(0, row)
    np.testing.assert_allclose(model.fold_in(items, weights), expected, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(
        model.score_history(items, weights), ref.item_factors @ expected, rtol=1e-4, atol=1e-6
    )
    assert not model.score_history(np.array([], np.int32)).any()  # empty history: all 0


def test_fit_prints_nothing_and_does_not_warn(data, capsys, monkeypatch):
    import implicit.utils

    monkeypatch.setattr(implicit.utils, "_checked_blas_config", False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ImplicitALS(factors=4, iterations=2).fit(data)
        ImplicitBPR(factors=4, iterations=2).fit(data)
    assert not [w for w in caught if "BLAS" in str(w.message)]
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""


def test_als_result_does_not_depend_on_threads(data):
    one = ImplicitALS(factors=8, iterations=4, num_threads=1).fit(data)
    two = ImplicitALS(factors=8, iterations=4, num_threads=2).fit(data)
    np.testing.assert_array_equal(one.item_factors_, two.item_factors_)
