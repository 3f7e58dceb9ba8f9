"""Side information learned fusers read, built from one stage's training data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recsys.data.dataset import Dataset
from recsys.data.schema import Col
from recsys.ranking.fusion import FusionContext
from recsys.ranking.rerank import ItemTable

SECONDS_PER_DAY = 86_400.0


def fusion_context(train: Dataset, items: ItemTable) -> FusionContext:
    """Popularity, recency, activity and per-user category / brand shares of ``train``."""
    return FusionContext(
        item_popularity=train.item_popularity().astype(np.float32),
        user_activity=train.user_activity().astype(np.float32),
        item_recency=item_recency_days(train),
        user_category_share=label_shares(train, items.category),
        user_brand_share=label_shares(train, items.brand),
        item_category=items.category,
        item_brand=items.brand,
    )


def item_recency_days(ds: Dataset) -> np.ndarray:
    """(n_items,) days from each item's last interaction to the last one in ``ds`` (NaN: none)."""
    out = np.full(ds.n_items, np.nan, np.float32)
    df = ds.interactions
    if not ds.has_timestamps or df[Col.TIMESTAMP].isna().all():
        return out
    last = df.groupby(Col.ITEM_IDX)[Col.TIMESTAMP].max()
    end = float(df[Col.TIMESTAMP].max())
    out[last.index.to_numpy()] = ((end - last.to_numpy()) / SECONDS_PER_DAY).astype(np.float32)
    return out


def label_shares(ds: Dataset, codes: np.ndarray) -> sp.csr_matrix | None:
    """(n_users, n_labels) CSR: each user's share of interaction weight per item label.

    ``codes`` (n_items,) int label codes, -1 unknown (not counted). None when no item has one.
    """
    codes = np.asarray(codes, np.int64)
    known = np.flatnonzero(codes >= 0)
    if len(known) == 0:
        return None
    onehot = sp.csr_matrix(
        (np.ones(len(known), np.float32), (known, codes[known])),
        shape=(ds.n_items, int(codes.max()) + 1),
    )
    weight = ds.matrix("weight")
    counts = sp.csr_matrix(weight @ onehot)
    totals = np.asarray(counts.sum(axis=1)).ravel()
    scale = np.divide(1.0, totals, out=np.zeros_like(totals), where=totals > 0)
    return sp.csr_matrix(sp.diags(scale.astype(np.float32)) @ counts)


def graded_truth(held_out: Dataset) -> sp.csr_matrix:
    """(n_users, n_items) held-out pairs valued by rating (when every pair has one) or weight."""
    ratings = held_out.interactions.get(Col.RATING, pd.Series(dtype=float))
    if held_out.has_ratings and len(ratings) and ratings.notna().all():
        return held_out.matrix(Col.RATING)
    return held_out.matrix(Col.WEIGHT)
