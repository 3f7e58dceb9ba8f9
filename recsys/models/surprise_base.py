"""What every member of the Surprise family shares.

SVD, SVD++, NMF, KNNBaseline, BaselineOnly, SlopeOne and CoClustering are trained with
scikit-surprise and scored at matrix speed.

The members live in :mod:`recsys.models.surprise_factors` (SVD, SVD++, NMF),
:mod:`recsys.models.surprise_baselines` (BaselineOnly, CoClustering) and
:mod:`recsys.models.surprise_neighbours` (KNNBaseline, SlopeOne).

Ratings
-------
Surprise learns from ratings. When the dataset has explicit ratings (``dataset.has_ratings``)
the ``rating`` column is used, on the scale found in the data (``rating_scale_ = (min, max)``).
Event-only data gets a **derived rating** per (user, item) pair from its summed event weight
``w`` (``implicit_rating`` parameter, see :func:`derive_ratings`):

- ``"log"`` (default): ``r = clip(1 + 4 * log1p(w) / log1p(w_ref), 1, 5)``
- ``"linear"``: ``r = clip(1 + 4 * w / w_ref, 1, 5)``

where ``w_ref`` is the 95th percentile of the pair weights (``w_ref_`` after fit). With the
default event weights (view 1, cart 3, purchase 5) and ``w_ref = 5``, one view gives 2.5,
a cart 4.1 and a purchase 5. The scale is then ``(1, 5)``. Pairs absent from the data are
unknown, as always for Surprise (not negative).

Id alignment and what is kept
-----------------------------
Surprise is fed our internal indices as raw ids; its inner ids (first-seen order) are mapped
back once in ``fit`` with numpy, and every learned array is stored in **our** index order
(zeros for users/items Surprise never saw, flagged by ``user_known_`` / ``item_known_``).
Item-item matrices (KNN similarities, SlopeOne deviations) are stored over the known items
only, ``known_items_`` (ascending internal index), with ``item_pos_`` mapping back.
After ``fit`` only numpy / scipy arrays remain: no Surprise object is pickled or needed to score.

Scoring
-------
All scoring is vectorised and reproduces ``algo.predict(u, i).est`` exactly, including
Surprise's fallbacks for unknown users/items (e.g. ``mu + b_u`` for a known user and an
unknown item; the global mean when a model raises ``PredictionImpossible``).
``predict_ratings`` clips to the rating scale as ``predict`` does; ``score_items`` returns
unclipped estimates (better for ranking).
``score_history`` (cold / what-if user) folds the history in: history weights are turned into
ratings with the same transform as in training (for explicit-rating models, weights are read as
ratings, and the default all-ones weights mean "liked": the top of the scale).

References
----------
Hug, N. (2020). Surprise: A Python library for recommender systems. JOSS 5(52), 2174.
Koren, Y. (2010). Factor in the neighbors: scalable and accurate collaborative filtering. TKDD.
Lemire, D. & Maclachlan, A. (2005). Slope One predictors for online rating-based CF. SDM.
George, T. & Merugu, S. (2005). A scalable collaborative filtering framework based on co-clustering.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recsys.data.dataset import Dataset
from recsys.data.schema import Col
from recsys.errors import ConfigError, DataValidationError
from recsys.models.base import (
    LARGE_LOG_PAIRS,
    SEED_RANGE,
    ParamRange,
    ProgressCallback,
    Recommender,
)

IMPLICIT_RATINGS: tuple[str, ...] = ("log", "linear")
#: Surprise takes ``random_state=None`` (unseeded) too.
SURPRISE_SEED = ParamRange(SEED_RANGE.low, SEED_RANGE.high, integer=True, optional=True)
#: The largest item-by-item table the neighbour models keep (``4 n²`` bytes: 1.6 GB).
MAX_DENSE_ITEMS = 20_000


def derive_ratings(weights: np.ndarray, w_ref: float, method: str = "log") -> np.ndarray:
    """Event weights -> ratings on ``[1, 5]``.

    Parameters
    ----------
    weights : (n,) summed event weights of (user, item) pairs, > 0.
    w_ref : reference weight that maps to rating 5 (the 95th percentile of pair weights in fit).
    method : ``"log"``: ``1 + 4 log1p(w) / log1p(w_ref)``; ``"linear"``: ``1 + 4 w / w_ref``.

    Returns
    -------
    (n,) float64 ratings clipped to ``[1, 5]``.
    """
    w = np.asarray(weights, dtype=np.float64)
    w_ref = max(float(w_ref), 1e-12)
    if method == "log":
        r = 1.0 + 4.0 * np.log1p(np.maximum(w, 0.0)) / np.log1p(w_ref)
    elif method == "linear":
        r = 1.0 + 4.0 * w / w_ref
    else:
        raise ConfigError(
            f"unknown implicit_rating '{method}'; use one of {', '.join(IMPLICIT_RATINGS)}."
        )
    return np.clip(r, 1.0, 5.0)


def _surprise():
    try:
        import surprise
    except ImportError as exc:  # pragma: no cover - pinned in requirements
        raise ConfigError("scikit-surprise is not installed: pip install scikit-surprise.") from exc
    return surprise


class SurpriseRecommender(Recommender):
    """Shared machinery: rating table, trainset, id alignment, clipping, fold-in plumbing."""

    predicts_ratings: ClassVar[bool] = True
    handles_cold_users: ClassVar[bool] = True
    handles_cold_items: ClassVar[bool] = False
    #: Surprise's trainset holds every rating in Python dicts: SVD at 1M users x 100k items x
    #: 9.2M pairs peaked 5.9 GB above the loaded data (``/usr/bin/time -v``).
    fit_bytes_per_pair: ClassVar[float] = 650.0
    #: Set on an instance (``model._keep_surprise = True``) to keep the fitted Surprise algo in
    #: ``model._surprise_algo`` for comparisons; never pickled.
    _keep_surprise: bool = False
    #: Whether ``_fit`` needs a Surprise trainset.
    _uses_trainset: ClassVar[bool] = True
    #: What every member learns (id alignment, the rating scale, the ratings); members add theirs.
    state_fields: ClassVar[dict[str, str]] = {
        "rating_source_": "str",
        "w_ref_": "float",
        "rating_scale_": "floats",
        "inner_of_user_": "array",
        "inner_of_item_": "array",
        "user_known_": "array",
        "item_known_": "array",
        "known_items_": "array",
        "item_pos_": "array",
        "global_mean_": "float",
        "ratings_": "csr",
    }

    @classmethod
    def scale_problem(cls, dataset: Dataset) -> str | None:
        """Above ``LARGE_LOG_PAIRS`` pairs Surprise's trainset is too slow and too large."""
        if len(dataset.interactions) > LARGE_LOG_PAIRS:
            return (
                "Surprise keeps every rating in Python objects: one SVD fit over 9.2M pairs took "
                "3 min and 5.9 GB (1M users x 100k items, 2 cores); use als for factors"
            )
        return super().scale_problem(dataset)

    # ------------------------------------------------------------------ fit plumbing
    def _ratings(self, dataset: Dataset) -> pd.DataFrame:
        """Frame ``user_idx, item_idx, rating`` sorted by (user, item), and set the scale."""
        inter = dataset.interactions
        if dataset.has_ratings:
            keep = inter[Col.RATING].notna().to_numpy()
            if not keep.any():
                raise DataValidationError("no pair has a rating.", column=Col.RATING)
            frame = inter.loc[keep, [Col.USER_IDX, Col.ITEM_IDX, Col.RATING]]
            ratings = frame[Col.RATING].to_numpy(np.float64)
            self.rating_source_ = "rating"
            self.w_ref_ = float("nan")
            self.rating_scale_ = (float(ratings.min()), float(ratings.max()))
        else:
            frame = inter[[Col.USER_IDX, Col.ITEM_IDX]]
            w = inter[Col.WEIGHT].to_numpy(np.float64)
            self.w_ref_ = float(np.quantile(w, 0.95))
            ratings = derive_ratings(w, self.w_ref_, self.implicit_rating)
            self.rating_source_ = f"derived:{self.implicit_rating}"
            self.rating_scale_ = (1.0, 5.0)
        out = pd.DataFrame(
            {
                "u": frame[Col.USER_IDX].to_numpy(np.int64),
                "i": frame[Col.ITEM_IDX].to_numpy(np.int64),
                "r": ratings,
            }
        )
        return out.sort_values(["u", "i"], kind="stable").reset_index(drop=True)

    def _fit(self, dataset: Dataset, progress: ProgressCallback) -> None:
        if getattr(self, "implicit_rating", "log") not in IMPLICIT_RATINGS:
            raise ConfigError(
                f"unknown implicit_rating '{self.implicit_rating}'; use one of {', '.join(IMPLICIT_RATINGS)}."
            )
        progress(0.0, "preparing ratings")
        self._sim_ext_cache: np.ndarray | None = None
        df = self._ratings(dataset)
        n_users, n_items = dataset.n_users, dataset.n_items
        u, i, r = df["u"].to_numpy(), df["i"].to_numpy(), df["r"].to_numpy()
        # Surprise numbers raw ids in first-seen order: compute the same order with numpy.
        first_u, first_i = pd.unique(u), pd.unique(i)
        self.inner_of_user_ = np.full(n_users, -1, np.int64)
        self.inner_of_user_[first_u] = np.arange(len(first_u))
        self.inner_of_item_ = np.full(n_items, -1, np.int64)
        self.inner_of_item_[first_i] = np.arange(len(first_i))
        self.user_known_ = self.inner_of_user_ >= 0
        self.item_known_ = self.inner_of_item_ >= 0
        self.known_items_ = np.flatnonzero(self.item_known_).astype(np.int32)
        self.item_pos_ = np.full(n_items, -1, np.int64)
        self.item_pos_[self.known_items_] = np.arange(len(self.known_items_))
        self.global_mean_ = float(np.mean(r))
        # ratings matrix over (our users) x (known items, ascending): row order = Surprise's ur order
        self.ratings_ = sp.csr_matrix(
            (r.astype(np.float32), (u, self.item_pos_[i])),
            shape=(n_users, len(self.known_items_)),
        )
        self.ratings_.sort_indices()
        algo = trainset = None
        if self._uses_trainset:
            progress(0.05, "building the Surprise trainset")
            s = _surprise()
            reader = s.Reader(rating_scale=self.rating_scale_)
            trainset = s.Dataset.load_from_df(df, reader).build_full_trainset()
            progress(0.15, "training")
            algo = self._make_algo()
            algo.fit(trainset)
        progress(0.85, "extracting arrays")
        self._extract(algo, df)
        if self._keep_surprise and algo is not None:
            self._surprise_algo = algo
        progress(1.0, "done")

    #: Name of the Surprise algorithm class whose parameters mirror ours one to one; classes
    #: with a different mapping (baselines, KNN) override ``_make_algo`` instead.
    _surprise_class: ClassVar[str | None] = None
    #: Our own parameters that Surprise does not take.
    _own_params: ClassVar[frozenset[str]] = frozenset({"implicit_rating", "max_items"})

    def _make_algo(self):
        if self._surprise_class is None:
            raise NotImplementedError
        params = {k: v for k, v in self.get_params().items() if k not in self._own_params}
        return getattr(_surprise(), self._surprise_class)(**params)

    def _extract(self, algo, df: pd.DataFrame) -> None:
        raise NotImplementedError

    def _by_user(self, inner_values: np.ndarray) -> np.ndarray:
        """Re-index a per-inner-user array to our user order (zeros for unknown users)."""
        return self._reindex(np.asarray(inner_values), self.inner_of_user_)

    def _by_item(self, inner_values: np.ndarray) -> np.ndarray:
        return self._reindex(np.asarray(inner_values), self.inner_of_item_)

    @staticmethod
    def _reindex(values: np.ndarray, inner_of: np.ndarray) -> np.ndarray:
        out = np.zeros((len(inner_of),) + values.shape[1:], dtype=values.dtype)
        known = inner_of >= 0
        out[known] = values[inner_of[known]]
        return out

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("_surprise_algo", None)
        return state

    # ------------------------------------------------------------------ scoring plumbing
    def _clip(self, est: np.ndarray) -> np.ndarray:
        lo, hi = self.rating_scale_
        return np.clip(est, lo, hi)

    def _predict_ratings(self, user_idx: np.ndarray, item_idx: np.ndarray) -> np.ndarray:
        return self._clip(self._estimate_pairs(user_idx, item_idx)).astype(np.float32)

    def _estimate_pairs(self, user_idx: np.ndarray, item_idx: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def history_ratings(self, weights: np.ndarray) -> np.ndarray:
        """Ratings of a history's items, as training would have derived them.

        Derived-rating models apply :func:`derive_ratings` with the fitted ``w_ref_``.
        Explicit-rating models read ``weights`` as ratings (clipped to the scale); all-ones
        weights (the default) mean "liked" and give the top of the scale.
        """
        w = np.asarray(weights, dtype=np.float64)
        if self.rating_source_ == "rating":
            lo, hi = self.rating_scale_
            if len(w) == 0 or np.all(w == 1.0):
                return np.full(len(w), hi)
            return np.clip(w, lo, hi)
        return derive_ratings(w, self.w_ref_, self.implicit_rating)

    def _history(self, item_idx: np.ndarray, weights: np.ndarray):
        """Known history items (positions in ``known_items_``), their ratings, our indices."""
        item_idx = np.asarray(item_idx, dtype=np.int64)
        ratings = self.history_ratings(weights)
        if len(item_idx):
            # duplicates: sum weights the way Dataset aggregation does, then derive
            frame = pd.DataFrame({"i": item_idx, "w": np.asarray(weights, np.float64)})
            agg = frame.groupby("i", sort=True)["w"].sum()
            item_idx = agg.index.to_numpy(np.int64)
            ratings = self.history_ratings(agg.to_numpy())
        keep = self.item_known_[item_idx] if len(item_idx) else np.zeros(0, bool)
        return self.item_pos_[item_idx[keep]], ratings[keep], item_idx[keep]


__all__ = [
    "IMPLICIT_RATINGS",
    "MAX_DENSE_ITEMS",
    "SURPRISE_SEED",
    "SurpriseRecommender",
    "derive_ratings",
]
