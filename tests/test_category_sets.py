"""Multi-valued categories (MovieLens-style genres "Action|Comedy"): every value counts in the
category shares and in category diversity; single-valued catalogs behave as before."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recsys.data.features import category_sets
from recsys.data.ingest import load_dataset
from recsys.evaluation.metrics.beyond import label_diversity, set_diversity
from recsys.service.data_summary import category_share

GENRES = ["Action|Adventure|Comedy", "Romance", "Action", "Comedy|Romance", ""]


def test_each_item_spreads_one_over_its_genres():
    matrix, labels = category_sets(GENRES)
    assert labels == ["Action", "Adventure", "Comedy", "Romance"]
    dense = matrix.toarray()
    np.testing.assert_allclose(dense.sum(axis=1), [1, 1, 1, 1, 0])
    np.testing.assert_allclose(dense[0], [1 / 3, 1 / 3, 1 / 3, 0])
    np.testing.assert_allclose(dense[3], [0, 0, 0.5, 0.5])


def test_single_valued_categories_stay_label_codes():
    assert category_sets(["phone", "case", "", "phone"]) is None


def test_set_diversity_counts_genre_overlap():
    matrix, _ = category_sets(GENRES)
    lists = np.array([[1, 3, -1], [1, 2, -1], [0, 2, 4]])
    got = set_diversity(lists, matrix)
    # Romance vs Comedy|Romance: overlap 1/sqrt(2); Romance vs Action: 0
    assert got[0] == pytest.approx(1 - 1 / np.sqrt(2))
    assert got[1] == pytest.approx(1.0)
    # A|A|C vs A: 1/sqrt(3); vs unknown and A vs unknown: 0 -> 1 - (2/sqrt(3)) / 6
    assert got[2] == pytest.approx(1 - (2 / np.sqrt(3)) / 6)


def test_set_diversity_equals_label_diversity_for_single_labels():
    rng = np.random.default_rng(0)
    codes = rng.integers(-1, 4, size=30)
    one_hot = np.zeros((30, 4))
    one_hot[np.flatnonzero(codes >= 0), codes[codes >= 0]] = 1.0
    import scipy.sparse as sp

    lists = rng.integers(-1, 30, size=(50, 8))
    lists = np.array([np.where(pd.Series(r).duplicated(), -1, r) for r in lists])
    np.testing.assert_allclose(
        set_diversity(lists, sp.csr_matrix(one_hot)), label_diversity(lists, codes), equal_nan=True
    )


def _dataset(genres: list[str]):
    events = pd.DataFrame(
        {"user_id": [f"u{u}" for u in range(6) for _ in range(2)],
         "item_id": [f"m{(u + j) % len(genres)}" for u in range(6) for j in range(2)]}
    )  # fmt: skip
    catalog = pd.DataFrame({"item_id": [f"m{i}" for i in range(len(genres))], "category": genres})
    return load_dataset(
        events.to_csv(index=False).encode(), catalog.to_csv(index=False).encode()
    ).dataset


def test_category_share_counts_every_genre():
    ds = _dataset(["Action|Romance", "Romance", "Drama"])
    ids = list(ds.item_ids.external_ids)
    counts = np.zeros(ds.n_items)
    counts[ids.index("m0")] = 2  # split over Action and Romance
    counts[ids.index("m1")] = 1
    counts[ids.index("m2")] = 1
    share = category_share(ds, counts)
    assert share["Action"] == pytest.approx(0.25)
    assert share["Romance"] == pytest.approx(0.5)
    assert share["Drama"] == pytest.approx(0.25)


def test_category_share_of_single_categories_is_unchanged():
    ds = _dataset(["phone", "case", "case"])
    share = category_share(ds, np.ones(ds.n_items))
    assert share.to_dict() == pytest.approx({"case": 2 / 3, "phone": 1 / 3})
