"""The demo store: shape, determinism, realism, and that models can learn from it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from recsys.data.dataset import Dataset
from recsys.data.demo import CATEGORIES, generate_store, write_demo


@pytest.fixture(scope="module")
def store() -> tuple[pd.DataFrame, pd.DataFrame]:
    return generate_store(seed=0)


def test_default_sizes_and_columns():
    catalog, events = generate_store()
    assert len(catalog) == 500 and len(events) == 50_000
    assert events["user_id"].nunique() == 2000
    assert list(events.columns) == ["user_id", "item_id", "event", "timestamp", "quantity"]
    for column in ("item_id", "title", "title_zh", "description", "category", "brand", "price",
                   "color", "compatible_with", "in_stock", "launch_date", "is_new", "storage_gb"):  # fmt: skip
        assert column in catalog.columns
    assert catalog["item_id"].is_unique
    assert set(catalog["category"]) == set(CATEGORIES)


def test_same_seed_same_frames_other_seed_differs(store):
    catalog, events = store
    catalog2, events2 = generate_store(seed=0)
    pd.testing.assert_frame_equal(catalog, catalog2)
    pd.testing.assert_frame_equal(events, events2)
    _, events3 = generate_store(seed=1)
    assert not events.equals(events3)


def test_raw_export_look(store):
    catalog, events = store
    # zero-padded item ids (an ingest trap), U-prefixed user ids, ISO timestamps as strings
    assert catalog["item_id"].str.fullmatch(r"\d{5}").all()
    assert catalog["item_id"].iloc[:50].str.startswith("0").all()
    assert events["user_id"].str.fullmatch(r"U\d{6}").all()
    assert events["timestamp"].str.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d").all()
    ts = pd.to_datetime(events["timestamp"])
    assert ts.is_monotonic_increasing
    assert ts.min() >= pd.Timestamp("2024-01-01") and ts.max() <= pd.Timestamp("2024-07-01")
    assert set(events["event"]) == {"view", "cart", "purchase", "favorite"}
    assert set(events["item_id"]) <= set(catalog["item_id"])
    assert (events["quantity"] >= 1).all()


def test_funnel_and_long_tail(store):
    catalog, events = store
    share = events["event"].value_counts(normalize=True)
    assert share["view"] > share["cart"] > share["purchase"] > 0.02
    # every purchase follows a cart of the same item by the same user (same session)
    buys = events[events["event"] == "purchase"][["user_id", "item_id", "timestamp"]]
    carts = events[events["event"] == "cart"].groupby(["user_id", "item_id"])["timestamp"].min()
    joined = buys.join(carts.rename("cart_ts"), on=["user_id", "item_id"])
    assert joined["cart_ts"].notna().all()
    assert (joined["cart_ts"] <= joined["timestamp"]).all()
    # long tail: top 10% of items take far more than 10% of events
    counts = events["item_id"].value_counts().to_numpy()
    assert counts[: len(counts) // 10].sum() / counts.sum() > 0.2  # measured 0.26
    assert counts[0] > 5 * np.median(counts)
    # no event before an item's launch
    launch = events["item_id"].map(catalog.set_index("item_id")["launch_date"])
    assert (pd.to_datetime(events["timestamp"]) >= pd.to_datetime(launch)).all()


def test_catalog_is_bilingual_and_realistic(store):
    catalog, _ = store
    cjk = catalog["title_zh"].str.contains(r"[\u4e00-\u9fff]")
    assert cjk.mean() > 0.8
    # both languages reach the text the content model reads
    assert catalog["description"].str.contains(r"[\u4e00-\u9fff]").all()
    assert catalog["description"].str.contains(r"[A-Za-z]{4}").all()
    median = catalog.groupby("category")["price"].median()
    assert median["phone"] > 1000 > median["smartwatch"] / 3 > median["case"] > 0
    acc = catalog[catalog["category"].isin(["case", "screen protector"])]
    phones = set(catalog.loc[catalog["category"] == "phone", "model"])
    assert acc["compatible_with"].isin(phones | {""}).mean() > 0.9
    assert acc.apply(lambda r: r["compatible_with"] in r["title"], axis=1).all()
    assert catalog["in_stock"].dtype == bool and 0.8 < catalog["in_stock"].mean() < 1.0


def test_write_demo_utf8_round_trip(tmp_path):
    cat_path, ev_path = write_demo(tmp_path, n_users=50, n_items=40, n_events=600, seed=3)
    catalog, events = generate_store(50, 40, 600, seed=3)
    back = pd.read_csv(cat_path, dtype=str, keep_default_na=False, encoding="utf-8")
    assert back["item_id"].tolist() == catalog["item_id"].tolist()
    assert back["title_zh"].tolist() == catalog["title_zh"].tolist()
    ev = pd.read_csv(ev_path, dtype=str)
    assert len(ev) == 600 and ev["item_id"].str.startswith("0").all()


def test_small_and_odd_sizes():
    catalog, events = generate_store(n_users=30, n_items=16, n_events=100, seed=5)
    assert len(catalog) == 16 and len(events) == 100
    with pytest.raises(ValueError):
        generate_store(n_items=3)


# ---------------------------------------------------------------------------- learnability
def _holdout(seed: int):
    catalog, ev = generate_store(seed=seed)
    weights = ev["event"].map({"view": 1.0, "cart": 3.0, "purchase": 5.0, "favorite": 3.0})
    frame = pd.DataFrame(
        {
            "user_id": ev["user_id"],
            "item_id": ev["item_id"],
            "weight": weights,
            "timestamp": pd.to_datetime(ev["timestamp"]),
            "event": ev["event"],
        }
    )
    ds = Dataset.construct(frame, catalog)
    pairs = ds.interactions.sort_values(["user_idx", "timestamp", "item_idx"])
    size = pairs.groupby("user_idx")["item_idx"].transform("size").to_numpy()
    rank = pairs.groupby("user_idx").cumcount().to_numpy()
    test = rank >= size - np.floor(0.2 * size)  # each user's last 20% of distinct items
    shape = (ds.n_users, ds.n_items)

    def csr(mask):
        sub = pairs[mask]
        return sp.csr_matrix((np.ones(len(sub)), (sub["user_idx"], sub["item_idx"])), shape=shape)

    return ds, csr(~test), csr(test)


def _recall_hit(scores: np.ndarray, train: sp.csr_matrix, truth: sp.csr_matrix, k: int = 10):
    scores = np.asarray(scores, dtype=np.float64).copy()
    scores[train.nonzero()] = -np.inf
    top = np.argpartition(-scores, k, axis=1)[:, :k]
    t = truth.toarray()
    hits = np.take_along_axis(t, top, axis=1).sum(axis=1)
    return float((hits / t.sum(axis=1)).mean()), float((hits > 0).mean())


@pytest.mark.parametrize("seed", [0, 7])
def test_collaborative_and_content_signal_are_learnable(seed):
    ds, train, truth = _holdout(seed)
    users = np.flatnonzero(truth.getnnz(axis=1) > 0)
    x, t = train[users], truth[users]
    pop = np.asarray(train.sum(axis=0)).ravel()
    pop_scores = np.tile(pop, (len(users), 1))
    # item-item cosine on the binary matrix
    norms = np.sqrt(pop).clip(1)
    sim = (train.T @ train).toarray() / norms[:, None] / norms[None, :]
    np.fill_diagonal(sim, 0)
    cf = x @ sim
    # brand + category one-hot profile
    feats = pd.get_dummies(ds.catalog[["brand", "category"]]).to_numpy(float)
    content = (x @ feats) @ feats.T
    rand = np.random.default_rng(0).random((len(users), ds.n_items))

    r_pop, h_pop = _recall_hit(pop_scores, x, t)
    r_cf, h_cf = _recall_hit(cf, x, t)
    r_ct, h_ct = _recall_hit(content, x, t)
    r_rd, h_rd = _recall_hit(rand, x, t)
    assert r_cf > 1.25 * r_pop and h_cf > 1.2 * h_pop  # measured ~1.45x / 1.4x
    assert r_ct > 2.0 * r_rd and h_ct > 2.0 * h_rd  # measured ~3x
    assert r_pop > 2.0 * r_rd  # the popularity curve is there too


@pytest.mark.parametrize(("seed", "n_items"), [(0, 500), (1, 500), (2, 200), (3, 1000)])
def test_every_item_has_its_own_title(seed, n_items):
    catalog, _ = generate_store(n_users=100, n_items=n_items, n_events=1000, seed=seed)
    assert catalog["title"].is_unique, catalog["title"][catalog["title"].duplicated()].tolist()
    assert catalog["title_zh"].is_unique
    # variants differ by colour or brand, and the columns say the same as the title
    coloured = catalog["color"] != "Clear"
    plain = catalog["title"].str.replace(r" \(Edition \d+\)$", "", regex=True)
    assert all(
        t.endswith(c) for t, c in zip(plain[coloured], catalog["color"][coloured], strict=True)
    )
    phones = catalog["category"] == "phone"
    sizes = catalog["storage_gb"][phones].map(lambda g: "1TB" if g >= 1024 else f"{g:.0f}GB")
    assert all(f" {z} " in t for t, z in zip(catalog["title"][phones], sizes, strict=True))
    assert all(t.startswith(b) or m for t, b, m in catalog[["title", "brand", "model"]].to_numpy())
    if n_items <= 500:
        assert not catalog["title"].str.contains("Edition").any()
