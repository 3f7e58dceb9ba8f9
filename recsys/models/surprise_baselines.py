"""Surprise's baseline models: BaselineOnly (``mu + b_u + b_i``) and CoClustering.

See :mod:`recsys.models.surprise_base` for ratings, id alignment and fallbacks.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from recsys.errors import ConfigError
from recsys.models.base import ParamRange
from recsys.models.surprise_base import SURPRISE_SEED, SurpriseRecommender, _surprise

#: Ranges of the baseline options (``bsl_*``) BaselineOnly and KNNBaseline share.
BSL_RANGES: dict[str, ParamRange] = {
    "bsl_n_epochs": ParamRange(1, 1000, integer=True),
    "bsl_reg_u": ParamRange(0, 1e6),
    "bsl_reg_i": ParamRange(0, 1e6),
    "bsl_reg": ParamRange(0, 100),
    "bsl_learning_rate": ParamRange(0, 1),
}


def _bsl_options(
    method: str, n_epochs: int | None, reg_u: float, reg_i: float, reg: float, lr: float
):
    if method not in ("als", "sgd"):
        raise ConfigError(f"unknown baseline method '{method}'; use 'als' or 'sgd'.")
    opts: dict = {"method": method}
    if n_epochs is not None:
        opts["n_epochs"] = n_epochs
    if method == "als":
        opts.update(reg_u=reg_u, reg_i=reg_i)
    else:
        opts.update(reg=reg, learning_rate=lr)
    return opts


class _BaselineMixin:
    """The fold-in of a user bias that baseline models share (attributes set by ``fit``)."""

    global_mean_: float
    bi_: np.ndarray
    bsl_reg_u: float
    bsl_method: str

    def _history_bu(self, r, items) -> float:
        """One baseline step for a new user with the item biases fixed."""
        if len(items) == 0:
            return 0.0
        resid = r - self.global_mean_ - self.bi_[items]
        reg = self.bsl_reg_u if self.bsl_method == "als" else 0.0
        return float(resid.sum() / (reg + len(items)))


class SurpriseBaselineOnly(_BaselineMixin, SurpriseRecommender):
    """Surprise ``BaselineOnly``: ``r_ui = mu + b_u + b_i`` (biases by ALS or SGD).

    Parameters
    ----------
    bsl_method : ``"als"`` or ``"sgd"``; bsl_n_epochs (None = Surprise's default: 10 ALS / 20 SGD),
    bsl_reg_u, bsl_reg_i (ALS), bsl_reg, bsl_learning_rate (SGD): Surprise's ``bsl_options``.
    """

    name = "baseline_only"
    label = "Baseline only (Surprise)"
    param_ranges: ClassVar[dict[str, ParamRange]] = BSL_RANGES
    state_fields: ClassVar[dict[str, str]] = {
        **SurpriseRecommender.state_fields,
        "bu_": "array",
        "bi_": "array",
    }

    def __init__(
        self,
        bsl_method: str = "als",
        bsl_n_epochs: int | None = None,
        bsl_reg_u: float = 15.0,
        bsl_reg_i: float = 10.0,
        bsl_reg: float = 0.02,
        bsl_learning_rate: float = 0.005,
        implicit_rating: str = "log",
    ) -> None:
        self.bsl_method = bsl_method
        self.bsl_n_epochs = bsl_n_epochs
        self.bsl_reg_u = bsl_reg_u
        self.bsl_reg_i = bsl_reg_i
        self.bsl_reg = bsl_reg
        self.bsl_learning_rate = bsl_learning_rate
        self.implicit_rating = implicit_rating

    def _options(self):
        return _bsl_options(
            self.bsl_method,
            self.bsl_n_epochs,
            self.bsl_reg_u,
            self.bsl_reg_i,
            self.bsl_reg,
            self.bsl_learning_rate,
        )

    def _make_algo(self):
        return _surprise().BaselineOnly(bsl_options=self._options(), verbose=False)

    def _extract(self, algo, df):
        self.bu_ = self._by_user(algo.bu).astype(np.float64)
        self.bi_ = self._by_item(algo.bi).astype(np.float64)

    def _estimate_pairs(self, user_idx, item_idx):
        return self.global_mean_ + self.bu_[user_idx] + self.bi_[item_idx]

    def _score_items(self, user_idx):
        return (self.global_mean_ + self.bu_[user_idx, None] + self.bi_[None, :]).astype(np.float32)

    def _score_history(self, item_idx, weights):
        _, r, items = self._history(item_idx, weights)
        return (self.global_mean_ + self._history_bu(r, items) + self.bi_).astype(np.float32)


class SurpriseCoClustering(SurpriseRecommender):
    """Surprise ``CoClustering``: users and items clustered together.

    ``r_ui = avg(C_u, C_i) + (mu_u - avg(C_u)) + (mu_i - avg(C_i))``.

    Unknown users or items get the global mean (Surprise's behaviour). A history user is
    put in the user cluster whose typical member (``mu_u = avg(C_u)``) has the least squared
    error over the history, then ``mu_u`` is shifted by the mean remaining error.
    """

    name = "coclustering"
    _surprise_class = "CoClustering"
    label = "Co-clustering (Surprise)"
    param_ranges: ClassVar[dict[str, ParamRange]] = {
        "n_cltr_u": ParamRange(1, 1000, integer=True),
        "n_cltr_i": ParamRange(1, 1000, integer=True),
        "n_epochs": ParamRange(1, 1000, integer=True),
        "random_state": SURPRISE_SEED,
    }
    state_fields: ClassVar[dict[str, str]] = {
        **SurpriseRecommender.state_fields,
        **dict.fromkeys(
            ("cltr_u_", "cltr_i_", "user_mean_", "item_mean_", "avg_cltr_u_", "avg_cltr_i_"),
            "array",
        ),
        "avg_cocltr_": "array",
    }

    def __init__(
        self,
        n_cltr_u: int = 3,
        n_cltr_i: int = 3,
        n_epochs: int = 20,
        random_state: int | None = 0,
        implicit_rating: str = "log",
    ) -> None:
        self.n_cltr_u = n_cltr_u
        self.n_cltr_i = n_cltr_i
        self.n_epochs = n_epochs
        self.random_state = random_state
        self.implicit_rating = implicit_rating

    def _extract(self, algo, df):
        self.cltr_u_ = np.where(self.user_known_, self._by_user(np.asarray(algo.cltr_u)), -1)
        self.cltr_i_ = np.where(self.item_known_, self._by_item(np.asarray(algo.cltr_i)), -1)
        self.user_mean_ = self._by_user(np.asarray(algo.user_mean, np.float64))
        self.item_mean_ = self._by_item(np.asarray(algo.item_mean, np.float64))
        self.avg_cltr_u_ = np.asarray(algo.avg_cltr_u, np.float64)
        self.avg_cltr_i_ = np.asarray(algo.avg_cltr_i, np.float64)
        self.avg_cocltr_ = np.asarray(algo.avg_cocltr, np.float64)

    def _estimate_pairs(self, user_idx, item_idx):
        cu, ci = self.cltr_u_[user_idx], self.cltr_i_[item_idx]
        both = (cu >= 0) & (ci >= 0)
        cu0, ci0 = np.maximum(cu, 0), np.maximum(ci, 0)
        est = (
            self.avg_cocltr_[cu0, ci0]
            + self.user_mean_[user_idx]
            - self.avg_cltr_u_[cu0]
            + self.item_mean_[item_idx]
            - self.avg_cltr_i_[ci0]
        )
        return np.where(both, est, self.global_mean_)

    def _scores_for(self, cu: np.ndarray, user_mean: np.ndarray) -> np.ndarray:
        ci0 = np.maximum(self.cltr_i_, 0)
        item_part = self.item_mean_ - self.avg_cltr_i_[ci0]
        s = (
            self.avg_cocltr_[cu][:, ci0]
            + (user_mean - self.avg_cltr_u_[cu])[:, None]
            + item_part[None, :]
        )
        return np.where(self.item_known_[None, :], s, self.global_mean_)

    def _score_items(self, user_idx):
        cu = self.cltr_u_[user_idx]
        s = self._scores_for(np.maximum(cu, 0), self.user_mean_[user_idx])
        s[cu < 0] = self.global_mean_
        return s.astype(np.float32)

    def _score_history(self, item_idx, weights):
        _, r, items = self._history(item_idx, weights)
        if len(items) == 0:
            return np.full(self.n_items_, self.global_mean_, np.float32)
        ci = self.cltr_i_[items]
        # (n_cltr_u, h) estimates of the history for a typical member of each user cluster
        # (mu_u = avg(C_u)); the user's own mean would count the cluster's taste twice.
        est = self.avg_cocltr_[:, ci] + (self.item_mean_[items] - self.avg_cltr_i_[ci])[None, :]
        cu = int(np.argmin(((r[None, :] - est) ** 2).sum(1)))
        mu_u = self.avg_cltr_u_[cu] + float(np.mean(r - est[cu]))
        return self._scores_for(np.array([cu]), np.array([mu_u]))[0].astype(np.float32)


__all__ = ["BSL_RANGES", "SurpriseBaselineOnly", "SurpriseCoClustering"]
