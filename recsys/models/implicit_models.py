"""Matrix factorisation for implicit feedback with the ``implicit`` library (Frederickson).

``als``: alternating least squares of Hu, Koren & Volinsky (2008), "Collaborative filtering
for implicit feedback datasets", with implicit's conjugate-gradient solver (Takács et al. 2011).
``bpr``: Bayesian personalised ranking (Rendle et al. 2009) trained by SGD.

Both are trained on the CPU code path only (reproducible, no GPU switch), with implicit's
progress bar off and BLAS held to one thread while fitting: implicit parallelises over users
itself and warns when BLAS also runs a thread pool. Scores come from the factors, one matrix
product per block of users: ``user_factors[block] @ item_factors.T``.
"""

from __future__ import annotations

import warnings
from typing import ClassVar, Literal

import numpy as np
import scipy.sparse as sp
from scipy.linalg import cho_factor, cho_solve
from threadpoolctl import threadpool_limits

from recsys.data.dataset import Dataset
from recsys.errors import ConfigError
from recsys.models.base import (
    SEED_RANGE,
    THREADS_RANGE,
    ParamRange,
    ProgressCallback,
    Recommender,
    history_row,
)


def confidence(weights: sp.csr_matrix, alpha: float, scale: str) -> sp.csr_matrix:
    """Hu-Koren-Volinsky confidences ``c = 1 + alpha · v`` of the stored pairs (float32).

    ``v`` is the pair weight (``"linear"``), ``log(1 + weight)`` (``"log"``) or 1
    (``"binary"``). Pairs not stored have preference 0 and confidence 1 (implicit's convention).
    """
    if scale not in ("linear", "log", "binary"):
        raise ConfigError(f"confidence scale must be linear, log or binary, not '{scale}'.")
    if not float(alpha) > 0:
        raise ConfigError("alpha (confidence per unit of weight) must be greater than 0.")
    c = sp.csr_matrix(weights, dtype=np.float32, copy=True)
    v = {"linear": c.data, "log": np.log1p(c.data), "binary": np.ones_like(c.data)}[scale]
    c.data = (1.0 + float(alpha) * v).astype(np.float32)
    return c


class _ImplicitFactorModel(Recommender):
    factor_param: ClassVar[str | None] = "factors"
    fit_bytes_per_pair: ClassVar[float] = 40.0
    """Shared fit wrapper and block scoring; subclasses build the implicit model."""

    state_fields: ClassVar[dict[str, str]] = {"user_factors_": "array", "item_factors_": "array"}

    def _implicit_model(self):
        raise NotImplementedError

    def _train_matrix(self, dataset: Dataset) -> sp.csr_matrix:
        raise NotImplementedError

    def _fit(self, dataset: Dataset, progress: ProgressCallback) -> None:
        if int(self.iterations) < 1:
            raise ConfigError("iterations must be at least 1.")
        if int(self.factors) < 1:
            raise ConfigError("factors must be at least 1.")
        matrix = self._train_matrix(dataset)
        total = int(self.iterations)

        def callback(iteration: int, *_: object) -> None:  # ALS: (t, loss); BPR: (t, ok, skip)
            progress((iteration + 1) / total, f"iteration {iteration + 1}/{total}")

        with threadpool_limits(limits=1, user_api="blas"), warnings.catch_warnings():
            # implicit's BLAS-thread check (already satisfied by the limit above)
            warnings.filterwarnings("ignore", message=r".*configured to use \d+ threads")
            model = self._implicit_model()
            model.fit(matrix, show_progress=False, callback=callback)
        self.user_factors_ = np.ascontiguousarray(model.user_factors, np.float32)
        self.item_factors_ = np.ascontiguousarray(model.item_factors, np.float32)
        if not (np.isfinite(self.user_factors_).all() and np.isfinite(self.item_factors_).all()):
            raise ConfigError(
                f"{self.name} diverged (non-finite factors): raise regularization or lower "
                "the learning rate / alpha."
            )

    def _score_items(self, user_idx: np.ndarray) -> np.ndarray:
        return self.user_factors_[user_idx] @ self.item_factors_.T


class ImplicitALS(_ImplicitFactorModel):
    """Weighted matrix factorisation of implicit feedback by alternating least squares.

    Minimises ``Σ_ui c_ui (p_ui - x_u·y_i)² + λ(Σ‖x_u‖² + Σ‖y_i‖²)`` with ``p_ui = 1`` on
    observed pairs (0 elsewhere) and confidence ``c_ui = 1 + alpha · v_ui`` from the dataset's
    weights (see :func:`confidence`; 1 on unobserved pairs).

    A user known only by a history (cold / what-if) is folded in exactly as ALS updates a
    user, with the item factors fixed: ``x = (YᵀY + Yₕᵀ(Cₕ - I)Yₕ + λI)⁻¹ Yₕᵀ cₕ`` over the
    history items ``h`` (vectorised, one ``factors × factors`` Cholesky solve), then scored
    ``Y x``. An empty history gives ``x = 0``: every item scores 0.

    Parameters
    ----------
    factors : latent dimension.
    regularization : ``λ``.
    alpha : confidence per unit of ``v``.
    confidence_scale : ``"log"``, ``"linear"`` or ``"binary"`` (``v`` above).
    iterations : ALS sweeps (users then items).
    use_cg : implicit's conjugate-gradient solver (fast, 3 CG steps per update) instead of
        exact Cholesky updates.
    num_threads : implicit's threads (0: all cores). Every user's and item's update is solved
        independently, so the result does not depend on the thread count.
    random_state : seeds the initial factors.
    """

    name: ClassVar[str] = "als"
    fit_seconds_per_kpair: ClassVar[float] = 0.08
    cost_params: ClassVar[tuple[str, ...]] = ("iterations",)
    label: ClassVar[str] = "ALS (implicit feedback MF)"
    handles_cold_users: ClassVar[bool] = True
    param_ranges: ClassVar[dict[str, ParamRange]] = {
        "factors": ParamRange(1, 1024, integer=True),
        "regularization": ParamRange(0, 1e6),
        "alpha": ParamRange(1e-6, 1e6),
        "iterations": ParamRange(1, 1000, integer=True),
        "num_threads": THREADS_RANGE,
        "random_state": SEED_RANGE,
    }
    state_fields: ClassVar[dict[str, str]] = {
        **_ImplicitFactorModel.state_fields,
        "item_gram_": "array",
    }

    def __init__(
        self,
        factors: int = 128,
        regularization: float = 10.0,
        alpha: float = 0.5,
        confidence_scale: Literal["log", "linear", "binary"] = "log",
        iterations: int = 15,
        use_cg: bool = True,
        num_threads: int = 0,
        random_state: int = 0,
    ) -> None:
        self.factors = factors
        self.regularization = regularization
        self.alpha = alpha
        self.confidence_scale = confidence_scale
        self.iterations = iterations
        self.use_cg = use_cg
        self.num_threads = num_threads
        self.random_state = random_state

    def _train_matrix(self, dataset: Dataset) -> sp.csr_matrix:
        return confidence(dataset.matrix("weight"), self.alpha, self.confidence_scale)

    def _fit(self, dataset: Dataset, progress: ProgressCallback) -> None:
        super()._fit(dataset, progress)
        y = self.item_factors_.astype(np.float64)
        self.item_gram_ = y.T @ y  # YᵀY, shared by every fold-in

    def _implicit_model(self):
        from implicit.cpu.als import AlternatingLeastSquares  # lazy: heavy import

        if not float(self.regularization) >= 0:
            raise ConfigError("regularization must be 0 or more.")
        return AlternatingLeastSquares(
            factors=int(self.factors),
            regularization=float(self.regularization),
            alpha=1.0,  # confidences are already 1 + alpha * v
            iterations=int(self.iterations),
            use_cg=bool(self.use_cg),
            num_threads=int(self.num_threads),
            random_state=int(self.random_state),
        )

    def fold_in(self, item_idx: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """(factors,) float64 user factors of an ad-hoc history (see the class docstring)."""
        self.check_fitted()
        row = confidence(
            history_row(item_idx, weights, self.n_items_), self.alpha, self.confidence_scale
        )
        if row.nnz == 0:
            return np.zeros(self.item_factors_.shape[1])
        yh = self.item_factors_[row.indices].astype(np.float64)
        c = row.data.astype(np.float64)
        a = self.item_gram_ + (yh * (c - 1.0)[:, None]).T @ yh
        a[np.diag_indices_from(a)] += float(self.regularization)
        return cho_solve(cho_factor(a), yh.T @ c)

    def _score_history(self, item_idx: np.ndarray, weights: np.ndarray) -> np.ndarray:
        return (self.item_factors_ @ self.fold_in(item_idx, weights)).astype(np.float32)


class ImplicitBPR(_ImplicitFactorModel):
    """Bayesian personalised ranking (``implicit``'s BPR).

    SGD on ``log σ(x_u·y_i - x_u·y_j)`` over sampled (user, seen item ``i``, unseen item
    ``j``) triples; implicit adds an item bias (the last factor column, with the user's column
    fixed at 1). Pairs are binary (weights unused).

    Cold users are not folded in (``handles_cold_users = False``): BPR has no closed-form
    user update, and a heuristic (mean of item factors) would be a different model.

    Parameters
    ----------
    factors : latent dimension (implicit adds the bias column).
    learning_rate, regularization : SGD step and L2 penalty.
    iterations : epochs over the observed pairs.
    num_threads : implicit's threads (0: all cores). With more than one, updates race
        (Hogwild) and the result is not bitwise reproducible; the default 1 is.
    random_state : seeds the initial factors and the sampling.
    """

    name: ClassVar[str] = "bpr"
    fit_seconds_per_kpair: ClassVar[float] = 0.08
    cost_params: ClassVar[tuple[str, ...]] = ("iterations",)
    label: ClassVar[str] = "BPR (implicit, pairwise ranking)"
    param_ranges: ClassVar[dict[str, ParamRange]] = {
        "factors": ParamRange(1, 1024, integer=True),
        "learning_rate": ParamRange(1e-6, 10),
        "regularization": ParamRange(0, 1e3),
        "iterations": ParamRange(1, 10_000, integer=True),
        "num_threads": THREADS_RANGE,
        "random_state": SEED_RANGE,
    }

    def __init__(
        self,
        factors: int = 128,
        learning_rate: float = 0.05,
        regularization: float = 0.01,
        iterations: int = 300,
        num_threads: int = 1,
        random_state: int = 0,
    ) -> None:
        self.factors = factors
        self.learning_rate = learning_rate
        self.regularization = regularization
        self.iterations = iterations
        self.num_threads = num_threads
        self.random_state = random_state

    def _train_matrix(self, dataset: Dataset) -> sp.csr_matrix:
        return dataset.matrix("ones")

    def _implicit_model(self):
        from implicit.cpu.bpr import BayesianPersonalizedRanking  # lazy: heavy import

        if not float(self.learning_rate) > 0:
            raise ConfigError("learning_rate must be greater than 0.")
        return BayesianPersonalizedRanking(
            factors=int(self.factors),
            learning_rate=float(self.learning_rate),
            regularization=float(self.regularization),
            iterations=int(self.iterations),
            num_threads=int(self.num_threads),
            random_state=int(self.random_state),
        )


__all__ = ["ImplicitALS", "ImplicitBPR", "confidence"]
