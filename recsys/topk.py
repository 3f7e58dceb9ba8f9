"""Top-k selection over score matrices, and the ``TopK`` result type.

Selection, not the matrix product, is the bottleneck of batch recommendation: we use
``argpartition`` on the *largest* k (partitioning at ``n - k`` so no negated copy of the
score matrix is made) and sort only the k survivors.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class TopK:
    """Ranked lists for a set of users, in internal indices.

    Attributes
    ----------
    users : (n,) int32 internal user indices.
    items : (n, k) int32 internal item indices, best first; -1 pads short lists.
    scores : (n, k) float32 scores aligned with ``items`` (-inf on padding).
    """

    users: np.ndarray
    items: np.ndarray
    scores: np.ndarray

    @property
    def k(self) -> int:
        return self.items.shape[1]

    def __len__(self) -> int:
        return len(self.users)

    def truncate(self, k: int) -> TopK:
        return TopK(self.users, self.items[:, :k], self.scores[:, :k])


def top_k_indices(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Row-wise top-k of a dense score matrix.

    Parameters
    ----------
    scores : (n, m) float array; ``-inf`` (or NaN) marks excluded entries.
    k : list length; capped at ``m``.

    Returns
    -------
    idx : (n, k) int32 column indices, best first; -1 where a row had fewer than k finite scores.
    vals : (n, k) float32 scores aligned with ``idx`` (-inf on padding).
    """
    n, m = scores.shape
    k = min(k, m)
    if k <= 0 or n == 0:
        return np.full((n, max(k, 0)), -1, np.int32), np.full((n, max(k, 0)), -np.inf, np.float32)
    if k < m:
        part = np.argpartition(scores, m - k, axis=1)[:, m - k :]
    else:
        part = np.broadcast_to(np.arange(m), (n, m)).copy()
    vals = np.take_along_axis(scores, part, axis=1)
    vals = np.where(np.isnan(vals), -np.inf, vals)
    order = np.argsort(-vals, axis=1, kind="stable")
    idx = np.take_along_axis(part, order, axis=1).astype(np.int32)
    vals = np.take_along_axis(vals, order, axis=1).astype(np.float32)
    idx[~np.isfinite(vals)] = -1
    vals[~np.isfinite(vals)] = -np.inf
    return idx, vals
