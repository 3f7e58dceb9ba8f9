"""Why an item was recommended: per-model contributions, rules, diversity moves and an anchor.

The anchor ("because you interacted with X") is the item in the user's history most similar to
the recommendation (cosine on unit-norm content vectors). Internal indices only: the engine maps
them to ids and titles.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recsys.data.schema import Col
from recsys.ranking.candidates import CandidatePool
from recsys.ranking.rerank import CAP, MMR, RankedLists


def history_anchors(
    rec_items: np.ndarray, history: sp.csr_matrix, item_vectors: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """Most similar history item for every recommended item, vectorised over users.

    Parameters
    ----------
    rec_items : (n, k) int internal items (-1 pads).
    history : (n, n_items) sparse, row r = the items of the user of ``rec_items[r]``.
    item_vectors : (n_items, d) unit-norm vectors (None: no anchors).

    Returns
    -------
    anchor : (n, k) int32 history item (-1 when none: empty history, padding, no vectors).
    similarity : (n, k) float32 cosine (NaN when no anchor). The item itself is never its anchor.
    """
    n, k = rec_items.shape
    anchor = np.full((n, k), -1, np.int32)
    sim_out = np.full((n, k), np.nan, np.float32)
    if item_vectors is None or n == 0 or k == 0:
        return anchor, sim_out
    h = sp.csr_matrix(history)
    h.sort_indices()
    counts = np.diff(h.indptr)
    users = np.flatnonzero(counts > 0)
    if len(users) == 0:
        return anchor, sim_out
    pair_user = np.repeat(np.arange(n), counts)
    hist = h.indices
    v = np.asarray(item_vectors, np.float32)
    rec = rec_items[pair_user]  # (P, k)
    sims = np.einsum("pd,pkd->pk", v[hist], v[np.maximum(rec, 0)])
    sims[(rec < 0) | (rec == hist[:, None])] = -np.inf
    starts = h.indptr[users]
    best = np.maximum.reduceat(sims, starts, axis=0)  # (len(users), k)
    is_best = sims == np.repeat(best, counts[users], axis=0)
    pair_idx = np.where(is_best, np.arange(len(hist))[:, None], len(hist))
    first = np.minimum.reduceat(pair_idx, starts, axis=0)
    ok = np.isfinite(best) & (first < len(hist))
    anchor[users] = np.where(ok, hist[np.minimum(first, len(hist) - 1)], -1)
    sim_out[users] = np.where(ok, best, np.nan)
    return anchor, sim_out


def explain(
    pool: CandidatePool,
    ranked: RankedLists,
    contributions: np.ndarray,
    model_names: Sequence[str] | None,
    user_row: int,
    history_items: np.ndarray,
    item_vectors: np.ndarray | None,
    catalog: pd.DataFrame | None = None,
    fused: np.ndarray | None = None,
) -> pd.DataFrame:
    """One row per recommended item of one user (pool row ``user_row``).

    Parameters
    ----------
    contributions : (n_parts, n, C) from ``fusion.contributions``.
    model_names : names of the parts for the ``contrib_<name>`` columns (default: the pool's
        models).
    history_items : (h,) internal items the user interacted with (anchor candidates).
    item_vectors : (n_items, d) unit-norm content vectors, or None.
    catalog : when given, ``item_id`` / ``title`` columns are added for item and anchor.
    fused : (n, C) fused scores; default = the sum of ``contributions`` (exact for additive methods).

    Returns
    -------
    DataFrame with ``position`` (1-based), ``item_idx``, ``score`` (final), ``fused_score``,
    ``fused_position`` (1-based, 0 if not in the pool), ``moved`` (fused position - position;
    > 0: moved up), ``diversity_moved``, ``rules`` (names, "; "-joined), ``contrib_<model>`` ...,
    ``anchor_item_idx``, ``anchor_similarity``.
    """
    hist = np.asarray(history_items, np.int64)
    n_items = _n_items(ranked, hist, item_vectors, catalog)
    hmat = sp.csr_matrix(
        (np.ones(len(hist), np.float32), (np.zeros(len(hist), np.int64), hist)), shape=(1, n_items)
    )
    frame = explain_many(
        pool,
        ranked,
        contributions,
        model_names,
        np.array([user_row]),
        hmat,
        item_vectors,
        catalog,
        fused,
    )
    return frame.drop(columns="user_row").reset_index(drop=True)


def _n_items(ranked, hist, item_vectors, catalog) -> int:
    if item_vectors is not None:
        return item_vectors.shape[0]
    if catalog is not None:
        return len(catalog)
    return int(max(ranked.topk.items.max(initial=0), hist.max(initial=0)) + 1)


def explain_many(
    pool: CandidatePool,
    ranked: RankedLists,
    contributions: np.ndarray,
    model_names: Sequence[str] | None,
    user_rows: np.ndarray,
    histories: sp.csr_matrix,
    item_vectors: np.ndarray | None,
    catalog: pd.DataFrame | None = None,
    fused: np.ndarray | None = None,
) -> pd.DataFrame:
    """``explain`` for many pool rows at once (vectorised); ``histories`` row r = ``user_rows[r]``.

    Same columns as ``explain`` plus ``user_row``; padding slots are dropped.
    """
    names = list(model_names or pool.model_names)
    rows = np.asarray(user_rows, np.int64)
    items = ranked.topk.items[rows]
    pos = ranked.pool_pos[rows]
    in_pool = pos >= 0
    sp_ = np.maximum(pos, 0)
    contrib = np.take_along_axis(contributions[:, rows, :], sp_[None], axis=2) * in_pool[None]
    if fused is None:
        fused_score = contrib.sum(axis=0)
    else:
        fused_score = np.where(in_pool, np.take_along_axis(fused[rows], sp_, 1), np.nan)
    fused_rank = ranked.fused_rank[rows]
    flags = ranked.touched_by[rows]
    anchor, sim = history_anchors(items, histories, item_vectors)
    r, c = np.nonzero(items >= 0)
    frame = pd.DataFrame(
        {
            "user_row": rows[r],
            "position": c + 1,
            "item_idx": items[r, c],
            "score": ranked.topk.scores[rows[r], c],
            "fused_score": fused_score[r, c].astype(np.float32),
            "fused_position": fused_rank[r, c] + 1,
            "moved": np.where(fused_rank[r, c] >= 0, fused_rank[r, c] - c, 0),
            "diversity_moved": (flags[r, c] & (MMR | CAP)) > 0,
            "rules": [
                "; ".join(ranked.touched_names(int(a), int(b)))
                for a, b in zip(rows[r], c, strict=True)
            ],
        }
    )
    for m, name in enumerate(names):
        frame[f"contrib_{name}"] = contrib[m, r, c].astype(np.float32)
    a = anchor[r, c]
    frame["anchor_item_idx"] = a
    frame["anchor_similarity"] = sim[r, c]
    if catalog is not None and Col.ITEM in catalog.columns:
        ids = catalog[Col.ITEM].to_numpy()
        frame[Col.ITEM] = ids[items[r, c]]
        frame["anchor_item_id"] = np.where(a >= 0, ids[np.maximum(a, 0)], None)
        if Col.TITLE in catalog.columns:
            titles = catalog[Col.TITLE].to_numpy()
            frame[Col.TITLE] = titles[items[r, c]]
            frame["anchor_title"] = np.where(a >= 0, titles[np.maximum(a, 0)], None)
    return frame


__all__ = ["explain", "explain_many", "history_anchors"]
