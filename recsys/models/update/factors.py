r"""Fold-in for factor models: new and changed users get factors from the fixed item factors.

The same solve ``score_history`` does for one ad-hoc user, done for every changed user of a
training set at once:

- ``svd`` / ``svdpp`` (Surprise): the ridge fold-in of ``recsys.models.surprise_factors``,
  ``(Q_hᵀQ_h + λ|h| I) p = Q_hᵀ (r_h - μ - b_h - Q_h z_h)`` with ``b_u = 0`` (``z_h``: SVD++'s
  implicit part, 0 for SVD);
- ``als`` (implicit): one exact ALS user step with the item factors fixed,
  ``(YᵀY + Y_hᵀ(C_h - I)Y_h + λI) x = Y_hᵀ c_h`` (Hu, Koren & Volinsky 2008); items that are new
  to the model first get one item step from the users who touched them;
- ``lightfm_*``: the weighted mean of the history's item embeddings (no user bias), as
  ``score_history`` does.

Items the model has never seen keep zero factors (they are cold for these models; content
features and co-occurrence models score them). Nothing here loops over users: the linear
systems are built by batched matrix products over users grouped by history length and solved
with one batched ``numpy.linalg.solve`` per group.
"""

from __future__ import annotations

import copy

import numpy as np
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from recsys.data.dataset import Dataset
from recsys.data.schema import Col
from recsys.errors import Message
from recsys.models.base import Recommender
from recsys.models.implicit_models import confidence
from recsys.models.surprise_base import derive_ratings
from recsys.models.update.delta import DataDelta, FullRetrainNeeded

#: Bytes of the padded history factors and normal matrices built at once.
_SOLVE_BYTES = 64 * 2**20


def batched_ridge(
    c: sp.csr_matrix,
    t: sp.csr_matrix,
    y: np.ndarray,
    lam: np.ndarray,
    base: np.ndarray | None = None,
) -> np.ndarray:
    """Solve ``(base + Σ_i c_ui y_i y_iᵀ + λ_u I) x_u = Σ_i t_ui y_i`` for every row ``u``.

    Parameters
    ----------
    c : (n, m) CSR of non-negative weights ``c_ui`` of each row's items.
    t : (n, m) CSR of targets ``t_ui`` with the same pattern as ``c``.
    y : (m, f) item factors.
    lam : (n,) ridge of each row (> 0 unless ``base`` is positive definite).
    base : (f, f) matrix shared by every row (ALS's ``YᵀY``), or None.

    Returns
    -------
    (n, f) float64 solutions. Rows are grouped by history length so that the padded
    ``(rows, length, f)`` gathers stay small; one batched solve per group.
    """
    n, f = c.shape[0], y.shape[1]
    out = np.zeros((n, f))
    if n == 0:
        return out
    c = sp.csr_matrix(c, dtype=np.float64)
    rhs = np.asarray(sp.csr_matrix(t, dtype=np.float64) @ y.astype(np.float64))
    lengths = np.diff(c.indptr)
    order = np.argsort(lengths, kind="stable")
    yz = np.vstack([y.astype(np.float64), np.zeros((1, f))])  # last row: padding
    pos = 0
    with threadpool_limits(limits=1, user_api="blas"):  # many small systems: one thread each
        while pos < n:
            pos = _solve_group(c, rhs, yz, lengths, order, pos, lam, base, out)
    return out


def _solve_group(
    c: sp.csr_matrix,
    rhs: np.ndarray,
    yz: np.ndarray,
    lengths: np.ndarray,
    order: np.ndarray,
    pos: int,
    lam: np.ndarray,
    base: np.ndarray | None,
    out: np.ndarray,
) -> int:
    """Solve the systems of rows ``order[pos:end]`` into ``out``; returns ``end``.

    The group is as large as ``_SOLVE_BYTES`` allows for its longest history (``order`` sorts
    rows by history length); ``yz`` is the factor matrix with a zero padding row last.
    """
    n, f = len(order), yz.shape[1]
    size = max(1, _SOLVE_BYTES // (8 * f * (max(int(lengths[order[pos]]), 1) + f)))
    end = min(n, pos + size)
    while end - pos > 1 and (end - pos) * (int(lengths[order[end - 1]]) + f) * f * 8 > (
        _SOLVE_BYTES
    ):
        end = pos + max(1, (end - pos) // 2)
    rows = order[pos:end]
    width = max(int(lengths[rows].max()), 1)
    cols = np.arange(width)
    mask = cols[None, :] < lengths[rows, None]
    flat = c.indptr[rows, None] + cols[None, :]
    idx = np.full((len(rows), width), yz.shape[0] - 1, np.int64)
    w = np.zeros((len(rows), width))
    idx[mask] = c.indices[flat[mask]]
    w[mask] = c.data[flat[mask]]
    p = yz[idx] * np.sqrt(w)[:, :, None]  # (b, width, f)
    a = np.matmul(p.transpose(0, 2, 1), p)  # (b, f, f)
    if base is not None:
        a += base
    diag = np.arange(f)
    a[:, diag, diag] += np.asarray(lam, np.float64)[rows, None]
    out[rows] = np.linalg.solve(a, rhs[rows][:, :, None])[:, :, 0]
    return end


def _copy(model: Recommender) -> Recommender:
    """A shallow copy sharing the old model's arrays (which are never changed in place)."""
    out = copy.copy(model)
    out.__dict__.pop("model_", None)  # library object of the old fit: not ours to carry
    return out


def _fold_note(n: int) -> Message:
    return Message(f"fold-in of {n:,} users", "update.fold_in", n=n)


def _sizes(model: Recommender, delta: DataDelta) -> None:
    model.n_users_ = delta.n_users
    model.n_items_ = delta.n_items


# ---------------------------------------------------------------------------- Surprise SVD, SVD++
def _surprise_ratings(model, new: Dataset) -> sp.csr_matrix:
    """(n_users, n_items) ratings of ``new``'s pairs, derived as the model's fit derived them."""
    df = new.interactions
    if model.rating_source_ == "rating":
        keep = df[Col.RATING].notna().to_numpy()
        df = df.loc[keep]
        r = df[Col.RATING].to_numpy(np.float64)
    else:
        r = derive_ratings(df[Col.WEIGHT].to_numpy(np.float64), model.w_ref_, model.implicit_rating)
    return sp.csr_matrix(
        (r, (df[Col.USER_IDX].to_numpy(), df[Col.ITEM_IDX].to_numpy())),
        shape=(new.n_users, new.n_items),
    )


def update_surprise_factors(
    model, old: Dataset, new: Dataset, delta: DataDelta
) -> tuple[Recommender, str]:
    """SVD / SVD++ with every changed user folded in (the ridge fold-in of ``score_history``)."""
    m = _copy(model)
    m.inner_of_item_ = delta.remap_items(model.inner_of_item_, -1)
    m.item_known_ = m.inner_of_item_ >= 0
    m.known_items_ = np.flatnonzero(m.item_known_).astype(np.int32)
    m.item_pos_ = np.full(delta.n_items, -1, np.int64)
    m.item_pos_[m.known_items_] = np.arange(len(m.known_items_))
    m.bi_ = delta.remap_items(model.bi_)
    m.qi_ = delta.remap_items(model.qi_)
    if hasattr(model, "yj_"):
        m.yj_ = delta.remap_items(model.yj_)
    m.bu_ = delta.remap_users(model.bu_)
    m.user_vec_ = delta.remap_users(model.user_vec_)
    m.inner_of_user_ = delta.remap_users(model.inner_of_user_, -1)
    m.user_known_ = delta.remap_users(model.user_known_, False)
    ratings = _surprise_ratings(model, new)[:, m.known_items_].tocsr()
    ratings.sort_indices()
    m.ratings_ = sp.csr_matrix(ratings, dtype=np.float32)
    m._sim_ext_cache = None

    ch = delta.changed_users
    rows = ratings[ch]  # (c, n_known): positions in known_items_
    items = m.known_items_[rows.indices]
    n_hist = np.diff(rows.indptr)
    q = m.qi_[m.known_items_].astype(np.float64)
    offset = m.global_mean_ + m.bi_[items].astype(np.float64) if m.biased else 0.0
    z = np.zeros((len(ch), q.shape[1]))
    if hasattr(m, "yj_"):  # SVD++: the implicit part |h|^-1/2 Σ y_j, then its residual share
        ones = rows.copy()
        ones.data[:] = 1.0
        norm = np.where(n_hist > 0, 1.0 / np.sqrt(np.maximum(n_hist, 1)), 0.0)
        z = sp.diags(norm) @ ones @ m.yj_[m.known_items_].astype(np.float64)
    pair_user = np.repeat(np.arange(len(ch)), n_hist)
    resid = rows.data - offset - np.einsum("pf,pf->p", q[rows.indices], z[pair_user])
    lam = np.maximum(m._fold_in_reg() * n_hist, 1e-6)
    c = sp.csr_matrix((np.ones(rows.nnz), rows.indices, rows.indptr), shape=rows.shape)
    t = sp.csr_matrix((resid, rows.indices, rows.indptr), shape=rows.shape)
    p = batched_ridge(c, t, q, lam)
    has = n_hist > 0
    m.user_vec_ = m.user_vec_.copy()
    m.user_vec_[ch] = np.where(has[:, None], p + z, 0.0).astype(np.float32)
    m.bu_ = m.bu_.copy()
    m.bu_[ch] = 0.0
    m.user_known_ = m.user_known_.copy()
    m.user_known_[ch] = has
    _sizes(m, delta)
    return m, _fold_note(len(ch))


# ---------------------------------------------------------------------------- implicit ALS
def update_als(model, old: Dataset, new: Dataset, delta: DataDelta) -> tuple[Recommender, str]:
    """ALS: one item step for new items, then one exact user step for every changed user."""
    m = _copy(model)
    reg = float(model.regularization)
    conf = confidence(new.matrix("weight"), model.alpha, model.confidence_scale)
    users = delta.remap_users(model.user_factors_).astype(np.float64)
    items = delta.remap_items(model.item_factors_).astype(np.float64)
    ch = delta.changed_users
    if len(ch) and reg <= 0:
        raise FullRetrainNeeded(
            Message("ALS without regularization has no stable fold-in", "update.why_als_reg")
        )
    rows = conf[ch]
    base = items.T @ items
    users[ch] = batched_ridge(_minus_one(rows), rows, items, np.full(len(ch), reg), base)
    fresh = delta.new_items
    note = _fold_note(len(ch))
    if len(fresh):
        cols = conf[:, fresh].T.tocsr()  # (new items, users)
        items[fresh] = batched_ridge(
            _minus_one(cols), cols, users, np.full(len(fresh), reg), users.T @ users
        )
        note = Message(
            f"fold-in of {len(ch):,} users, {len(fresh):,} new items",
            "update.fold_in_items",
            n=len(ch),
            items=len(fresh),
        )
    m.user_factors_ = users.astype(np.float32)
    m.item_factors_ = items.astype(np.float32)
    m.item_gram_ = m.item_factors_.astype(np.float64).T @ m.item_factors_.astype(np.float64)
    _sizes(m, delta)
    return m, note


def _minus_one(conf: sp.csr_matrix) -> sp.csr_matrix:
    out = conf.copy()
    out.data = out.data - 1.0
    return out


# ---------------------------------------------------------------------------- LightFM
def update_lightfm(model, old: Dataset, new: Dataset, delta: DataDelta) -> tuple[Recommender, str]:
    """LightFM: changed users take the weighted mean of their items' embeddings, no user bias."""
    m = _copy(model)
    m.item_emb_ = delta.remap_items(model.item_emb_)
    m.item_bias_ = delta.remap_items(model.item_bias_)
    m.user_emb_ = delta.remap_users(model.user_emb_).copy()
    m.user_bias_ = delta.remap_users(model.user_bias_).copy()
    ch = delta.changed_users
    known = np.ones(delta.n_items, np.float32)
    known[delta.new_items] = 0.0  # no embedding to average for items the model never saw
    w = sp.csr_matrix(new.matrix("weight")[ch] @ sp.diags(known))
    total = np.asarray(w.sum(axis=1)).ravel()
    profile = np.asarray(w @ m.item_emb_.astype(np.float64))
    profile = np.divide(
        profile, total[:, None], out=np.zeros_like(profile), where=total[:, None] > 0
    )
    m.user_emb_[ch] = profile.astype(np.float32)
    m.user_bias_[ch] = 0.0
    _sizes(m, delta)
    return m, _fold_note(len(ch))


__all__ = ["batched_ridge", "update_als", "update_lightfm", "update_surprise_factors"]
