"""Surprise's item-item models: KNNBaseline (pearson-baseline neighbours) and SlopeOne.

See :mod:`recsys.models.surprise_base` for ratings, id alignment and fallbacks.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import scipy.sparse as sp

from recsys.errors import ConfigError
from recsys.models.base import ParamRange
from recsys.models.surprise_base import MAX_DENSE_ITEMS, SurpriseRecommender, _surprise
from recsys.models.surprise_baselines import BSL_RANGES, _BaselineMixin, _bsl_options

#: Elements of one gathered (rows x neighbours) tile in the KNN / SlopeOne kernels.
_TILE = 1 << 23


def _padded_rows(m: sp.csr_matrix, rows: np.ndarray, pad: int) -> tuple[np.ndarray, np.ndarray]:
    """Column indices and values of CSR ``rows``, right-padded to the longest row.

    Returns
    -------
    idx : (b, r_max) int64 column indices, ``pad`` on padding.
    val : (b, r_max) float32 values, 0 on padding.
    """
    starts, ends = m.indptr[rows], m.indptr[rows + 1]
    lens = ends - starts
    r_max = int(lens.max()) if len(rows) else 0
    idx = np.full((len(rows), r_max), pad, dtype=np.int64)
    val = np.zeros((len(rows), r_max), dtype=np.float32)
    if r_max:
        mask = np.arange(r_max)[None, :] < lens[:, None]
        src = (starts[:, None] + np.arange(r_max)[None, :])[mask]
        idx[mask] = m.indices[src]
        val[mask] = m.data[src]
    return idx, val


def _topk_positive(sims: np.ndarray, dev: np.ndarray, k: int):
    """Surprise's k-NN aggregation over the last axis.

    Keeps the ``k`` largest similarities (ties broken by position, like the stable
    ``heapq.nlargest``), then only the positive ones, and returns
    ``(sum sim * dev, sum sim, count)`` over the kept neighbours.

    Parameters
    ----------
    sims : (..., r) float32 similarities >= 0 (negative ones already set to 0).
    dev : array broadcastable to ``sims``: neighbour residuals ``r_uj - b_uj``.
    """
    r = sims.shape[-1]
    if r > k:
        t = np.partition(sims, r - k, axis=-1)[..., r - k, None]
        sel = (sims >= t) & (sims > 0)
        over = np.flatnonzero(sel.sum(-1).ravel() > k)  # ties at the k-th value: rare
        if len(over):
            flat_s, flat_sel = sims.reshape(-1, r), sel.reshape(-1, r)
            s_o, t_o = flat_s[over], t.reshape(-1, 1)[over]
            gt = s_o > t_o
            eq = s_o == t_o
            need = k - gt.sum(-1, keepdims=True)
            flat_sel[over] = gt | (eq & (np.cumsum(eq, axis=-1) <= need))
            sel = flat_sel.reshape(sims.shape)
    else:
        sel = sims > 0
    kept = np.where(sel, sims, 0.0)
    return (kept * dev).sum(-1), kept.sum(-1), sel.sum(-1)


class _DenseItemMatrix:
    """Memory of a model that keeps a dense item-by-item matrix (``8 n²`` bytes)."""

    fit_bytes_per_pair: ClassVar[float]

    @classmethod
    def memory_need(
        cls, n_users: int, n_items: int, n_pairs: int, params: dict | None = None
    ) -> tuple[int, int]:
        """The trainset's dicts while fitting; the dense item-by-item matrix kept (``8 n²``)."""
        kept = 8 * n_items * n_items + 12 * n_pairs
        return int(cls.fit_bytes_per_pair * n_pairs) + kept, kept


class SurpriseKNNBaseline(_DenseItemMatrix, _BaselineMixin, SurpriseRecommender):
    """Surprise ``KNNBaseline``, item-based with ``pearson_baseline`` similarity.

    ``r_ui = b_ui + sum_{j in N^k_i(u)} sim(i,j) (r_uj - b_uj) / sum_{j in N^k_i(u)} sim(i,j)``,
    ``N^k_i(u)``: the ``k`` items rated by ``u`` most similar to ``i``, of which only those with
    ``sim > 0`` count (fewer than ``min_k`` of them: baseline only). Computed **exactly**:
    users with at most ``k`` ratings by two sparse-dense products over ``max(sim, 0)``; heavier
    users by gathering ``sim[:, R(u)]`` in tiles and keeping the k largest per item with a
    partition (ties broken in rating order, as Surprise's stable ``heapq.nlargest``).
    The dense item-item similarity needs ``4 n_items^2`` bytes: catalogs of more than
    ``max_items`` rated items are refused.
    """

    name = "knn_baseline"
    label = "KNN baseline (Surprise)"
    param_ranges: ClassVar[dict[str, ParamRange]] = {
        "k": ParamRange(1, 1000, integer=True),
        "min_k": ParamRange(1, 1000, integer=True),
        "shrinkage": ParamRange(0, 1e6),
        "min_support": ParamRange(0, 1e6, integer=True),
        **BSL_RANGES,
        "max_items": ParamRange(1, MAX_DENSE_ITEMS, integer=True),
    }
    state_fields: ClassVar[dict[str, str]] = {
        **SurpriseRecommender.state_fields,
        "bu_": "array",
        "bi_": "array",
        "sim_pos_": "array",
        "resid_": "csr",
    }

    def __init__(
        self,
        k: int = 40,
        min_k: int = 1,
        shrinkage: float = 100.0,
        min_support: int = 1,
        bsl_method: str = "als",
        bsl_n_epochs: int | None = None,
        bsl_reg_u: float = 15.0,
        bsl_reg_i: float = 10.0,
        bsl_reg: float = 0.02,
        bsl_learning_rate: float = 0.005,
        max_items: int = 20_000,
        implicit_rating: str = "log",
    ) -> None:
        self.k = k
        self.min_k = min_k
        self.shrinkage = shrinkage
        self.min_support = min_support
        self.bsl_method = bsl_method
        self.bsl_n_epochs = bsl_n_epochs
        self.bsl_reg_u = bsl_reg_u
        self.bsl_reg_i = bsl_reg_i
        self.bsl_reg = bsl_reg
        self.bsl_learning_rate = bsl_learning_rate
        self.max_items = max_items
        self.implicit_rating = implicit_rating

    def _make_algo(self):
        n_known = self.ratings_.shape[1]
        if n_known > self.max_items:
            raise ConfigError(
                f"KNN baseline keeps a dense item-item similarity; {n_known} rated items is more than "
                f"max_items={self.max_items}. Filter the catalog or use item_knn / svd instead."
            )
        if self.k < 1:
            raise ConfigError("k must be >= 1.")
        return _surprise().KNNBaseline(
            k=self.k,
            min_k=self.min_k,
            sim_options={
                "name": "pearson_baseline",
                "user_based": False,
                "shrinkage": self.shrinkage,
                "min_support": self.min_support,
            },
            bsl_options=_bsl_options(
                self.bsl_method,
                self.bsl_n_epochs,
                self.bsl_reg_u,
                self.bsl_reg_i,
                self.bsl_reg,
                self.bsl_learning_rate,
            ),
            verbose=False,
        )

    def _extract(self, algo, df):
        self.bu_ = self._by_user(algo.bu).astype(np.float64)
        self.bi_ = self._by_item(algo.bi).astype(np.float64)
        # similarity over known items in ascending internal order; negatives never contribute
        inner = self.inner_of_item_[self.known_items_]
        sim = np.asarray(algo.sim)[np.ix_(inner, inner)]
        self.sim_pos_ = np.maximum(sim, 0.0).astype(np.float32)
        # residuals r_uj - (mu + b_u + b_j), same sparsity as ratings_
        coo = self.ratings_.tocoo()
        resid = coo.data - (
            self.global_mean_ + self.bu_[coo.row] + self.bi_[self.known_items_[coo.col]]
        )
        self.resid_ = sp.csr_matrix(
            (resid.astype(np.float32), (coo.row, coo.col)), shape=self.ratings_.shape
        )
        self.resid_.sort_indices()

    def _adjust(self, num, den, cnt):
        ok = (den > 0) & (cnt >= self.min_k)
        return np.where(ok, num / np.where(den > 0, den, 1.0), 0.0)

    def _sim_ext(self) -> np.ndarray:
        """Similarities with one extra all-zero column (the padding target)."""
        cached: np.ndarray | None = getattr(self, "_sim_ext_cache", None)
        if cached is None:
            n = self.sim_pos_.shape[0]
            cached = np.zeros((n + 1, n + 1), np.float32)
            cached[:n, :n] = self.sim_pos_
            self._sim_ext_cache = cached
        return cached

    def __getstate__(self):
        state = super().__getstate__()
        state.pop("_sim_ext_cache", None)
        return state

    def _neighbour_part(self, users: np.ndarray) -> np.ndarray:
        """(b, n_known) k-NN correction for known users (0 where none)."""
        n_k = self.sim_pos_.shape[0]
        out = np.zeros((len(users), n_k), np.float64)
        E = self.resid_[users]
        counts = np.diff(E.indptr)
        small = np.flatnonzero((counts > 0) & (counts <= self.k))
        if len(small):
            Es = E[small]
            Bs = Es.copy()
            Bs.data[:] = 1.0
            # sim is symmetric: multiply by it directly (``.T`` would make scipy copy it)
            num = np.asarray(Es @ self.sim_pos_, dtype=np.float64)
            den = np.asarray(Bs @ self.sim_pos_, dtype=np.float64)
            if self.min_k > 1:
                cnt = np.asarray(Bs @ (self.sim_pos_ > 0).astype(np.float32))
            else:
                cnt = np.where(den > 0, self.min_k, 0)
            out[small] = self._adjust(num, den, cnt)
        large = np.flatnonzero(counts > self.k)
        if len(large):
            sim = self._sim_ext()
            order = large[np.argsort(counts[large], kind="stable")]
            start = 0
            while start < len(order):
                r_max = int(counts[order[start]])
                # as many users as fit the tile at the largest count of the batch
                b = 1
                while (
                    start + b < len(order)
                    and (b + 1) * int(counts[order[start + b]]) * n_k <= _TILE
                ):
                    b += 1
                batch = order[start : start + b]
                idx, dev = _padded_rows(E, batch, pad=n_k)
                r_max = idx.shape[1]
                rows_per_tile = max(1, _TILE // max(1, len(batch) * r_max))
                for i0 in range(0, n_k, rows_per_tile):
                    i1 = min(n_k, i0 + rows_per_tile)
                    # sim is symmetric: gather contiguous rows, then put neighbours last
                    g = sim[idx.reshape(-1)][:, i0:i1].reshape(len(batch), r_max, i1 - i0)
                    g = np.ascontiguousarray(g.transpose(2, 0, 1))
                    num, den, cnt = _topk_positive(g, dev[None, :, :], self.k)
                    out[batch, i0:i1] = self._adjust(num, den, cnt).T
                start += b
        return out

    def _score_items(self, user_idx):
        known = self.user_known_[user_idx]
        s = self.global_mean_ + self.bu_[user_idx, None] + self.bi_[None, :]
        if known.any():
            part = self._neighbour_part(user_idx[known])
            s[np.ix_(np.flatnonzero(known), self.known_items_)] += part
        return s.astype(np.float32)

    def _estimate_pairs(self, user_idx, item_idx):
        est = self.global_mean_ + self.bu_[user_idx] + self.bi_[item_idx]
        both = np.flatnonzero(self.user_known_[user_idx] & self.item_known_[item_idx])
        if len(both) == 0:
            return est
        n_k = self.sim_pos_.shape[0]
        sim = self._sim_ext()
        users, pos = user_idx[both], self.item_pos_[item_idx[both]]
        counts = np.diff(self.resid_.indptr)[users]
        order = np.argsort(counts, kind="stable")
        start = 0
        while start < len(order):
            stop = min(len(order), start + 1024)
            while stop - start > 1 and (stop - start) * int(counts[order[stop - 1]]) > _TILE:
                stop = start + (stop - start) // 2
            sel = order[start:stop]
            idx, dev = _padded_rows(self.resid_, users[sel], pad=n_k)
            g = sim[pos[sel, None], idx]
            num, den, cnt = _topk_positive(g, dev, self.k)
            est[both[sel]] += self._adjust(num, den, cnt)
            start = stop
        return est

    def _score_history(self, item_idx, weights):
        pos, r, items = self._history(item_idx, weights)
        bu = self._history_bu(r, items)
        s = self.global_mean_ + bu + self.bi_
        if len(items):
            dev = r - (self.global_mean_ + bu + self.bi_[items])
            order = np.argsort(pos)  # Surprise's rating order = ascending internal item index
            g = self.sim_pos_[:, pos[order]]
            num, den, cnt = _topk_positive(g, dev[order][None, :], self.k)
            s[self.known_items_] += self._adjust(num, den, cnt)
        return s.astype(np.float32)


# ====================================================================== SlopeOne
class SurpriseSlopeOne(_DenseItemMatrix, SurpriseRecommender):
    """Slope One, ``r_ui = mu_u + (1/|R_i(u)|) sum_{j in R_i(u)} dev(i, j)``.

    ``dev(i, j)`` is the mean of ``r_ui - r_uj`` over users who rated both, ``R_i(u)`` the
    items rated by ``u`` that share at least one user with ``i``; unknown users or items get
    the global mean (Surprise's ``PredictionImpossible``). ``dev`` and the co-rating pattern
    are computed with sparse products (no Surprise training loop). Matches ``surprise.SlopeOne``
    exactly on integer ratings; Surprise truncates non-integer ratings to int inside
    ``dev`` (a ``cdef int`` in its Cython), we use the actual ratings.
    Dense ``dev`` costs ``4 n_items^2`` bytes: more than ``max_items`` rated items are refused.
    """

    name = "slope_one"
    label = "Slope One (Surprise)"
    _uses_trainset = False
    param_ranges: ClassVar[dict[str, ParamRange]] = {
        "max_items": ParamRange(1, MAX_DENSE_ITEMS, integer=True)
    }
    state_fields: ClassVar[dict[str, str]] = {
        **SurpriseRecommender.state_fields,
        "dev_": "array",
        "co_": "csr",
        "user_mean_": "array",
    }

    def __init__(self, max_items: int = 20_000, implicit_rating: str = "log") -> None:
        self.max_items = max_items
        self.implicit_rating = implicit_rating

    def _extract(self, algo, df):
        R = self.ratings_
        n_k = R.shape[1]
        if n_k > self.max_items:
            raise ConfigError(
                f"Slope One keeps a dense item-item deviation table; {n_k} rated items is more than "
                f"max_items={self.max_items}. Filter the catalog or use svd instead."
            )
        B = R.copy()
        B.data[:] = 1.0
        co = (B.T @ B).tocsr()
        s1 = (
            R.T.astype(np.float64) @ B.astype(np.float64)
        ).toarray()  # [i, j] = sum_{u in U_ij} r_ui
        freq = co.toarray()
        dev = np.divide(s1 - s1.T, freq, out=np.zeros_like(s1), where=freq > 0)
        self.dev_ = dev.astype(np.float32)
        co.data[:] = 1.0
        self.co_ = co.astype(np.float32)
        n_u = np.asarray(B.sum(1)).ravel()
        sums = np.asarray(R.sum(1), dtype=np.float64).ravel()
        self.user_mean_ = np.where(n_u > 0, sums / np.maximum(n_u, 1), 0.0)

    def _score_items(self, user_idx):
        known = self.user_known_[user_idx]
        s = np.full((len(user_idx), self.n_items_), self.global_mean_, dtype=np.float64)
        ku = user_idx[known]
        if len(ku):
            B = self.ratings_[ku]
            B.data[:] = 1.0
            num = -np.asarray(B @ self.dev_)  # B @ dev^T = -(B @ dev)
            den = (B @ self.co_).toarray()
            part = self.user_mean_[ku, None] + np.divide(
                num, den, out=np.zeros_like(num, dtype=np.float64), where=den > 0
            )
            s[np.ix_(np.flatnonzero(known), self.known_items_)] = part
        return s.astype(np.float32)

    def _estimate_pairs(self, user_idx, item_idx):
        est = np.full(len(user_idx), self.global_mean_)
        both = np.flatnonzero(self.user_known_[user_idx] & self.item_known_[item_idx])
        if len(both) == 0:
            return est
        users, pos = user_idx[both], self.item_pos_[item_idx[both]]
        B = self.ratings_[users]
        B.data[:] = 1.0
        mask = B.multiply(self.co_[pos]).tocsr()  # j rated by u with freq(i, j) > 0
        coo = mask.tocoo()
        num = np.bincount(coo.row, weights=self.dev_[pos[coo.row], coo.col], minlength=len(both))
        den = np.bincount(coo.row, weights=coo.data, minlength=len(both))
        est[both] = self.user_mean_[users] + np.divide(
            num, den, out=np.zeros_like(num), where=den > 0
        )
        return est

    def _score_history(self, item_idx, weights):
        pos, r, _ = self._history(item_idx, weights)
        s = np.full(self.n_items_, self.global_mean_)
        if len(pos):
            num = self.dev_[:, pos].sum(1)
            den = np.asarray(self.co_[:, pos].sum(1)).ravel()
            s[self.known_items_] = r.mean() + np.divide(
                num, den, out=np.zeros_like(num, dtype=np.float64), where=den > 0
            )
        return s.astype(np.float32)


# ====================================================================== CoClustering


__all__ = ["SurpriseKNNBaseline", "SurpriseSlopeOne"]
