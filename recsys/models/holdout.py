"""Inner validation for models that pick a hyper-parameter inside ``fit``.

EASE chooses its ``λ`` and LightFM its number of epochs on a holdout carved out of the data
they are given, so the choice never sees the caller's own validation or test part. The holdout
follows the project's split protocol (``recsys.data.split``): each user's latest
``fraction`` of pairs (random order when there are no timestamps), at least one pair kept.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from recsys.data.dataset import Dataset
from recsys.data.split import split
from recsys.models.base import mask_exclusions
from recsys.ranking.topk import top_k_indices


@dataclass(frozen=True)
class Holdout:
    """A fitting part and the pairs held out from it (same id maps).

    Attributes
    ----------
    train : the fitting part.
    truth : (n_users, n_items) binary CSR of the held-out pairs.
    users : (m,) int32 users scored: those with at least one held-out pair (or a sample).
    """

    train: Dataset
    truth: sp.csr_matrix
    users: np.ndarray


def inner_holdout(
    dataset: Dataset, fraction: float = 0.2, seed: int = 0, max_users: int | None = None
) -> Holdout:
    """Hold out each user's latest ``fraction`` of pairs (temporal, else random; seeded).

    ``max_users`` caps the users scored (a seeded sample) so that validating stays cheap on
    large logs; every user's pairs are still split the same way.
    """
    parts = split(dataset, method="temporal", test_fraction=fraction, seed=seed)
    users = parts.test.active_users()
    if max_users is not None and len(users) > max_users:
        rng = np.random.default_rng(seed)
        users = np.sort(rng.choice(users, max_users, replace=False)).astype(np.int32)
    return Holdout(parts.train, parts.test.matrix("ones"), users)


def holdout_ndcg(
    score_users: Callable[[np.ndarray], np.ndarray],
    holdout: Holdout,
    k: int = 10,
    block_size: int = 1024,
) -> float:
    """Mean NDCG@k (binary relevance) over the holdout's users, seen items excluded.

    Parameters
    ----------
    score_users : ``(b,) user indices -> (b, n_items)`` scores of a model fitted on
        ``holdout.train``.
    holdout : from :func:`inner_holdout`.

    Returns
    -------
    ``mean_u DCG_u / IDCG_u`` with ``DCG_u = sum_r rel_{u,r} / log2(r + 2)`` over the top-k
    ranks ``r = 0..k-1``; 0.0 when no user has a held-out pair.
    """
    users = holdout.users
    if len(users) == 0:
        return 0.0
    seen = holdout.train.matrix("ones")
    discount = 1.0 / np.log2(np.arange(k) + 2.0)
    ideal = np.concatenate([[0.0], np.cumsum(discount)])
    total = 0.0
    for start in range(0, len(users), block_size):
        block = users[start : start + block_size]
        scores = np.array(score_users(block), dtype=np.float32, copy=True)
        mask_exclusions(scores, seen[block])
        idx, _ = top_k_indices(scores, k)
        truth = holdout.truth[block]
        rel = _is_member(truth, idx)
        dcg = rel.astype(np.float64) @ discount[: idx.shape[1]]
        n_rel = np.minimum(np.diff(truth.indptr), k)
        total += float((dcg / ideal[n_rel]).sum())
    return total / len(users)


def _is_member(rows: sp.csr_matrix, idx: np.ndarray) -> np.ndarray:
    """(b, k) bool: ``idx[r, j]`` is a non-zero column of ``rows[r]`` (-1 never is)."""
    if rows.nnz == 0:
        return np.zeros(idx.shape, bool)
    n = rows.shape[1]
    coo = rows.tocoo()
    keys = np.sort(coo.row.astype(np.int64) * n + coo.col)
    query = np.arange(len(idx), dtype=np.int64)[:, None] * n + idx
    pos = np.minimum(np.searchsorted(keys, query), len(keys) - 1)
    return (idx >= 0) & (keys[pos] == query)


__all__ = ["Holdout", "holdout_ndcg", "inner_holdout"]
