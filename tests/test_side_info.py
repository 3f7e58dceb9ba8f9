"""What counts as relevant on the held-out part, and the side information learned fusers read."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recsys.data.dataset import Dataset
from recsys.ranking.rerank import ItemTable
from recsys.service.side_info import fusion_context, held_out_truth


def _rated() -> Dataset:
    events = pd.DataFrame(
        {
            "user_id": ["u1", "u1", "u2", "u2", "u2"],
            "item_id": ["a", "b", "a", "b", "c"],
            "weight": [1.0, 1.0, 1.0, 1.0, 1.0],
            "rating": [5.0, 2.0, 4.0, 3.5, 4.5],
            "timestamp": pd.to_datetime(
                ["2024-01-01", "2024-01-03", "2024-01-02", "2024-01-05", "2024-01-11"]
            ),
        }
    )
    catalog = pd.DataFrame({"item_id": ["a", "b", "c"], "category": ["x", "x", "y"]})
    return Dataset.construct(events, catalog)


def test_min_rating_keeps_only_liked_pairs():
    ds = _rated()
    every, graded = held_out_truth(ds)
    assert every.nnz == 5 and sorted(graded.data.tolist()) == [2.0, 3.5, 4.0, 4.5, 5.0]
    liked, graded = held_out_truth(ds, min_rating=4)
    assert liked.nnz == 3 and set(liked.data) == {1.0}
    assert sorted(graded.data.tolist()) == [4.0, 4.5, 5.0]
    u1 = ds.user_ids.to_internal(["u1"])[0]
    a, b = ds.item_ids.to_internal(["a", "b"])
    assert liked[u1, a] == 1 and liked[u1, b] == 0


def test_context_recency_and_shares():
    ds = _rated()
    items = ItemTable.from_arrays(catalog=ds.catalog, popularity=ds.item_popularity())
    ctx = fusion_context(ds, items)
    a, b, c = ds.item_ids.to_internal(["a", "b", "c"])
    # last interactions: a on Jan 2, b on Jan 5, c on Jan 11 (the end)
    assert ctx.item_recency[[a, b, c]].tolist() == pytest.approx([9.0, 6.0, 0.0])
    u2 = ds.user_ids.to_internal(["u2"])[0]
    share = ctx.user_category_share.toarray()[u2]
    x, y = (items.category_names.index(n) for n in ("x", "y"))
    assert share[x] == pytest.approx(2 / 3) and share[y] == pytest.approx(1 / 3)
    assert np.allclose(ctx.user_category_share.sum(axis=1), 1.0)
