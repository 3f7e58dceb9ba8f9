r"""Incremental counts and profiles: popularity, trending and content.

- ``popularity`` / ``trending``: the item scores are sums over pairs, so the changed users'
  old pairs are taken out and their new pairs put in; for trending the kept part is first
  decayed by the time the newest pair moved, ``2^{-(t_new - t_old) / h}``. Equal to a refit.
- ``content_tfidf``: the item side (TF-IDF profiles, content neighbours) depends on the catalog
  only and is kept; the user rows are rebuilt from the new pairs (one pass, ``O(pairs)``) and
  the profile norms recomputed for the changed users (for all users when the profile decays
  with time). When new items arrive *with* catalog text or attributes, the TF-IDF vocabulary
  changes: the model is refitted (new items then get their content profiles).
"""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recsys.data.dataset import Dataset
from recsys.data.schema import Col
from recsys.errors import Message
from recsys.models.base import Recommender
from recsys.models.popularity import time_decay
from recsys.models.update.delta import DataDelta, FullRetrainNeeded

_DAY = 86400.0


def update_popularity(
    model, old: Dataset, new: Dataset, delta: DataDelta
) -> tuple[Recommender, str]:
    """Popularity / trending: the changed users' pairs swapped (exact; module docstring)."""
    ts_old = old.interactions[Col.TIMESTAMP].to_numpy(np.float64)
    ts_new = new.interactions[Col.TIMESTAMP].to_numpy(np.float64)
    half_life = getattr(model, "half_life_days", None)
    decays = half_life is not None and (np.isfinite(ts_old).any() or np.isfinite(ts_new).any())
    if decays and not (np.isfinite(ts_old).all() and np.isfinite(ts_new).all()):
        raise FullRetrainNeeded(
            Message(
                "pairs without a timestamp decay relative to the oldest one",
                "update.why_timestamps",
            )
        )
    in_old = _changed_rows(old.interactions, delta.user_map, delta.changed_users)
    in_new = np.isin(new.interactions[Col.USER_IDX].to_numpy(), delta.changed_users)
    scores = delta.remap_items(model.item_scores_.astype(np.float64))
    shift = 1.0
    if decays and half_life is not None:
        shift = float(np.exp2(-(ts_new.max() - ts_old.max()) / _DAY / float(half_life)))
    scores -= _contributions(model, old, in_old, delta.item_map, delta.n_items)
    scores *= shift
    scores += _contributions(model, new, in_new, None, delta.n_items)
    m = copy.copy(model)
    m.item_scores_ = np.maximum(scores, 0.0).astype(np.float32)
    m.n_users_, m.n_items_ = delta.n_users, delta.n_items
    n = len(delta.changed_users)
    return m, Message(f"counts of {n:,} users swapped", "update.counts", n=n)


def _changed_rows(frame: pd.DataFrame, user_map: np.ndarray, changed: np.ndarray) -> np.ndarray:
    """(n_pairs,) bool: the pair of an old frame belongs to a changed user (new indices)."""
    return np.isin(user_map[frame[Col.USER_IDX].to_numpy()], changed)


def _contributions(
    model, data: Dataset, rows: np.ndarray, item_map: np.ndarray | None, n_items: int
) -> np.ndarray:
    """(n_items,) what the selected pairs of ``data`` add to the item scores (in new indices)."""
    values = model._pair_values(data) * model._decay(data)
    values = np.broadcast_to(values, (len(data.interactions),))[rows]
    items = data.interactions[Col.ITEM_IDX].to_numpy()[rows]
    if item_map is not None:
        items = item_map[items]
    return np.bincount(items, weights=values, minlength=n_items)


def update_content(model, old: Dataset, new: Dataset, delta: DataDelta) -> tuple[Recommender, str]:
    """Content: user rows rebuilt, item side kept (refit when new items bring catalog data)."""
    if _new_items_described(new, delta.new_items):
        raise FullRetrainNeeded(
            Message("new catalog items change the TF-IDF vocabulary", "update.why_vocabulary")
        )
    df = new.interactions
    w = (
        np.ones(len(df), np.float64)
        if model.binary
        else np.log1p(df[Col.WEIGHT].to_numpy(np.float64))
    )
    w = w * time_decay(df[Col.TIMESTAMP].to_numpy(), model.half_life_days)
    rows = sp.csr_matrix(
        (w.astype(np.float32), (df[Col.USER_IDX].to_numpy(), df[Col.ITEM_IDX].to_numpy())),
        shape=(delta.n_users, delta.n_items),
    )
    m = copy.copy(model)
    m.user_rows_ = rows
    pad = sp.csr_matrix((delta.n_items, model.item_features_.shape[1]), dtype=np.float32)
    feats = sp.vstack([model.item_features_, pad[: max(delta.n_items - model.n_items_, 0)]])
    m.item_features_ = _reorder_rows(sp.csr_matrix(feats), delta)
    m.neighbours_ = delta.remap_item_square(model.neighbours_)
    m.n_users_, m.n_items_ = delta.n_users, delta.n_items
    if model.half_life_days is None:
        norms = delta.remap_users(model.profile_norms_)
        ch = delta.changed_users
        norms[ch] = m._profile_norms(rows[ch])
        m.profile_norms_ = norms
        return m, Message(f"profiles of {len(ch):,} users rebuilt", "update.profiles", n=len(ch))
    m.profile_norms_ = m._profile_norms(rows)
    return m, Message(
        "every user profile rebuilt (time decay moves with the newest event)",
        "update.profiles_all",
    )


def _reorder_rows(stacked: sp.csr_matrix, delta: DataDelta) -> sp.csr_matrix:
    """Old item rows first, zero rows of new items after -> rows in the new item order."""
    order = np.empty(delta.n_items, np.int64)
    order[delta.item_map] = np.arange(len(delta.item_map))
    order[delta.new_items] = len(delta.item_map) + np.arange(len(delta.new_items))
    return sp.csr_matrix(stacked[order], dtype=np.float32)


def _new_items_described(new: Dataset, items: np.ndarray) -> bool:
    """True when a new item has any catalog value besides its id."""
    if len(items) == 0:
        return False
    cat = new.catalog.iloc[items].drop(columns=[Col.ITEM], errors="ignore")
    if cat.shape[1] == 0:
        return False
    text = cat.astype(object).where(cat.notna(), "").astype(str).apply(lambda s: s.str.strip())
    return bool((text != "").to_numpy().any())


__all__ = ["update_content", "update_popularity"]
