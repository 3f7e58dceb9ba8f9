"""RP3beta: a three-step random walk on the user-item graph with a popularity penalty.

Paudel et al. 2016, "Updatable, accurate, diverse, and scalable recommendations for
interactive applications", ACM TiiS; the form benchmarked by Dacrema et al. 2019.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import scipy.sparse as sp

from recsys.data.dataset import Dataset
from recsys.errors import ConfigError
from recsys.models.base import ParamRange, ProgressCallback, Recommender, history_row, pair_values
from recsys.models.item_knn import blocked_top_k
from recsys.models.similarity_product import similarity_scores


class RP3beta(Recommender):
    r"""Item-item transition probabilities of a walk item -> user -> item, popularity-damped.

    With ``X`` the (n_users, n_items) user-item matrix (1 per pair, or ``log1p(weight)``):
    ``P_ui`` is ``X`` with rows normalised to sum 1 (user -> item) and ``P_iu`` is ``Xᵀ`` with
    rows normalised to sum 1 (item -> user), both raised element-wise to ``alpha``. Then

    .. math:: W_{ij} = \frac{(P_{iu} P_{ui})_{ij}}{\mathrm{pop}_j^{\beta}}, \qquad W_{ii} = 0,

    with ``pop_j`` the number of users of item ``j``; each row keeps its ``topk`` largest
    entries (sparse float32), built in blocks of rows so that no dense ``n_items²`` exists.
    Scores: ``x_u @ W``; an ad-hoc history scores the same way (cold and what-if users).
    Items without interactions have no neighbours and score 0. ``beta = 0`` is the plain
    random walk P³ (Cooper et al. 2014); larger ``beta`` favours the long tail.

    Parameters
    ----------
    alpha : exponent on the transition probabilities (> 0).
    beta : popularity penalty exponent (>= 0).
    topk : neighbours kept per item.
    binary : use 1 per pair instead of ``log1p(weight)``.
    """

    name: ClassVar[str] = "rp3beta"
    fit_seconds_per_kpair: ClassVar[float] = 0.004
    label: ClassVar[str] = "RP3beta (random walk)"
    handles_cold_users: ClassVar[bool] = True
    param_ranges: ClassVar[dict[str, ParamRange]] = {
        "alpha": ParamRange(1e-3, 10),
        "beta": ParamRange(0, 5),
        "topk": ParamRange(1, 5000, integer=True),
    }
    state_fields: ClassVar[dict[str, str]] = {"similarity_": "csr", "user_rows_": "csr"}

    neighbour_param: ClassVar[str | None] = "topk"

    def __init__(
        self, alpha: float = 0.5, beta: float = 0.4, topk: int = 100, binary: bool = True
    ) -> None:
        self.alpha = alpha
        self.beta = beta
        self.topk = topk
        self.binary = binary

    def _fit(self, dataset: Dataset, progress: ProgressCallback) -> None:
        if not float(self.alpha) > 0:
            raise ConfigError("rp3beta alpha must be greater than 0.")
        if not float(self.beta) >= 0:
            raise ConfigError("rp3beta beta must be 0 or more.")
        if int(self.topk) < 1:
            raise ConfigError("rp3beta topk must be at least 1.")
        x = pair_values(dataset.matrix("weight"), self.binary)
        p_ui = _row_normalised(x, float(self.alpha))
        p_iu = _row_normalised(x.T.tocsr(), float(self.alpha))
        pop = dataset.item_popularity().astype(np.float64)
        damp = np.zeros_like(pop)
        np.power(pop, -float(self.beta), out=damp, where=pop > 0)
        damp = damp.astype(np.float32)

        def rows(start: int, stop: int) -> np.ndarray:
            block = (p_iu[start:stop] @ p_ui).toarray()  # (b, n_items) walk probabilities
            block *= damp[None, :]
            return block

        self.similarity_ = blocked_top_k(rows, dataset.n_items, int(self.topk), progress)
        self.user_rows_ = x

    def _score_items(self, user_idx: np.ndarray) -> np.ndarray:
        return similarity_scores(self, self.user_rows_[np.asarray(user_idx)], self.similarity_)

    def pool_scores(self, user_idx: np.ndarray) -> sp.csr_matrix:
        """``r_u @ S`` as a sparse (n, n_items) float32 matrix (missing = 0)."""
        self.check_fitted()
        return sp.csr_matrix(self.user_rows_[np.asarray(user_idx)] @ self.similarity_)

    def _score_history(self, item_idx: np.ndarray, weights: np.ndarray) -> np.ndarray:
        row = pair_values(history_row(item_idx, weights, self.n_items_), self.binary)
        return np.asarray((row @ self.similarity_).toarray()[0], np.float32)


def _row_normalised(m: sp.csr_matrix, alpha: float) -> sp.csr_matrix:
    """Rows scaled to sum 1 (empty rows stay empty), then every entry raised to ``alpha``."""
    m = sp.csr_matrix(m, dtype=np.float32, copy=True)
    sums = np.asarray(m.sum(axis=1)).ravel()
    scale = np.divide(1.0, sums, out=np.zeros_like(sums), where=sums > 0)
    m.data *= np.repeat(scale, np.diff(m.indptr)).astype(np.float32)
    if alpha != 1.0:
        m.data **= np.float32(alpha)
    return m


__all__ = ["RP3beta"]
