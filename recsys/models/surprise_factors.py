"""Surprise's factor models: SVD, SVD++ and NMF, scored with one GEMM per block of users.

See :mod:`recsys.models.surprise_base` for ratings, id alignment and fallbacks.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import scipy.sparse as sp

from recsys.data.dataset import Dataset
from recsys.errors import ConfigError
from recsys.models.base import ParamRange
from recsys.models.surprise_base import SURPRISE_SEED, SurpriseRecommender

#: Cells of the bias rows added at once to a factor model's score block.
_BIAS_CELLS = 1 << 15


class _FactorModel(SurpriseRecommender):
    """``est = mu + b_u + b_i + z_u . q_i`` (biased) or ``z_u . q_i``; Surprise's fallbacks."""

    factor_param: ClassVar[str | None] = "n_factors"

    biased: bool = True
    state_fields: ClassVar[dict[str, str]] = {
        **SurpriseRecommender.state_fields,
        "bu_": "array",
        "bi_": "array",
        "user_vec_": "array",
        "qi_": "array",
    }

    def _estimate_pairs(self, user_idx, item_idx):
        dot = np.einsum("nf,nf->n", self.user_vec_[user_idx], self.qi_[item_idx], dtype=np.float64)
        if self.biased:
            return self.global_mean_ + self.bu_[user_idx] + self.bi_[item_idx] + dot
        both = self.user_known_[user_idx] & self.item_known_[item_idx]
        return np.where(both, dot, self.global_mean_)

    def _score_items(self, user_idx):
        """(n, n_items) float32: one GEMM, then the biases added in place.

        ``mu + b_u + b_i`` is formed for a few rows at a time (a cache-sized temporary, not
        a second (n, n_items) array) and in the same float32 order as one broadcast sum.
        """
        s = self.user_vec_[user_idx] @ self.qi_.T  # (n, n_items) float32
        mu = np.float32(self.global_mean_)
        if self.biased:
            user_part = mu + self.bu_[user_idx, None]  # (n, 1)
            step = max(1, _BIAS_CELLS // max(1, s.shape[1]))
            for lo in range(0, len(s), step):
                s[lo : lo + step] += user_part[lo : lo + step] + self.bi_[None, :]
        else:
            s[~self.user_known_[user_idx]] = mu
            s[:, ~self.item_known_] = mu
        return s.astype(np.float32, copy=False)

    # ---- fold-in
    def _fold_in(self, r, items):
        """Ridge fold-in: ``(Q_h^T Q_h + lambda I) p = Q_h^T (r_h - mu - b_i - Q_h y_h)``.

        ``b_u = 0``: a history's level is explained by ``p``, so a history of well-rated items
        points ``p`` towards them (a mean-residual ``b_u`` would cancel a uniform history).
        ``lambda = reg * |h|`` mirrors the per-rating regularisation of the SGD objective.
        """
        q = self.qi_[items].astype(np.float64)
        offset = self.global_mean_ + self.bi_[items].astype(np.float64) if self.biased else 0.0
        z_implicit = self._implicit_of(items)
        resid = r - offset - q @ z_implicit
        lam = max(self._fold_in_reg() * len(items), 1e-6)
        p = self._solve(q, resid, lam, q.shape[1])
        return (p + z_implicit).astype(np.float32)

    def _implicit_of(self, items):
        return np.zeros(self.qi_.shape[1])

    def _solve(self, q, resid, lam, f):
        return np.linalg.solve(q.T @ q + lam * np.eye(f), q.T @ resid)

    def _fold_in_reg(self) -> float:
        return float(self.reg_all)

    def _score_history(self, item_idx, weights):
        _, r, items = self._history(item_idx, weights)
        if len(items) == 0:  # unknown user: Surprise's fallback
            est = (
                self.global_mean_ + self.bi_
                if self.biased
                else np.full(self.n_items_, self.global_mean_)
            )
            return np.asarray(est, dtype=np.float32)
        z = self._fold_in(r, items)
        s = self.qi_ @ z
        if self.biased:
            s = s + self.global_mean_ + self.bi_
        else:
            s = np.where(self.item_known_, s, self.global_mean_)
        return s.astype(np.float32)


class SurpriseSVD(_FactorModel):
    """Surprise ``SVD`` (Funk-style biased MF trained by SGD).

    ``r_ui = mu + b_u + b_i + q_i . p_u``; scores for a block of users are one matrix product.

    Parameters
    ----------
    n_factors, n_epochs, biased, init_mean, init_std_dev, lr_all, reg_all, random_state :
        as in ``surprise.SVD``.
    implicit_rating : how event weights become ratings when the data has none (module docstring).
    """

    name = "svd"
    fit_seconds_per_kpair = 0.015
    cost_params = ("n_epochs",)
    _surprise_class = "SVD"
    label = "SVD (Surprise)"
    param_ranges: ClassVar[dict[str, ParamRange]] = {
        "n_factors": ParamRange(1, 1000, integer=True),
        "n_epochs": ParamRange(1, 1000, integer=True),
        "init_mean": ParamRange(-10, 10),
        "init_std_dev": ParamRange(0, 10),
        "lr_all": ParamRange(0, 1),
        "reg_all": ParamRange(0, 100),
        "random_state": SURPRISE_SEED,
    }

    def __init__(
        self,
        n_factors: int = 100,
        n_epochs: int = 20,
        biased: bool = True,
        init_mean: float = 0.0,
        init_std_dev: float = 0.1,
        lr_all: float = 0.005,
        reg_all: float = 0.02,
        random_state: int | None = 0,
        implicit_rating: str = "log",
    ) -> None:
        self.n_factors = n_factors
        self.n_epochs = n_epochs
        self.biased = biased
        self.init_mean = init_mean
        self.init_std_dev = init_std_dev
        self.lr_all = lr_all
        self.reg_all = reg_all
        self.random_state = random_state
        self.implicit_rating = implicit_rating

    def _extract(self, algo, df):
        self.bu_ = self._by_user(algo.bu).astype(np.float32)
        self.bi_ = self._by_item(algo.bi).astype(np.float32)
        self.user_vec_ = self._by_user(algo.pu).astype(np.float32)
        self.qi_ = self._by_item(algo.qi).astype(np.float32)


class SurpriseSVDpp(_FactorModel):
    """Surprise ``SVDpp``: SVD plus implicit feedback from which items a user rated.

    ``r_ui = mu + b_u + b_i + q_i . (p_u + |N(u)|^-1/2 sum_{j in N(u)} y_j)``; the user part
    ``z_u`` is computed once in fit as ``p + N_norm @ Y`` (a sparse product).
    """

    name = "svdpp"
    _surprise_class = "SVDpp"
    label = "SVD++ (Surprise)"
    slow = True
    param_ranges: ClassVar[dict[str, ParamRange]] = {
        **SurpriseSVD.param_ranges,
        "n_factors": ParamRange(1, 500, integer=True),
        "n_epochs": ParamRange(1, 500, integer=True),
    }
    state_fields: ClassVar[dict[str, str]] = {**_FactorModel.state_fields, "yj_": "array"}

    @classmethod
    def fit_cost(cls, dataset: Dataset, params: dict | None = None) -> float:
        """Estimated fit seconds: SVD++ visits every pair's whole user history each epoch.

        ~1.5e-8 s x epochs x factors x sum_u |N(u)|^2 (measured), plus one second.
        """
        p = {**cls().get_params(), **(params or {})}
        activity = dataset.user_activity().astype(np.float64)
        work = float(p["n_epochs"]) * float(p["n_factors"]) * float((activity**2).sum())
        return 1.5e-8 * work + 1.0

    def __init__(
        self,
        n_factors: int = 20,
        n_epochs: int = 20,
        init_mean: float = 0.0,
        init_std_dev: float = 0.1,
        lr_all: float = 0.007,
        reg_all: float = 0.02,
        random_state: int | None = 0,
        implicit_rating: str = "log",
    ) -> None:
        self.n_factors = n_factors
        self.n_epochs = n_epochs
        self.init_mean = init_mean
        self.init_std_dev = init_std_dev
        self.lr_all = lr_all
        self.reg_all = reg_all
        self.random_state = random_state
        self.implicit_rating = implicit_rating

    def _extract(self, algo, df):
        self.bu_ = self._by_user(algo.bu).astype(np.float32)
        self.bi_ = self._by_item(algo.bi).astype(np.float32)
        self.qi_ = self._by_item(algo.qi).astype(np.float32)
        self.yj_ = self._by_item(algo.yj).astype(np.float32)
        pu = self._by_user(algo.pu)
        ones = self.ratings_.copy()
        ones.data[:] = 1.0
        n_u = np.asarray(ones.sum(1)).ravel()
        norm = sp.diags(np.where(n_u > 0, 1.0 / np.sqrt(np.maximum(n_u, 1)), 0.0)) @ ones
        implicit = norm @ self.yj_[self.known_items_].astype(np.float64)
        # Surprise adds q_i . (p_u + implicit) only when both are known (unknown rows are 0 here).
        self.user_vec_ = (pu + implicit).astype(np.float32)

    def _implicit_of(self, items):
        return self.yj_[items].astype(np.float64).sum(0) / np.sqrt(len(items))


class SurpriseNMF(_FactorModel):
    """Surprise ``NMF``: non-negative factors, ``r_ui = q_i . p_u`` (plus biases if ``biased``).

    The fold-in of ``score_history`` solves a non-negative ridge problem (NNLS), so the new
    user's factors stay positive like the trained ones.
    """

    name = "nmf"
    fit_seconds_per_kpair = 0.03
    cost_params = ("n_epochs",)
    _surprise_class = "NMF"
    label = "NMF (Surprise)"
    param_ranges: ClassVar[dict[str, ParamRange]] = {
        "n_factors": ParamRange(1, 1000, integer=True),
        "n_epochs": ParamRange(1, 1000, integer=True),
        **dict.fromkeys(("reg_pu", "reg_qi", "reg_bu", "reg_bi"), ParamRange(0, 100)),
        **dict.fromkeys(("lr_bu", "lr_bi"), ParamRange(0, 1)),
        "init_low": ParamRange(0, 100),
        "init_high": ParamRange(0, 100),
        "random_state": SURPRISE_SEED,
    }

    def __init__(
        self,
        n_factors: int = 15,
        n_epochs: int = 50,
        biased: bool = False,
        reg_pu: float = 0.06,
        reg_qi: float = 0.06,
        reg_bu: float = 0.02,
        reg_bi: float = 0.02,
        lr_bu: float = 0.005,
        lr_bi: float = 0.005,
        init_low: float = 0.0,
        init_high: float = 1.0,
        random_state: int | None = 0,
        implicit_rating: str = "log",
    ) -> None:
        self.n_factors = n_factors
        self.n_epochs = n_epochs
        self.biased = biased
        self.reg_pu = reg_pu
        self.reg_qi = reg_qi
        self.reg_bu = reg_bu
        self.reg_bi = reg_bi
        self.lr_bu = lr_bu
        self.lr_bi = lr_bi
        self.init_low = init_low
        self.init_high = init_high
        self.random_state = random_state
        self.implicit_rating = implicit_rating

    def _make_algo(self):
        if self.init_low < 0:
            raise ConfigError("init_low must be >= 0 for NMF.")
        return super()._make_algo()

    def _extract(self, algo, df):
        self.bu_ = self._by_user(algo.bu).astype(np.float32)
        self.bi_ = self._by_item(algo.bi).astype(np.float32)
        self.user_vec_ = self._by_user(algo.pu).astype(np.float32)
        self.qi_ = self._by_item(algo.qi).astype(np.float32)

    def _fold_in_reg(self) -> float:
        return float(self.reg_pu)

    def _solve(self, q, resid, lam, f):
        from scipy.optimize import nnls

        a = np.vstack([q, np.sqrt(lam) * np.eye(f)])
        b = np.concatenate([resid, np.zeros(f)])
        return nnls(a, b)[0]


__all__ = ["SurpriseNMF", "SurpriseSVD", "SurpriseSVDpp"]
