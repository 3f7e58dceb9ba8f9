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


def held_out_truth(
    held_out: Dataset, min_rating: float | None = None
) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """What counts as a success on the held-out part: ``(relevant, graded)``.

    relevant : (n_users, n_items) CSR, 1 on relevant held-out pairs: every pair, or with
        ``min_rating`` and ratings, only the pairs rated at least ``min_rating``.
    graded : the same pairs valued by rating (when every pair has one) or by weight, for
        learned fusers that weigh a purchase above a view.
    """
    ratings = held_out.interactions.get(Col.RATING, pd.Series(dtype=float))
    rated = held_out.has_ratings and len(ratings) > 0 and bool(ratings.notna().all())
    graded = held_out.matrix(Col.RATING if rated else Col.WEIGHT)
    relevant = held_out.matrix("ones")
    if min_rating is not None and held_out.has_ratings:
        r = held_out.matrix(Col.RATING)
        liked = (np.nan_to_num(r.data, nan=-np.inf) >= min_rating).astype(np.float32)
        keep = sp.csr_matrix((liked, r.indices, r.indptr), shape=r.shape)
        relevant = sp.csr_matrix(relevant.multiply(keep), dtype=np.float32)
        graded = sp.csr_matrix(graded.multiply(keep), dtype=np.float32)
        relevant.eliminate_zeros()
        graded.eliminate_zeros()
    return relevant, graded
