"""The Surprise family (SVD, SVD++, NMF, KNNBaseline, BaselineOnly, SlopeOne, CoClustering),
trained with scikit-surprise and scored at matrix speed.

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
from recsys.models.base import ProgressCallback, Recommender

#: Elements of one gathered (rows x neighbours) tile in the KNN / SlopeOne kernels.
_TILE = 1 << 23

IMPLICIT_RATINGS: tuple[str, ...] = ("log", "linear")


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


class SurpriseRecommender(Recommender):
    """Shared machinery: rating table, trainset, id alignment, clipping, fold-in plumbing."""

    predicts_ratings: ClassVar[bool] = True
    handles_cold_users: ClassVar[bool] = True
    handles_cold_items: ClassVar[bool] = False
    #: Set on an instance (``model._keep_surprise = True``) to keep the fitted Surprise algo in
    #: ``model._surprise_algo`` for comparisons; never pickled.
    _keep_surprise: bool = False
    #: Whether ``_fit`` needs a Surprise trainset.
    _uses_trainset: ClassVar[bool] = True

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
        self._sim_ext_cache = None
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


# ====================================================================== factor models
class _FactorModel(SurpriseRecommender):
    """``est = mu + b_u + b_i + z_u . q_i`` (biased) or ``z_u . q_i``; Surprise's fallbacks."""

    biased: bool = True

    def _estimate_pairs(self, user_idx, item_idx):
        dot = np.einsum("nf,nf->n", self.user_vec_[user_idx], self.qi_[item_idx], dtype=np.float64)
        if self.biased:
            return self.global_mean_ + self.bu_[user_idx] + self.bi_[item_idx] + dot
        both = self.user_known_[user_idx] & self.item_known_[item_idx]
        return np.where(both, dot, self.global_mean_)

    def _score_items(self, user_idx):
        s = self.user_vec_[user_idx] @ self.qi_.T
        if self.biased:
            s += np.float32(self.global_mean_) + self.bu_[user_idx, None] + self.bi_[None, :]
        else:
            both = self.user_known_[user_idx, None] & self.item_known_[None, :]
            s = np.where(both, s, np.float32(self.global_mean_))
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
    _surprise_class = "SVD"
    label = "SVD (Surprise)"

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
    _surprise_class = "NMF"
    label = "NMF (Surprise)"

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


# ====================================================================== baselines
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


class SurpriseKNNBaseline(_BaselineMixin, SurpriseRecommender):
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
        if getattr(self, "_sim_ext_cache", None) is None:
            n = self.sim_pos_.shape[0]
            ext = np.zeros((n + 1, n + 1), np.float32)
            ext[:n, :n] = self.sim_pos_
            self._sim_ext_cache = ext
        return self._sim_ext_cache

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
class SurpriseSlopeOne(SurpriseRecommender):
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
class SurpriseCoClustering(SurpriseRecommender):
    """Surprise ``CoClustering``:
    ``r_ui = avg(C_u, C_i) + (mu_u - avg(C_u)) + (mu_i - avg(C_i))``.

    Unknown users or items get the global mean (Surprise's behaviour). A history user is
    put in the user cluster whose typical member (``mu_u = avg(C_u)``) has the least squared
    error over the history, then ``mu_u`` is shifted by the mean remaining error.
    """

    name = "coclustering"
    _surprise_class = "CoClustering"
    label = "Co-clustering (Surprise)"

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


__all__ = [
    "IMPLICIT_RATINGS",
    "SurpriseBaselineOnly",
    "SurpriseCoClustering",
    "SurpriseKNNBaseline",
    "SurpriseNMF",
    "SurpriseRecommender",
    "SurpriseSVD",
    "SurpriseSVDpp",
    "SurpriseSlopeOne",
    "derive_ratings",
]
