"""The one interface every recommender implements.

sklearn conventions: ``__init__`` stores parameters only; learned state ends in ``_``;
``fit`` returns ``self`` and forgets any earlier fit; randomness via ``random_state``.
Subclasses write ``_fit`` and the scoring kernels; ``fit`` and the block-wise ``recommend``
are shared here.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator

from recsys.data.dataset import Dataset
from recsys.errors import ColdStartError, ConfigError, NotFittedError, warnings_logged
from recsys.models.state import decode_state, encode_state
from recsys.ranking.topk import TopK, top_k_indices

#: Above this many training pairs the default preset leaves out the models whose fit is too
#: slow at that size (``Recommender.scale_problem``; the figures are in their messages).
LARGE_LOG_PAIRS = 5_000_000
#: Above this many items, likewise for models whose fit grows with the items squared.
LARGE_CATALOG_ITEMS = 50_000

#: ``progress(fraction_done, message)``; fraction in [0, 1].
ProgressCallback = Callable[[float, str], None]


@dataclass(frozen=True)
class ParamRange:
    """The values a numeric hyperparameter may take: ``low <= value <= high``.

    ``integer``: whole numbers only; ``words``: strings also accepted (EASE's ``"auto"``);
    ``optional``: None accepted too (as it always is when the default is None).
    """

    low: float
    high: float
    integer: bool = False
    words: tuple[str, ...] = ()
    optional: bool = False

    def problem(self, value: object) -> str | None:
        """Why ``value`` is outside this range (plain words), or None when it is inside."""
        if isinstance(value, str) and value in self.words:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            options = f" or one of {', '.join(self.words)}" if self.words else ""
            return f"must be a number{options}, not {value!r}"
        if self.integer and not float(value).is_integer():
            return f"must be a whole number, not {value!r}"
        if not self.low <= value <= self.high:  # NaN fails too
            return f"must be between {self.low:g} and {self.high:g}, not {value!r}"
        return None


#: Seeds and thread counts, shared by many models.
SEED_RANGE = ParamRange(0, 2**32 - 1, integer=True)
THREADS_RANGE = ParamRange(0, 256, integer=True)

#: Learned attributes every fitted model has (set by ``fit``).
_COMMON_STATE: dict[str, str] = {"n_users_": "int", "n_items_": "int"}


class Recommender(BaseEstimator):
    """Base class of all models.

    Class attributes (capability flags, read by the UI and the engine)
    ------------------------------------------------------------------
    name : registry key, says the family (``svd``, ``lightfm_warp``, ``content_tfidf`` ...).
    label : human name for the UI.
    handles_cold_users : can score a user from an ad-hoc history (``score_history``) without refit.
    handles_cold_items : gives meaningful scores to items with no interactions (from features).
    predicts_ratings : ``predict_ratings`` returns values on the rating scale (for RMSE/MAE).
    slow : training is slow enough that the UI should warn before starting it.
    fit_seconds_per_kpair : fit time per 1,000 training pairs at the default parameters,
        measured on the demo store (2,000 users, 500 items, 20k pairs, 2 shared cores): the
        prior of ``fit_cost`` (progress bars and time estimates; earlier runs refine it).
    cost_params : constructor parameters the fit time grows with linearly (epochs ...).
    fit_bytes_per_pair : working memory of one ``fit`` per training pair, beyond what the fitted
        model keeps (measured; read by ``memory_need``).
    factor_param, neighbour_param : the constructor parameter that sets the latent dimension or
        the neighbours kept per item, when the model has one (read by ``memory_need``).

    Class attributes (hyperparameters and persistence)
    --------------------------------------------------
    param_ranges : ``{parameter: ParamRange}`` for every numeric hyperparameter; ``make_model``
        refuses values outside before anything is allocated, the Train page reads the bounds.
    state_fields : ``{learned attribute: kind}`` (``recsys.models.state``): what
        ``state_arrays`` / ``state_meta`` store and ``from_state`` reads back.
    transient_fields : learned attributes that are not stored (library objects); scoring must
        not need them.
    """

    name: ClassVar[str] = "base"
    label: ClassVar[str] = "Base"
    handles_cold_users: ClassVar[bool] = False
    handles_cold_items: ClassVar[bool] = False
    predicts_ratings: ClassVar[bool] = False
    slow: ClassVar[bool] = False
    fit_seconds_per_kpair: ClassVar[float] = 0.02
    cost_params: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def fit_cost(cls, dataset: Dataset, params: dict | None = None) -> float:
        """Estimated seconds of one ``fit`` on ``dataset`` with ``params`` (a rough prior).

        ``fit_seconds_per_kpair`` x thousands of pairs, scaled by the ``cost_params`` against
        their defaults (40 epochs cost twice 20). Models whose time follows another shape
        (EASE: items cubed) override this.
        """
        return cls.cost_scale(params) * cls.fit_seconds_per_kpair * len(dataset.interactions) / 1e3

    @classmethod
    def cost_scale(cls, params: dict | None) -> float:
        """Product of ``params[p] / default[p]`` over ``cost_params`` (1 when not given)."""
        if not params or not cls.cost_params:
            return 1.0
        defaults = cls().get_params()
        scale = 1.0
        for p in cls.cost_params:
            given, default = params.get(p), defaults.get(p)
            if isinstance(given, int | float) and isinstance(default, int | float) and default > 0:
                scale *= max(float(given), 0.0) / float(default)
        return scale

    fit_bytes_per_pair: ClassVar[float] = 100.0
    factor_param: ClassVar[str | None] = None
    neighbour_param: ClassVar[str | None] = None

    @classmethod
    def memory_need(
        cls, n_users: int, n_items: int, n_pairs: int, params: dict | None = None
    ) -> tuple[int, int]:
        """Estimated bytes ``(peak during fit, kept by the fitted model)`` at this data shape.

        A measured prior, not a bound: the kept part is a copy of the user rows (12 bytes a
        pair), the factors (float32, users and items) or the neighbour lists (12 bytes each);
        the fit adds ``fit_bytes_per_pair``. Models with a dense item-by-item matrix override it.
        """
        values = {**cls().get_params(), **(params or {})}
        kept = 12 * n_pairs
        if cls.factor_param is not None:
            kept += 4 * (n_users + n_items) * (int(values[cls.factor_param]) + 1)
        if cls.neighbour_param is not None:
            kept += 12 * n_items * int(values[cls.neighbour_param])
        return int(cls.fit_bytes_per_pair * n_pairs) + 2 * kept, kept

    param_ranges: ClassVar[Mapping[str, ParamRange]] = {}
    state_fields: ClassVar[Mapping[str, str]] = {}
    transient_fields: ClassVar[frozenset[str]] = frozenset()
    #: Users a block of ``recommend`` (bounds the dense scores of a block; a model whose
    #: ``_top_k`` makes no dense block may take more).
    top_k_block: ClassVar[int] = 512

    @classmethod
    def check_params(cls, params: Mapping[str, Any]) -> None:
        """Raise ``ConfigError`` for unknown parameters and values outside ``param_ranges``."""
        defaults = {k: v.default for k, v in _init_parameters(cls).items()}
        unknown = sorted(set(params) - set(defaults))
        if unknown:
            names, known = ", ".join(unknown), ", ".join(defaults)
            raise ConfigError(
                f"model '{cls.name}' has no parameter(s) {names}; it has {known}.",
                code="model.unknown_params",
                params={"name": cls.name, "names": names, "known": known},
            )
        for param, value in params.items():
            bounds = cls.param_ranges.get(param)
            if bounds is None or (value is None and (bounds.optional or defaults[param] is None)):
                continue
            problem = bounds.problem(value)
            if problem is not None:
                raise ConfigError(
                    f"model '{cls.name}': {param} {problem}.",
                    code="model.param_range",
                    params={"name": cls.name, "param": param, "problem": problem},
                )

    @classmethod
    def size_problem(cls, dataset: Dataset) -> str | None:
        """Why this model cannot be fitted on ``dataset`` (too large), or None when it can."""
        return None

    @classmethod
    def scale_problem(cls, dataset: Dataset) -> str | None:
        """Why the default preset leaves this model out at ``dataset``'s size, or None.

        For models that can be fitted but too slowly (or too hungrily) to fit a 30-minute,
        8 GB run at this size (``size_problem`` is the hard refusal). A preset that names the
        model explicitly still fits it.
        """
        return cls.size_problem(dataset)

    # ------------------------------------------------------------------ fitting
    def fit(self, dataset: Dataset, progress: ProgressCallback | None = None) -> Recommender:
        """Learn from ``dataset`` (forgetting any earlier fit) and return ``self``."""
        for attr in [a for a in vars(self) if a.endswith("_") and not a.startswith("_")]:
            delattr(self, attr)
        with warnings_logged(f"fitting {self.name}"):  # library warnings go to the log
            self._fit(dataset, progress or (lambda fraction, message: None))
        self.n_users_ = dataset.n_users
        self.n_items_ = dataset.n_items
        self.fitted_ = True
        return self

    def _fit(self, dataset: Dataset, progress: ProgressCallback) -> None:
        raise NotImplementedError

    def check_fitted(self) -> None:
        """Raise ``NotFittedError`` unless ``fit`` has run."""
        if not getattr(self, "fitted_", False):
            raise NotFittedError(f"model '{self.name}' is not trained yet: train it first.")

    # ------------------------------------------------------------------ scoring kernels
    def score_items(self, user_idx: np.ndarray) -> np.ndarray:
        """Scores of every item for known users.

        Parameters
        ----------
        user_idx : (n,) internal user indices seen in ``fit``.

        Returns
        -------
        (n, n_items) float32; higher is better. Already-seen items are *not* masked here.
        """
        self.check_fitted()
        return self._score_items(np.asarray(user_idx, dtype=np.int32))

    def _score_items(self, user_idx: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def pool_scores(self, user_idx: np.ndarray) -> np.ndarray | sp.csr_matrix:
        """``score_items`` in the cheapest exact form for the candidate pool.

        Default: ``score_items``. A model may instead return a CSR matrix of finite scores
        >= 0 where missing entries score 0 (neighbour models), or a read-only broadcast of one
        row when every user gets the same scores (popularity); ``recsys.ranking.pool_scores``
        then selects and gathers without a dense (n, n_items) array. Values must be those
        ``score_items`` gives.
        """
        return self.score_items(user_idx)

    def score_history(self, item_idx: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        """Scores of every item for an ad-hoc user known only by a history (cold or what-if user).

        Parameters
        ----------
        item_idx : (h,) internal item indices the user interacted with (may be empty).
        weights : (h,) interaction strengths (default 1).

        Returns
        -------
        (n_items,) float32. Raises ``ColdStartError`` when ``handles_cold_users`` is False.
        """
        self.check_fitted()
        if not self.handles_cold_users:
            raise ColdStartError(f"model '{self.name}' cannot score a user it was not trained on.")
        item_idx = np.asarray(item_idx, dtype=np.int32)
        w = (
            np.ones(len(item_idx), np.float32)
            if weights is None
            else np.asarray(weights, np.float32)
        )
        return self._score_history(item_idx, w)

    def _score_history(self, item_idx: np.ndarray, weights: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def predict_ratings(self, user_idx: np.ndarray, item_idx: np.ndarray) -> np.ndarray:
        """Predicted ratings for aligned (user, item) pairs, vectorised. Rating models only."""
        self.check_fitted()
        if not self.predicts_ratings:
            raise NotImplementedError(f"model '{self.name}' does not predict ratings.")
        return self._predict_ratings(np.asarray(user_idx, np.int32), np.asarray(item_idx, np.int32))

    def _predict_ratings(self, user_idx: np.ndarray, item_idx: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    # ------------------------------------------------------------------ batch recommendation
    def recommend(
        self,
        user_idx: np.ndarray,
        k: int,
        exclude: sp.csr_matrix | None = None,
        block_size: int | None = None,
        n_jobs: int = 1,
    ) -> TopK:
        """Top-k items for each user, scored in blocks of users so memory stays bounded.

        ``exclude`` is an (n_users, n_items) sparse matrix whose non-zeros are masked.
        ``block_size``: users a block (default ``top_k_block``; above 512 it is lowered when
        there would be fewer blocks than threads). With ``n_jobs > 1``, worker threads take
        blocks while BLAS is held to one thread each (the product and ``argpartition`` release
        the GIL), which beats one multi-threaded BLAS call because selection, not the product,
        dominates.
        """
        self.check_fitted()
        user_idx = np.asarray(user_idx, dtype=np.int32)
        block_size = int(block_size or self.top_k_block)
        if n_jobs > 1:  # large blocks are split so that every thread gets one
            block_size = min(block_size, max(Recommender.top_k_block, -(-len(user_idx) // n_jobs)))
        items = np.full((len(user_idx), k), -1, np.int32)
        scores = np.full((len(user_idx), k), -np.inf, np.float32)

        def run_block(start: int) -> None:
            block = user_idx[start : start + block_size]
            idx, vals = self._top_k(block, k, None if exclude is None else exclude[block])
            items[start : start + len(block), : idx.shape[1]] = idx
            scores[start : start + len(block), : idx.shape[1]] = vals

        starts = range(0, len(user_idx), block_size)
        if n_jobs <= 1:
            for start in starts:
                run_block(start)
        else:
            from concurrent.futures import ThreadPoolExecutor

            from threadpoolctl import threadpool_limits

            with threadpool_limits(limits=1, user_api="blas"), ThreadPoolExecutor(n_jobs) as pool:
                list(pool.map(run_block, starts))
        return TopK(user_idx, items, scores)

    def _top_k(
        self, block: np.ndarray, k: int, exclude_rows: sp.csr_matrix | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """``top_k_indices`` of the block's ``score_items`` with ``exclude_rows`` masked.

        A model may take a faster way to exactly the same lists and scores (EASE).
        """
        s = self.score_items(block)
        if exclude_rows is not None:
            mask_exclusions(s, exclude_rows)
        return top_k_indices(s, k)

    # ------------------------------------------------------------------ persistence
    @classmethod
    def all_state_fields(cls) -> dict[str, str]:
        """``state_fields`` plus the attributes every fitted model has."""
        return {**_COMMON_STATE, **cls.state_fields}

    def state_arrays(self) -> dict[str, np.ndarray]:
        """The learned numeric arrays (for an ``.npz``): ``{key: array}``, no object dtype."""
        self.check_fitted()
        return encode_state(self, self.all_state_fields())[0]

    def state_meta(self) -> dict[str, Any]:
        """The learned values that are not arrays, as plain JSON values."""
        self.check_fitted()
        return encode_state(self, self.all_state_fields())[1]

    @classmethod
    def from_state(
        cls, params: Mapping[str, Any], meta: Mapping[str, Any], arrays: Mapping[str, np.ndarray]
    ) -> Recommender:
        """A fitted model rebuilt from its parameters, ``state_meta`` and ``state_arrays``.

        Parameters are checked as ``make_model`` checks them and every stored value as its
        kind says; anything else raises ``ConfigError``. Nothing is unpickled.
        """
        cls.check_params(params)
        model = cls(**params)
        for name, value in decode_state(cls.all_state_fields(), meta, arrays).items():
            setattr(model, name, value)
        model.fitted_ = True
        return model


def _init_parameters(cls: type) -> dict:
    """``{name: inspect.Parameter}`` of the constructor (sklearn's own rule for parameters)."""
    return {
        name: p
        for name, p in inspect.signature(cls).parameters.items()
        if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
    }


def pair_values(x: sp.csr_matrix, binary: bool) -> sp.csr_matrix:
    """Float32 copy of a user-item matrix with 1 (``binary``) or ``log1p(value)`` per pair."""
    out = sp.csr_matrix(x, dtype=np.float32, copy=True)
    out.data = np.ones_like(out.data) if binary else np.log1p(out.data)
    return out


def history_row(item_idx: np.ndarray, weights: np.ndarray, n_items: int) -> sp.csr_matrix:
    """(1, n_items) CSR of an ad-hoc history; repeated items have their weights summed."""
    row = sp.csr_matrix(
        (np.asarray(weights, np.float32), (np.zeros(len(item_idx), np.int32), item_idx)),
        shape=(1, n_items),
    )
    row.sum_duplicates()
    return row


def mask_exclusions(scores: np.ndarray, exclude_rows: sp.csr_matrix) -> None:
    """Set ``scores[r, c] = -inf`` in place wherever ``exclude_rows[r, c]`` is non-zero."""
    coo = exclude_rows.tocoo()
    scores[coo.row, coo.col] = -np.inf
