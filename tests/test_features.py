"""Item features: text n-grams (any language), one-hot attributes, dense vectors, label codes."""

from __future__ import annotations

import numpy as np
import pandas as pd

from recsys.data.dataset import Dataset
from recsys.data.features import (
    attribute_columns,
    item_attribute_matrix,
    item_dense_vectors,
    item_feature_matrix,
    item_label_codes,
    item_token_matrix,
    tokenize,
)
from recsys.data.prices import price_bands
from tests.fixtures_data import make_dataset


def _ds(catalog: pd.DataFrame, items=None) -> Dataset:
    items = list(catalog["item_id"]) if items is None else items
    events = pd.DataFrame({"user_id": ["u"] * len(items), "item_id": items, "weight": 1.0})
    return Dataset.construct(events, catalog)


def _cos(m, i, j) -> float:
    return float((m[i] @ m[j].T).toarray()[0, 0])


def test_chinese_text_gives_nonempty_rows_and_sensible_similarity():
    catalog = pd.DataFrame(
        {"item_id": ["a", "b", "c"], "title_zh": ["蓝牙耳机", "无线蓝牙耳机", "快速充电器"]}
    )
    m, names = item_feature_matrix(_ds(catalog))
    assert m.shape[0] == 3 and all(m[i].nnz > 0 for i in range(3))
    assert "text:蓝牙" in names
    np.testing.assert_allclose(np.asarray(m.multiply(m).sum(axis=1)).ravel(), 1.0, rtol=1e-5)
    assert _cos(m, 0, 1) > 0.4
    assert _cos(m, 0, 2) == 0.0


def test_attributes_one_hot_with_multi_values_and_derived_price_band():
    catalog = pd.DataFrame(
        {
            "item_id": ["a", "b", "c", "d"],
            "category": ["phone", "phone", "case", None],
            "brand": ["X", "Y", "Y", "X"],
            "price": [100.0, 300.0, 10.0, np.nan],
            "genres": ["new|sale", "sale", "", "new"],
            "url": ["u1", "u2", "u3", "u4"],  # unique per item: not an attribute
            "rating": [4.5, 3.2, 4.1, 2.0],  # continuous number: not an attribute
        }
    )
    ds = _ds(catalog)
    assert attribute_columns(ds) == ["category", "brand", "price_band", "genres"]
    m, names = item_attribute_matrix(ds)
    dense = pd.DataFrame(m.toarray(), columns=names)
    assert dense.loc[0, ["category=phone", "brand=X", "genres=new", "genres=sale"]].tolist() == [
        1,
        1,
        1,
        1,
    ]
    assert dense.loc[3].sum() == 2  # brand X, genres new; no category, no price
    assert dense.loc[2, [n for n in names if n.startswith("price_band=")]].sum() == 1
    # quartiles of 10, 100, 300: Q1 = 55, Q2 = 100, Q3 = 200
    assert price_bands([100.0, 300.0, 10.0, None]).tolist() == ["mid", "luxury", "budget", ""]


def test_block_weights_and_row_normalisation():
    ds = make_dataset()
    text_only, _ = item_feature_matrix(ds, attributes=False)
    attrs_only, _ = item_feature_matrix(ds, text=False)
    both, names = item_feature_matrix(ds, text_weight=1.0, attribute_weight=2.0)
    # cos = (1 cos_t + 4 cos_a) / 5 for items with both blocks
    expected = (_cos(text_only, 0, 4) + 4 * _cos(attrs_only, 0, 4)) / 5
    assert _cos(both, 0, 4) == np.float32(expected) or abs(_cos(both, 0, 4) - expected) < 1e-5
    assert any(n.startswith("text:") for n in names) and "category=phone" in names


def test_item_without_catalog_row_is_zero():
    catalog = pd.DataFrame({"item_id": ["a", "b"], "title": ["red phone", "blue phone"]})
    ds = _ds(catalog, items=["a", "b", "zz"])
    m, _ = item_feature_matrix(ds)
    assert m.shape[0] == 3 and m[2].nnz == 0
    assert item_dense_vectors(ds, dim=4)[2].tolist() == [0, 0, 0, 0]


def test_dense_vectors_unit_norm_and_deterministic():
    ds = make_dataset(n_users=40, n_items=60)
    v = item_dense_vectors(ds, dim=16)
    assert v.shape == (60, 16) and v.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(
        v, item_dense_vectors(make_dataset(n_users=40, n_items=60), dim=16)
    )
    # same category items are closer than items of other categories on average
    cats = item_label_codes(ds, "category")
    sims = v @ v.T
    same = cats[:, None] == cats[None, :]
    assert sims[same].mean() > sims[~same].mean() + 0.2


def test_no_catalog_falls_back_to_interactions():
    ds = make_dataset(catalog=False)
    m, names = item_feature_matrix(ds)
    assert m.shape == (ds.n_items, 0) and names == []
    v = item_dense_vectors(ds, dim=8)
    assert v.shape == (ds.n_items, 8)
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, rtol=1e-5)
    assert (item_label_codes(ds, "category") == -1).all()


def test_label_codes():
    catalog = pd.DataFrame(
        {"item_id": ["a", "b", "c", "d"], "brand": ["Y", "X", None, "Y"], "price": [1, 2, 3, 4]}
    )
    ds = _ds(catalog)
    assert item_label_codes(ds, "brand").tolist() == [1, 0, -1, 1]
    assert item_label_codes(ds, "brand").dtype == np.int32
    # budget, mid, premium, luxury; codes follow the sorted labels (budget, luxury, mid, premium)
    assert item_label_codes(ds, "price_band").tolist() == [0, 2, 3, 1]
    assert (item_label_codes(ds, "color") == -1).all()


def test_tokens_for_lightfm():
    assert tokenize("Acme 智能手机 model-12 蓝") == [
        "acme",
        "智能",
        "能手",
        "手机",
        "model",
        "12",
        "蓝",
    ]
    catalog = pd.DataFrame({"item_id": list("abc"), "title": ["Acme phone", "Acme case", "Zeta"]})
    m, names = item_token_matrix(_ds(catalog), max_features=10, min_df=2)
    assert names == ["text=acme"]
    assert m.toarray().ravel().tolist() == [1, 1, 0]
