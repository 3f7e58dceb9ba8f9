r"""Incremental item-item models: only the rows of the items new events touched are recomputed.

Item kNN's co-occurrence ``C = XᵀX`` changes only in the rows and columns of *touched* items
(items in the old or new row of a changed user): an untouched item ``i`` shares no changed user
with anyone, so ``C_ij`` and ``‖x_i‖`` keep their values. Hence:

- the rows of touched items are recomputed from the new matrix (``X[:, touched]ᵀ X``, the
  cosine with shrinkage and the top-k exactly as ``fit`` does);
- the other rows keep their neighbour lists; an entry pointing at a touched item ``j`` is
  rescaled exactly, ``s_ij ← s_ij (‖x_i‖‖x_j‖_old + λ) / (‖x_i‖‖x_j‖_new + λ)``.

RP3beta's walk ``P_iu P_ui`` has the same locality (an untouched item's users are all
unchanged), and its popularity damping ``pop_j^-β`` is rescaled for touched ``j``.

The one approximation: an untouched row is not re-selected, so an item just outside its top-k
that would now pass the k-th neighbour (whose similarity fell) is not added. With
``k >= n_items`` the update equals a refit.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import numpy as np
import scipy.sparse as sp

from recsys.data.dataset import Dataset
from recsys.errors import Message
from recsys.models.base import Recommender, pair_values
from recsys.models.rp3beta import _row_normalised
from recsys.models.update.delta import DataDelta, FullRetrainNeeded
from recsys.ranking.topk import top_k_indices

#: Dense cells of one block of recomputed similarity rows.
_BLOCK_CELLS = 8_000_000


def update_item_knn(model, old: Dataset, new: Dataset, delta: DataDelta) -> tuple[Recommender, str]:
    """Item kNN: touched rows recomputed, the other rows rescaled (module docstring)."""
    if model.weighting != "none":
        raise FullRetrainNeeded(
            Message(
                f"user weighting '{model.weighting}' depends on every user",
                "update.why_weighting",
                weighting=model.weighting,
            )
        )
    cosine = model.similarity == "cosine"
    lam = float(model.shrinkage) if cosine else 0.0
    x = pair_values(new.matrix("weight"), model.binary)
    norm_new = _column_norms(x)
    norm_old = delta.remap_items(_column_norms(model.user_rows_))
    k = min(int(model.k_neighbors), max(delta.n_items - 1, 1))
    touched = delta.touched_items
    xt = x.T.tocsr()

    def rows(block: np.ndarray) -> np.ndarray:
        sims = np.asarray((xt[block] @ x).toarray(), np.float32)
        if cosine:
            denom = norm_new[block, None] * norm_new[None, :] + np.float32(lam)
            np.divide(sims, denom, out=sims, where=denom > 0)
        return sims

    def scale(i: np.ndarray, j: np.ndarray) -> np.ndarray:
        if not cosine:
            return np.ones(len(i), np.float32)
        before = norm_new[i] * norm_old[j] + lam
        after = norm_new[i] * norm_new[j] + lam
        return np.divide(before, after, out=np.ones_like(after), where=after > 0)

    m = copy.copy(model)
    m.similarity_ = _patched(delta.remap_item_square(model.similarity_), touched, rows, scale, k)
    m.user_rows_ = x
    m.n_users_, m.n_items_ = delta.n_users, delta.n_items
    return m, _rows_note(len(touched), delta.n_items)


def update_rp3beta(model, old: Dataset, new: Dataset, delta: DataDelta) -> tuple[Recommender, str]:
    """RP3beta: touched rows recomputed, damping of touched columns rescaled (module docstring)."""
    beta, alpha = float(model.beta), float(model.alpha)
    x = pair_values(new.matrix("weight"), model.binary)
    p_ui = _row_normalised(x, alpha)
    p_iu = _row_normalised(x.T.tocsr(), alpha)
    damp_new = _damping(new.item_popularity(), beta)
    damp_old = delta.remap_items(_damping(old.item_popularity(), beta))
    k = min(int(model.topk), max(delta.n_items - 1, 1))

    def rows(block: np.ndarray) -> np.ndarray:
        return np.asarray((p_iu[block] @ p_ui).toarray(), np.float32) * damp_new[None, :]

    def scale(i: np.ndarray, j: np.ndarray) -> np.ndarray:
        return np.divide(
            damp_new[j], damp_old[j], out=np.zeros(len(j), np.float32), where=damp_old[j] > 0
        )

    m = copy.copy(model)
    touched = delta.touched_items
    m.similarity_ = _patched(delta.remap_item_square(model.similarity_), touched, rows, scale, k)
    m.user_rows_ = x
    m.n_users_, m.n_items_ = delta.n_users, delta.n_items
    return m, _rows_note(len(touched), delta.n_items)


def _rows_note(touched: int, n_items: int) -> Message:
    return Message(
        f"{touched:,} of {n_items:,} item rows recomputed",
        "update.rows",
        n=touched,
        total=n_items,
    )


def _damping(pop: np.ndarray, beta: float) -> np.ndarray:
    out = np.zeros(len(pop), np.float64)
    np.power(pop.astype(np.float64), -beta, out=out, where=pop > 0)
    return out.astype(np.float32)


def _column_norms(x: sp.spmatrix) -> np.ndarray:
    return np.sqrt(np.asarray(x.multiply(x).sum(axis=0)).ravel()).astype(np.float32)


def _patched(
    s: sp.csr_matrix,
    touched: np.ndarray,
    rows: Callable[[np.ndarray], np.ndarray],
    scale: Callable[[np.ndarray, np.ndarray], np.ndarray],
    k: int,
) -> sp.csr_matrix:
    """``s`` with the rows of ``touched`` recomputed and the other rows rescaled.

    Touched rows: the top-``k`` positive values of ``rows(block)``, diagonal excluded. Other
    rows: entries in touched columns multiplied by ``scale(i, j)``.
    """
    n = s.shape[0]
    is_touched = np.zeros(n, bool)
    is_touched[touched] = True
    coo = s.tocoo()
    keep = ~is_touched[coo.row]
    r, c, v = coo.row[keep], coo.col[keep], coo.data[keep].astype(np.float32)
    hit = is_touched[c]
    v[hit] *= scale(r[hit], c[hit]).astype(np.float32)
    parts_r, parts_c, parts_v = [r], [c], [v]
    step = max(1, _BLOCK_CELLS // max(n, 1))
    for lo in range(0, len(touched), step):
        block = touched[lo : lo + step]
        sims = rows(block)
        sims[np.arange(len(block)), block] = 0.0
        idx, vals = top_k_indices(sims, k)
        ok = (idx >= 0) & (vals > 0)
        parts_r.append(np.repeat(block, ok.sum(axis=1)))
        parts_c.append(idx[ok])
        parts_v.append(vals[ok].astype(np.float32))
    out = sp.csr_matrix(
        (np.concatenate(parts_v), (np.concatenate(parts_r), np.concatenate(parts_c))),
        shape=s.shape,
        dtype=np.float32,
    )
    out.eliminate_zeros()
    out.sort_indices()
    return out


__all__ = ["update_item_knn", "update_rp3beta"]
