"""Hand-computed checks of the non-Surprise models."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from recsys.data.dataset import Dataset
from recsys.models.content import ContentTfidf
from recsys.models.item_knn import ItemKNN
from recsys.models.lightfm_model import LightFMBPR, LightFMWarp
from recsys.models.popularity import Popularity, TrendingPopularity
from tests.fixtures_data import CATEGORIES, make_dataset

S = np.sqrt


def _events(pairs, weights=None, days=None):
    users, items = zip(*pairs, strict=True)
    frame = pd.DataFrame(
        {"user_id": users, "item_id": items, "weight": weights or [1.0] * len(pairs)}
    )
    if days is not None:
        frame["timestamp"] = pd.Timestamp("2024-03-01") + pd.to_timedelta(days, unit="D")
    return frame


# ---------------------------------------------------------------------------- popularity
def test_popularity_counts_users_or_weight():
    ds = Dataset.construct(
        _events([("u1", "a"), ("u1", "b"), ("u2", "a"), ("u3", "a"), ("u3", "c"), ("u3", "a")],
                weights=[1, 2, 1, 5, 3, 1])
    )  # fmt: skip
    # items in first-seen order: a, b, c; (u3, a) aggregates to weight 6
    users = Popularity(by="users").fit(ds).score_items(np.array([0, 2]))
    np.testing.assert_array_equal(users, [[3, 1, 1], [3, 1, 1]])
    weight = Popularity(by="weight").fit(ds)
    np.testing.assert_array_equal(weight.score_items(np.array([1]))[0], [8, 2, 3])
    np.testing.assert_array_equal(weight.score_history(np.array([], np.int32)), [8, 2, 3])


def test_popularity_cold_catalog_item_scores_zero():
    catalog = pd.DataFrame({"item_id": ["a", "b", "z"]})
    ds = Dataset.construct(_events([("u1", "a"), ("u2", "a"), ("u2", "b")]), catalog)
    np.testing.assert_array_equal(Popularity().fit(ds).score_items(np.array([0]))[0], [2, 1, 0])


def test_trending_halves_per_half_life():
    # a: one user today; b: two users 7 and 14 days ago -> 0.5 + 0.25
    ds = Dataset.construct(_events([("u1", "a"), ("u2", "b"), ("u3", "b")], days=[14, 7, 0]))
    s = TrendingPopularity(half_life_days=7).fit(ds).score_items(np.array([0]))[0]
    np.testing.assert_allclose(s, [1.0, 0.75], rtol=1e-6)


def test_trending_without_timestamps_is_popularity():
    ds = Dataset.construct(_events([("u1", "a"), ("u2", "b"), ("u3", "b")]))
    np.testing.assert_array_equal(TrendingPopularity().fit(ds).item_scores_, [1, 2])


# ---------------------------------------------------------------------------- item kNN
@pytest.fixture
def knn_data():
    # users x items (a, b, c): u0 [1 1 0], u1 [1 0 1], u2 [1 1 1]
    return Dataset.construct(
        _events(
            [
                ("u0", "a"),
                ("u0", "b"),
                ("u1", "a"),
                ("u1", "c"),
                ("u2", "a"),
                ("u2", "b"),
                ("u2", "c"),
            ]
        )
    )


def test_item_knn_cosine_on_3x3(knn_data):
    m = ItemKNN(k_neighbors=2, binary=True, shrinkage=0.0).fit(knn_data)
    ab = 2 / (S(3) * S(2))  # cos(a, b) = cos(a, c) = 0.8165; cos(b, c) = 1/2
    expected = np.array([[0, ab, ab], [ab, 0, 0.5], [ab, 0.5, 0]])
    np.testing.assert_allclose(m.similarity_.toarray(), expected, rtol=1e-6)
    # u0 has a, b: score(c) = s(a,c) + s(b,c)
    np.testing.assert_allclose(m.score_items(np.array([0]))[0], [ab, ab, ab + 0.5], rtol=1e-6)
    np.testing.assert_allclose(
        m.score_history(np.array([1]), np.array([2.0])), [2 * ab, 0, 1.0], rtol=1e-6
    )
    idx, sims = m.similar_items(1, k=5)
    np.testing.assert_array_equal(idx, [0, 2])
    np.testing.assert_allclose(sims, [ab, 0.5], rtol=1e-6)


def test_item_knn_top_k_shrinkage_and_cooccurrence(knn_data):
    top1 = ItemKNN(k_neighbors=1, binary=True, shrinkage=0.0).fit(knn_data).similarity_.toarray()
    assert (top1 > 0).sum(axis=1).tolist() == [1, 1, 1]
    assert top1[1, 0] == pytest.approx(2 / (S(3) * S(2)))  # b's best neighbour is a, not c
    shrunk = ItemKNN(binary=True, shrinkage=1.0).fit(knn_data).similarity_.toarray()
    assert shrunk[1, 2] == pytest.approx(1 / (2 + 1))
    co = ItemKNN(similarity="cooccurrence", binary=True).fit(knn_data).similarity_.toarray()
    np.testing.assert_array_equal(co, [[0, 2, 2], [2, 0, 1], [2, 1, 0]])


def test_item_knn_tfidf_downweights_heavy_users(knn_data):
    # idf = 1 + log(4 / (1 + |I_u|)): u0, u1 (2 items) 1 + log(4/3); u2 (3 items) 1
    s = ItemKNN(binary=True, weighting="tfidf", shrinkage=0.0).fit(knn_data).similarity_.toarray()
    w = 1 + np.log(4 / 3)
    assert s[1, 2] == pytest.approx(1 / (w**2 + 1), rel=1e-5)  # b = (w, 0, 1), c = (0, w, 1)
    assert s[1, 2] < 0.5  # plain cosine: the heavy user u2 counted less
    bm25 = ItemKNN(binary=True, weighting="bm25", shrinkage=0.0).fit(knn_data).similarity_.toarray()
    assert bm25[1, 2] < 0.5 and np.allclose(bm25, bm25.T, atol=1e-6)


def test_item_knn_blocks_match_single_block(monkeypatch):
    ds = make_dataset(n_users=60, n_items=40, n_cold_items=2)
    full = ItemKNN(k_neighbors=5).fit(ds).similarity_.toarray()
    monkeypatch.setattr("recsys.models.item_knn._BLOCK_CELLS", 40 * 3)  # blocks of 3 rows
    blocked = ItemKNN(k_neighbors=5).fit(ds).similarity_.toarray()
    np.testing.assert_allclose(full, blocked, rtol=1e-6)
    assert ((full > 0).sum(axis=1) <= 5).all()


# ---------------------------------------------------------------------------- content
@pytest.fixture
def tiny_catalog():
    catalog = pd.DataFrame(
        {"item_id": ["i0", "i1", "i2"], "category": ["x", "x", "y"], "brand": ["p", "q", "q"]}
    )
    return Dataset.construct(_events([("u0", "i0"), ("u1", "i0"), ("u1", "i2")]), catalog)


def test_content_cosine_on_tiny_catalog(tiny_catalog):
    # one-hot rows have two 1s -> 1/sqrt2 each: cos(i0,i1) = cos(i1,i2) = 1/2, cos(i0,i2) = 0
    m = ContentTfidf(text=False, binary=True).fit(tiny_catalog)
    np.testing.assert_allclose(m.score_items(np.array([0]))[0], [1.0, 0.5, 0.0], atol=1e-6)
    # profile of {i0, i2} = (x, p, y, q)/2 -> cos with i1 = 2 * (1/2)(1/sqrt2)
    np.testing.assert_allclose(
        m.score_items(np.array([1]))[0], [1 / S(2), 1 / S(2), 1 / S(2)], atol=1e-6
    )
    np.testing.assert_allclose(m.score_history(np.array([1])), [0.5, 1.0, 0.5], atol=1e-6)
    idx, sims = m.similar_items(0, k=2)
    np.testing.assert_array_equal(idx, [1])  # i2 shares nothing with i0
    np.testing.assert_allclose(sims, [0.5], atol=1e-6)


def test_content_scores_cold_items_and_decays(tiny_catalog):
    catalog = pd.DataFrame({"item_id": ["i0", "i1", "i2"], "category": ["x", "x", "y"]})
    ds = Dataset.construct(
        _events([("u0", "i0"), ("u0", "i2"), ("u1", "i0")], days=[0, 30, 30]), catalog
    )
    plain = ContentTfidf(text=False, binary=True).fit(ds).score_items(np.array([0]))[0]
    decayed = (
        ContentTfidf(text=False, binary=True, half_life_days=1)
        .fit(ds)
        .score_items(np.array([0]))[0]
    )
    assert plain[1] == pytest.approx(1 / S(2))  # i1 is cold, scored from its category
    assert decayed[1] < 0.01 < decayed[2]  # old i0 (category x) forgotten; recent i2 wins


def _exact_content_cosine(model: ContentTfidf, rows) -> np.ndarray:
    """The content cosine by one dense product: normalise(r F) F^T."""
    from sklearn.preprocessing import normalize

    return np.asarray((normalize(rows @ model.item_features_) @ model.item_features_.T).toarray())


def test_content_neighbours_give_the_exact_cosine_when_all_are_kept():
    ds = make_dataset(n_users=30, n_items=40)
    users = np.arange(ds.n_users)
    model = ContentTfidf(neighbors=ds.n_items).fit(ds)
    expected = _exact_content_cosine(model, model.user_rows_)
    np.testing.assert_allclose(model.score_items(users), expected, atol=1e-5)
    assert model.neighbours_.shape == (ds.n_items, ds.n_items)
    history = sp.csr_matrix(([1.0, 1.0], ([0, 0], [0, 5])), shape=(1, ds.n_items))
    np.testing.assert_allclose(
        model.score_history(np.array([0, 5])), _exact_content_cosine(model, history)[0], atol=1e-5
    )


def test_content_neighbours_are_sparse_and_keep_the_top():
    ds = make_dataset(n_users=60, n_items=80)
    model = ContentTfidf(neighbors=10).fit(ds)
    per_row = np.diff(model.neighbours_.indptr)
    assert per_row.max() <= 11  # ten neighbours and the item itself
    exact = ContentTfidf(neighbors=ds.n_items).fit(ds)
    users = np.arange(ds.n_users)
    approx, full = model.score_items(users), exact.score_items(users)
    assert (approx <= full + 1e-5).all()  # similarities beyond the kept ones count as 0
    seen = ds.matrix("ones").toarray() > 0
    approx[seen], full[seen] = -1.0, -1.0
    top_approx = np.argsort(-approx, axis=1)[:, :10]
    top_exact = np.argsort(-full, axis=1)[:, :10]
    overlap = np.mean(
        [len(set(a) & set(b)) / 10 for a, b in zip(top_approx, top_exact, strict=True)]
    )
    assert overlap > 0.8  # measured 0.89 with 10 of 80 neighbours
    # the items it picks are nearly as close to the profile as the exact best ten (measured 0.993)
    picked = np.take_along_axis(full, top_approx, axis=1).mean(axis=1)
    best = np.take_along_axis(full, top_exact, axis=1).mean(axis=1)
    assert (picked / best).mean() > 0.97


# ---------------------------------------------------------------------------- LightFM
def _leave_one_out(ds, seed=0):
    rng = np.random.default_rng(seed)
    df = ds.interactions
    held = df.groupby("user_idx").sample(1, random_state=int(rng.integers(1 << 30))).index
    return ds.with_interactions(df.drop(held)), df.loc[held]


def _hit_rate(model, train, test, k=5):
    users = test["user_idx"].to_numpy()
    top = model.recommend(users, k, exclude=train.matrix("ones"))
    return float((top.items == test["item_idx"].to_numpy()[:, None]).any(axis=1).mean())


@pytest.mark.parametrize("cls", [LightFMWarp, LightFMBPR])
def test_lightfm_learns_clusters(cls):
    ds = make_dataset(n_users=150, n_items=48, n_cold_items=0, events_per_user=10, affinity=0.9)
    train, test = _leave_one_out(ds)
    model = cls(epochs=15, no_components=16, use_item_features=False).fit(train)
    hr = _hit_rate(model, train, test)
    random_hr = 5 / (48 - 8)  # about 8 seen items per user
    assert hr > 2.5 * random_hr, (hr, random_hr)


def test_lightfm_cold_items_follow_their_features():
    ds = make_dataset(n_users=120, n_items=48, n_cold_items=8, events_per_user=10, affinity=0.9)
    model = LightFMWarp(epochs=15, no_components=16).fit(ds)
    cold = np.arange(40, 48)
    scores = model.score_items(np.arange(ds.n_users))[:, cold]
    n_cat = len(CATEGORIES)
    own = (cold[None, :] % n_cat) == (np.arange(ds.n_users)[:, None] % n_cat)
    own_mean = (scores * own).sum(axis=1) / own.sum(axis=1)
    other_mean = (scores * ~own).sum(axis=1) / (~own).sum(axis=1)
    assert (own_mean > other_mean).mean() > 0.8
    # a what-if user who bought two phones gets cold phones first
    history = model.score_history(np.array([0, 4]))
    assert history[cold].argmax() % n_cat == 0


def test_lightfm_user_without_interactions_gets_bias_ranking():
    ds = make_dataset(n_users=30, n_items=20, n_cold_items=0)
    df = ds.interactions
    train = ds.with_interactions(df[df["user_idx"] != 0])
    model = LightFMWarp(epochs=2, no_components=4).fit(train)
    np.testing.assert_allclose(model.score_items(np.array([0]))[0], model.item_bias_, rtol=1e-6)
