"""Vectorised Surprise scoring equals Surprise's own ``algo.predict`` (id alignment, fallbacks,
clipping), derived ratings for event data, and fold-in of history users."""

from __future__ import annotations

import copy
import json

import numpy as np
import pandas as pd
import pytest
import surprise

from recsys.data.dataset import Dataset
from recsys.models.surprise_base import derive_ratings
from recsys.models.surprise_baselines import SurpriseBaselineOnly, SurpriseCoClustering
from recsys.models.surprise_factors import SurpriseNMF, SurpriseSVD, SurpriseSVDpp
from recsys.models.surprise_neighbours import SurpriseKNNBaseline, SurpriseSlopeOne

N_USERS, N_ITEMS, N_GROUPS = 60, 39, 3
COLD_USER = "u007"  # in the id map, no training pair


def _group(idx: int) -> int:
    return idx % N_GROUPS


@pytest.fixture(scope="module")
def frames():
    """~800 integer ratings with 3 taste groups; rows shuffled, catalog in another order."""
    rng = np.random.default_rng(0)
    rows = []
    for u in range(N_USERS):
        n = 4 if u % 10 == 0 else int(rng.integers(8, 22))  # a few light users (<= k of KNN)
        for i in rng.choice(N_ITEMS, size=n, replace=False):
            liked = _group(u) == _group(i)
            r = rng.integers(4, 6) if liked else rng.integers(1, 3)
            rows.append((f"u{u:03d}", f"i{i:03d}", float(r)))
    events = pd.DataFrame(rows, columns=["user_id", "item_id", "rating"])
    events["weight"] = 1.0
    events = events.sample(frac=1.0, random_state=1).reset_index(drop=True)
    # catalog in reverse order plus three catalog-only (cold) items
    cat_ids = [f"i{i:03d}" for i in range(N_ITEMS)][::-1] + ["cold0", "cold1", "cold2"]
    catalog = pd.DataFrame({"item_id": cat_ids})
    return events, catalog


@pytest.fixture(scope="module")
def data(frames):
    events, catalog = frames
    full = Dataset.construct(events, catalog)
    cold = full.user_ids.to_internal([COLD_USER])[0]
    inter = full.interactions
    return full.with_interactions(inter[inter["user_idx"] != cold])


def _external_group(ids) -> np.ndarray:
    return np.array(
        [int(s[1:]) % N_GROUPS if s[0] in "ui" and s[1:].isdigit() else -1 for s in ids]
    )


MODELS = {
    "svd": lambda: SurpriseSVD(n_factors=8, n_epochs=60, lr_all=0.02, random_state=3),
    "svd_unbiased": lambda: SurpriseSVD(n_factors=8, n_epochs=30, biased=False),
    "svdpp": lambda: SurpriseSVDpp(n_factors=6, n_epochs=30, lr_all=0.02),
    "nmf": lambda: SurpriseNMF(n_factors=5, n_epochs=30),
    "nmf_biased": lambda: SurpriseNMF(n_factors=5, n_epochs=30, biased=True),
    "knn_baseline": lambda: SurpriseKNNBaseline(k=5),
    "knn_baseline_mink": lambda: SurpriseKNNBaseline(k=7, min_k=3, bsl_method="sgd"),
    "baseline_only": lambda: SurpriseBaselineOnly(),
    "coclustering": lambda: SurpriseCoClustering(n_epochs=5),
    "slope_one": lambda: SurpriseSlopeOne(),
}


def _surprise_algo(model, data):
    """The Surprise algo trained inside ``fit``; SlopeOne (fitted without Surprise) is trained here."""
    if isinstance(model, SurpriseSlopeOne):
        df = model._ratings(data)
        trainset = surprise.Dataset.load_from_df(
            df, surprise.Reader(rating_scale=model.rating_scale_)
        ).build_full_trainset()
        return surprise.SlopeOne().fit(trainset)
    return model._surprise_algo


@pytest.fixture(scope="module")
def fitted(data):
    out = {}
    for key, make in MODELS.items():
        model = make()
        model._keep_surprise = True
        out[key] = model.fit(data)
    return out


@pytest.mark.parametrize("key", list(MODELS))
def test_vectorised_scores_equal_surprise_predict(key, fitted, data):
    model = fitted[key]
    algo = _surprise_algo(model, data)
    users = np.repeat(np.arange(data.n_users), data.n_items)
    items = np.tile(np.arange(data.n_items), data.n_users)
    expected_clipped = np.array([algo.predict(u, i).est for u, i in zip(users, items, strict=True)])
    expected_raw = np.array(
        [algo.predict(u, i, clip=False).est for u, i in zip(users, items, strict=True)]
    )
    got = model.predict_ratings(users, items)
    np.testing.assert_allclose(got, expected_clipped, atol=1e-4, rtol=0)
    scores = model.score_items(np.arange(data.n_users)).ravel()
    np.testing.assert_allclose(scores, expected_raw, atol=1e-4, rtol=0)
    # the data exercises what it should: an unknown user and unknown items
    assert not model.user_known_.all() and not model.item_known_.all()


def test_predict_ratings_clips_like_surprise(fitted):
    model = copy.deepcopy(fitted["svd"])
    model.user_vec_ = model.user_vec_ * 20  # push estimates off the scale
    users = np.repeat(np.arange(model.n_users_), model.n_items_)
    items = np.tile(np.arange(model.n_items_), model.n_users_)
    raw = model.score_items(np.arange(model.n_users_)).ravel()
    assert raw.min() < 1.0 and raw.max() > 5.0
    np.testing.assert_allclose(
        model.predict_ratings(users, items), np.clip(raw, 1.0, 5.0), atol=1e-5
    )


def test_knn_covers_both_kernels(fitted, data):
    counts = np.diff(fitted["knn_baseline"].resid_.indptr)
    assert (counts > 5).any() and ((counts > 0) & (counts <= 5)).any()


def test_id_alignment_matches_surprise_inner_ids(fitted, data):
    model = fitted["svd"]
    ts = model._surprise_algo.trainset
    for u in range(data.n_users):
        assert model.inner_of_user_[u] == ts._raw2inner_id_users.get(u, -1)
    for i in range(data.n_items):
        assert model.inner_of_item_[i] == ts._raw2inner_id_items.get(i, -1)
    # our order really differs from Surprise's first-seen order
    known = model.inner_of_item_ >= 0
    assert not np.array_equal(model.inner_of_item_[known], np.arange(known.sum()))


def test_stored_state_holds_no_surprise_object(fitted):
    """What a workspace stores is arrays and plain values; no Surprise object is needed."""
    for model in fitted.values():
        assert all(a.dtype.kind in "biuf" for a in model.state_arrays().values())
        json.dumps(model.state_meta(), allow_nan=False)
        loaded = type(model).from_state(
            model.get_params(), model.state_meta(), model.state_arrays()
        )
        assert not hasattr(loaded, "_surprise_algo")
        np.testing.assert_array_equal(
            loaded.score_items(np.arange(4)), model.score_items(np.arange(4))
        )


@pytest.mark.parametrize(
    "key", [k for k in MODELS if k not in ("svd_unbiased", "knn_baseline_mink")]
)
def test_fold_in_ranks_the_taste_group_first(key, fitted, data):
    model = fitted[key]
    groups = _external_group(data.item_ids.external_ids)
    history = np.flatnonzero(groups == 1)[:4]
    s = model.score_history(history, np.full(len(history), 5.0))
    rest = np.setdiff1d(np.flatnonzero(groups >= 0), history)
    same, other = rest[groups[rest] == 1], rest[groups[rest] != 1]
    if key == "baseline_only":  # no personalisation beyond a user bias: ranking = item bias
        np.testing.assert_allclose(s - s.mean(), model.bi_ - model.bi_.mean(), atol=1e-5)
        return
    if key == "slope_one":  # plain Slope One averages deviations over all items: weak but right way
        assert s[same].mean() > s[other].mean() + 0.1
        return
    assert s[same].mean() > s[other].mean() + 0.5
    top = np.argsort(-s[rest])[:8]
    assert (groups[rest][top] == 1).mean() >= 0.75


def test_fold_in_reproduces_a_known_user(fitted, data):
    """A history equal to a trained user's ratings ranks like that user."""
    model = fitted["svd"]
    m = data.matrix("rating")
    u = int(np.argmax(np.diff(m.indptr)))
    row = m[u]
    s_hist = model.score_history(row.indices, row.data)
    s_user = model.score_items(np.array([u]))[0]
    assert np.corrcoef(s_hist, s_user)[0, 1] > 0.8


def test_history_weights_for_rating_models(fitted):
    model = fitted["svd"]
    assert model.rating_source_ == "rating" and model.rating_scale_ == (1.0, 5.0)
    np.testing.assert_array_equal(model.history_ratings(np.ones(3)), [5.0, 5.0, 5.0])
    np.testing.assert_array_equal(model.history_ratings(np.array([2.0, 9.0, 1.0])), [2.0, 5.0, 1.0])


def test_event_data_gets_derived_ratings():
    rng = np.random.default_rng(2)
    kinds = np.array([1.0, 3.0, 5.0])  # view, cart, purchase
    events = pd.DataFrame(
        {
            "user_id": [f"u{u}" for u in rng.integers(0, 30, 400)],
            "item_id": [f"i{i}" for i in rng.integers(0, 20, 400)],
            "weight": kinds[rng.integers(0, 3, 400)],
        }
    )
    ds = Dataset.construct(events)
    assert not ds.has_ratings
    model = SurpriseSVD(n_factors=4, n_epochs=5)
    model._keep_surprise = True
    model.fit(ds)
    w = ds.interactions["weight"].to_numpy()
    assert model.rating_scale_ == (1.0, 5.0) and model.rating_source_ == "derived:log"
    assert model.w_ref_ == pytest.approx(np.quantile(w, 0.95))
    ratings = np.array([r for (_, _, r) in model._surprise_algo.trainset.all_ratings()])
    assert ratings.min() >= 1.0 and ratings.max() <= 5.0
    np.testing.assert_allclose(np.sort(ratings), np.sort(derive_ratings(w, model.w_ref_)))
    pred = model.predict_ratings(np.arange(ds.n_users), np.zeros(ds.n_users, np.int32))
    assert pred.min() >= 1.0 and pred.max() <= 5.0


def test_derive_ratings_by_hand():
    # w_ref = 5: view 1 -> 1 + 4 ln2/ln6, cart 3 -> 1 + 4 ln4/ln6, purchase 5 -> 5, more -> clipped
    r = derive_ratings(np.array([1.0, 3.0, 5.0, 40.0]), 5.0)
    np.testing.assert_allclose(
        r, [1 + 4 * np.log(2) / np.log(6), 1 + 4 * np.log(4) / np.log(6), 5.0, 5.0]
    )
    np.testing.assert_allclose(derive_ratings(np.array([1.0, 10.0]), 5.0, "linear"), [1.8, 5.0])


def test_knn_refuses_large_catalogs(data):
    from recsys.errors import ConfigError

    with pytest.raises(ConfigError, match="max_items"):
        SurpriseKNNBaseline(max_items=10).fit(data)
    with pytest.raises(ConfigError, match="max_items"):
        SurpriseSlopeOne(max_items=10).fit(data)


def test_compatibility_module_names_the_same_classes():
    """Code importing ``recsys.models.surprise_models`` (the module before the split) still works."""
    from recsys.models import surprise_models

    assert surprise_models.SurpriseSVD is SurpriseSVD
    assert surprise_models.SurpriseKNNBaseline is SurpriseKNNBaseline
    assert surprise_models.SurpriseBaselineOnly is SurpriseBaselineOnly
