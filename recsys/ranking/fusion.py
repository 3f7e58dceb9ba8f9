"""Score normalisation and rank fusion over a ``CandidatePool``.

The catalogue follows ranx (Bassani & Romelli, 2022): one function per method with a uniform
signature ``method(pool, weights, normalization, params) -> (n, C)``, normalisation kept separate
and applied per user over that user's pool. Registries are plain dicts (``NORMALIZERS``,
``FUSERS``) so the UI can list them; bad input raises ``ConfigError`` in plain words.

Fusion never rescores a model: it reads the pool only. Normalised tensors are memoised on the
pool (``pool.normalized(name)``), so changing weights is one ``tensordot`` over
``(n_models, n, C)``.

Missing scores (NaN: the model could not score the item) contribute nothing to additive methods.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, clone

from recsys.errors import ConfigError
from recsys.ranking.candidates import CandidatePool

# ====================================================================== normalisers
# Each takes ``scores`` (..., n, C) with NaN = no score, ``ranks`` (same shape, 1-based, NaN)
# and ``valid`` (n, C) pool mask, and returns float32 of the same shape, normalised along the
# last axis (one user's pool); NaN stays NaN except where a method defines a value.


def _safe_div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return num / den


def minmax_norm(scores: np.ndarray, ranks: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """``(s - min) / (max - min)`` per user over scored items; a constant row maps to 1.0."""
    has = ~np.isnan(scores)
    lo = np.where(has, scores, np.inf).min(axis=-1, keepdims=True)
    hi = np.where(has, scores, -np.inf).max(axis=-1, keepdims=True)
    span = hi - lo
    out = np.where(span > 0, _safe_div(scores - lo, np.where(span > 0, span, 1.0)), 1.0)
    return np.where(has, out, np.nan).astype(np.float32)


def zscore_norm(scores: np.ndarray, ranks: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """``(s - mean) / std`` per user over scored items (population std); a constant row maps to 0."""
    has = ~np.isnan(scores)
    cnt = np.maximum(has.sum(axis=-1, keepdims=True), 1)
    filled = np.where(has, scores, 0.0).astype(np.float64)
    mean = filled.sum(axis=-1, keepdims=True) / cnt
    var = (np.where(has, filled - mean, 0.0) ** 2).sum(axis=-1, keepdims=True) / cnt
    std = np.sqrt(var)
    out = np.where(std > 0, _safe_div(filled - mean, np.where(std > 0, std, 1.0)), 0.0)
    return np.where(has, out, np.nan).astype(np.float32)


def rank_norm(scores: np.ndarray, ranks: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """``1 - (r - 1) / n_m``: r the model's rank in the pool, n_m the items it scored (top = 1).

    Items the model cannot score stay NaN (they contribute nothing).
    """
    has = ~np.isnan(scores)
    n_m = has.sum(axis=-1, keepdims=True).astype(np.float32)
    out = 1.0 - _safe_div(ranks - 1.0, np.maximum(n_m, 1.0))
    return np.where(has, out, np.nan).astype(np.float32)


def borda_norm(scores: np.ndarray, ranks: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Borda points ``(n - r + 1) / n`` with n = the user's pool size.

    Items the model did not score share the points left over evenly, as in ranx:
    ``(n - n_m + 1) / 2 / n`` (the mean of the points for ranks ``n_m+1 .. n``).
    """
    has = ~np.isnan(scores)
    n = valid.sum(axis=-1, keepdims=True).astype(np.float32)
    n_m = has.sum(axis=-1, keepdims=True).astype(np.float32)
    nn = np.maximum(n, 1.0)
    scored = (n - ranks + 1.0) / nn
    unscored = (n - n_m + 1.0) / 2.0 / nn
    out = np.where(has, scored, np.broadcast_to(unscored, scores.shape))
    return np.where(valid, out, np.nan).astype(np.float32)


Normalizer = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]

#: normalisation name -> function (per user, NaN-safe)
NORMALIZERS: dict[str, Normalizer] = {
    "minmax": minmax_norm,
    "zscore": zscore_norm,
    "rank": rank_norm,
    "borda": borda_norm,
}


def normalize_scores(
    scores: np.ndarray,
    name: str,
    ranks: np.ndarray | None = None,
    valid: np.ndarray | None = None,
) -> np.ndarray:
    """Normalise ``scores`` (n, C) or (n_models, n, C) per user with ``NORMALIZERS[name]``.

    ``ranks`` default to the descending rank of ``scores``; ``valid`` (n, C) defaults to the
    cells where any model has a score.
    """
    if name not in NORMALIZERS:
        raise ConfigError(f"unknown normalisation '{name}'. Known: {', '.join(NORMALIZERS)}.")
    scores = np.asarray(scores, dtype=np.float32)
    if ranks is None:
        from recsys.ranking.candidates import pool_ranks

        ranks = pool_ranks(scores)
    if valid is None:
        valid = ~np.isnan(scores) if scores.ndim == 2 else ~np.isnan(scores).all(axis=0)
    return NORMALIZERS[name](scores, ranks, valid)


# ====================================================================== configuration


@dataclass
class FusionConfig:
    """How to fuse: method, normalisation, per-model weights (missing = 1.0), method params."""

    method: str = "weighted"
    normalization: str = "minmax"
    weights: dict[str, float] = field(default_factory=dict)
    params: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.method not in FUSERS:
            raise ConfigError(f"unknown fusion method '{self.method}'. Known: {', '.join(FUSERS)}.")
        if self.normalization not in NORMALIZERS:
            raise ConfigError(
                f"unknown normalisation '{self.normalization}'. Known: {', '.join(NORMALIZERS)}."
            )
        if not isinstance(self.weights, dict):
            raise ConfigError("fusion weights must be a mapping of model name to a number.")
        clean = {}
        for name, w in self.weights.items():
            try:
                w = float(w)
            except (TypeError, ValueError):
                raise ConfigError(
                    f"the weight of model '{name}' must be a number, got {w!r}."
                ) from None
            if not np.isfinite(w) or w < 0:
                raise ConfigError(
                    f"the weight of model '{name}' must be zero or positive, got {w}."
                )
            clean[str(name)] = w
        self.weights = clean  # "not all zero" is checked against the pool in weight_vector
        self.params = dict(self.params or {})

    def to_dict(self) -> dict:
        return {
            "method": self.method,
            "normalization": self.normalization,
            "weights": dict(self.weights),
            "params": dict(self.params),
        }

    @classmethod
    def from_dict(cls, data: dict) -> FusionConfig:
        known = {"method", "normalization", "weights", "params"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(
                f"unknown fusion setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}."
            )
        return cls(
            method=data.get("method", "weighted"),
            normalization=data.get("normalization", "minmax"),
            weights=dict(data.get("weights") or {}),
            params=dict(data.get("params") or {}),
        )

    def weight_vector(self, pool: CandidatePool) -> np.ndarray:
        """(n_models,) float32 weights aligned with the pool; checks names before any arithmetic."""
        unknown = sorted(set(self.weights) - set(pool.model_names))
        if unknown:
            raise ConfigError(
                f"weights name model(s) {', '.join(unknown)} that are not in the pool "
                f"({', '.join(pool.model_names)})."
            )
        w = np.array([self.weights.get(m, 1.0) for m in pool.model_names], np.float32)
        if not (w > 0).any():
            raise ConfigError("at least one model needs a weight above zero.")
        return w


@dataclass(frozen=True)
class FusionContext:
    """Side information for stacking: (n_items,) item popularity, (n_users,) user activity."""

    item_popularity: np.ndarray | None = None
    user_activity: np.ndarray | None = None


# ====================================================================== methods


def _filled(pool: CandidatePool, normalization: str) -> np.ndarray:
    return pool.normalized(normalization, fill=0.0)


def _wsum(w: np.ndarray, x: np.ndarray) -> np.ndarray:
    # einsum beats tensordot/BLAS here by ~4x (one pass, no reshape copies)
    return np.einsum("m,mnc->nc", np.asarray(w, np.float32), x, dtype=np.float32)


def _mnz_count(pool: CandidatePool, w: np.ndarray) -> np.ndarray:
    key = ("retrieved_f32",)
    if key not in pool._cache:
        pool._cache[key] = pool.retrieved.astype(np.float32)
    return _wsum((w > 0).astype(np.float32), pool._cache[key])


def _rrf_terms(pool: CandidatePool, k: float) -> np.ndarray:
    key = ("rrf", float(k))
    if key not in pool._cache:
        t = np.nan_to_num(1.0 / (k + pool.ranks), nan=0.0).astype(np.float32)
        t.setflags(write=False)
        pool._cache[key] = t
    return pool._cache[key]


def _rrf_k(params: dict) -> float:
    k = float(params.get("k", 60))
    if k < 0:
        raise ConfigError("the RRF constant k must be zero or positive.")
    return k


def weighted_sum(
    pool: CandidatePool, w: np.ndarray, normalization: str, params: dict
) -> np.ndarray:
    """CombSUM with weights: ``S(u,i) = sum_m w_m * norm_m(u,i)`` (missing = 0).

    Fox & Shaw, "Combination of multiple searches", TREC-2, 1994.
    """
    return _wsum(w, _filled(pool, normalization))


def comb_mnz(pool: CandidatePool, w: np.ndarray, normalization: str, params: dict) -> np.ndarray:
    """CombMNZ: ``S(u,i) = (sum_m w_m * norm_m(u,i)) * |{m : w_m > 0, i in top-M_m(u)}|``.

    "Retrieved" = the item is in that model's top-M for the user (pool rank <= per_model).
    Fox & Shaw, 1994.
    """
    return _wsum(w, _filled(pool, normalization)) * _mnz_count(pool, w)


def reciprocal_rank(
    pool: CandidatePool, w: np.ndarray, normalization: str, params: dict
) -> np.ndarray:
    """Weighted RRF: ``S(u,i) = sum_m w_m / (k + r_m(u,i))``, r the model's pool rank, k=60.

    Cormack, Clarke & Buettcher, "Reciprocal rank fusion outperforms Condorcet and individual
    rank learning methods", SIGIR 2009. Ignores the normalisation (ranks only).
    """
    return _wsum(w, _rrf_terms(pool, _rrf_k(params)))


def borda_count(pool: CandidatePool, w: np.ndarray, normalization: str, params: dict) -> np.ndarray:
    """Weighted Borda count: ``S(u,i) = sum_m w_m * (n - r_m + 1) / n`` (``borda`` normaliser).

    Aslam & Montague, "Models for metasearch", SIGIR 2001. Ignores the chosen normalisation.
    """
    return _wsum(w, _filled(pool, "borda"))


def condorcet(pool: CandidatePool, w: np.ndarray, normalization: str, params: dict) -> np.ndarray:
    """Weighted Condorcet voting scored by Copeland's rule.

    Model m prefers i over j when it scores i higher (a scored item beats an unscored one);
    ``v(i,j) = sum_m w_m [m prefers i to j]``; i beats j when ``v(i,j) > v(j,i)``.
    ``S(u,i) = wins + ties / 2`` (ranks like Copeland's wins - losses), plus, when
    ``params["tie_break"]`` (default True), ``0.49 * weighted mean Borda`` (< 0.5) so that equal
    Copeland scores are ordered by Borda without overturning any pairwise result.
    Montague & Aslam, "Condorcet fusion for improved retrieval", CIKM 2002.

    Cost: O(n * C^2 * n_models) time, computed in user blocks of ~4M pair cells (C=300: ~45 users).
    """
    n, c = pool.items.shape
    out = np.zeros((n, c), np.float32)
    if c == 0:
        return out
    raw = np.where(np.isnan(pool.scores), -np.inf, pool.scores)
    valid = pool.valid
    step = max(1, (4 * 2**20) // (c * c))
    eye = np.eye(c, dtype=bool)
    for a in range(0, n, step):
        b = slice(a, min(n, a + step))
        v = np.zeros((b.stop - b.start, c, c), np.float32)
        for m in range(len(w)):
            if w[m] > 0:
                s = raw[m, b]
                v += w[m] * (s[:, :, None] > s[:, None, :])
        vt = np.swapaxes(v, 1, 2)
        pair = valid[b][:, :, None] & valid[b][:, None, :]
        wins = ((v > vt) & pair).sum(axis=-1)
        ties = ((v == vt) & pair & ~eye).sum(axis=-1)
        out[b] = wins + 0.5 * ties
    if params.get("tie_break", True):
        out += 0.49 * _wsum(w / w.sum(), _filled(pool, "borda"))
    return out


def cascade(pool: CandidatePool, w: np.ndarray, normalization: str, params: dict) -> np.ndarray:
    """Cascade: a primary model decides, the next models break its ties and fill its gaps.

    ``params``: ``order`` (model names, primary first; default: pool order of models with
    weight > 0), ``min_relevance`` tau (default 0.2), ``epsilon`` (default 0.01), on the
    chosen normalisation (use ``minmax``/``rank``/``borda`` so tau is on [0, 1]).

    Minimum-relevance fill rule: an item's *tier* is the first model t in ``order`` whose
    normalised score for it is >= tau (tier T = len(order) when none). Tier 0 (the primary's
    relevant items) comes first, then tier 1 (the next model's relevant items, i.e. the next
    model's best replace primary items below tau and back-fill items the primary cannot score),
    and so on; tier T last. Within tier t items are ordered by model t's score, bucketed to
    ``floor((1 - s) / epsilon)`` (scores within one epsilon step of each other below the top
    count as tied; ``epsilon=0``: exact ties only), then by model t+1, t+2, ...,
    wrapping round to the models before t; missing scores sort last; then by pool position.
    ``S(u,i) = 1 - position / C``. Weights only choose the default order.
    """
    names = params.get("order") or [m for m, x in zip(pool.model_names, w, strict=True) if x > 0]
    order = [pool.model_index(m) for m in names]
    if not order:
        raise ConfigError("cascade needs at least one model in 'order'.")
    tau = float(params.get("min_relevance", 0.2))
    eps = float(params.get("epsilon", 0.01))
    if eps < 0:
        raise ConfigError("cascade epsilon must be zero or positive.")
    norm = pool.normalized(normalization)[order]  # (T, n, C) with NaN
    t_count, n, c = norm.shape
    if c == 0:
        return np.zeros((n, 0), np.float32)
    with np.errstate(invalid="ignore"):
        relevant = norm >= tau
    tier = np.where(relevant.any(axis=0), relevant.argmax(axis=0), t_count)
    tier = np.where(pool.valid, tier, t_count + 1)
    # ascending key: distance from the top in epsilon steps (near-ties share a bucket)
    with np.errstate(invalid="ignore"):
        bucket = np.floor((1.0 - norm) / eps) if eps > 0 else -norm
    bucket = np.where(np.isnan(bucket), np.inf, bucket)
    keys = []
    for p in range(t_count):
        idx = (tier % (t_count + 1) + p) % t_count  # tier T (and padding) starts at model 0
        keys.append(np.take_along_axis(bucket, idx[None], axis=0)[0])
    # np.lexsort: the last key is primary -> pass tie-breakers first
    pos_in_row = np.broadcast_to(np.arange(c), (n, c))
    order_idx = np.lexsort([pos_in_row, *keys[::-1], tier], axis=-1)
    position = np.empty((n, c), np.float32)
    np.put_along_axis(
        position, order_idx, np.broadcast_to(np.arange(c, dtype=np.float32), (n, c)), -1
    )
    return (1.0 - position / c).astype(np.float32)


def stacking(pool: CandidatePool, w: np.ndarray, normalization: str, params: dict) -> np.ndarray:
    """Learned fusion: see ``StackingFuser`` (``fuse`` passes the fitted stacker)."""
    raise ConfigError("stacking needs a trained stacker: train it on a validation split first.")


Method = Callable[[CandidatePool, np.ndarray, str, dict], np.ndarray]


@dataclass(frozen=True)
class FusionMethod:
    """A registered fusion method and what the UI should know about it."""

    name: str
    label: str
    description: str
    fn: Method
    uses_weights: bool = True
    needs_training: bool = False
    uses_normalization: bool = True


#: method name -> FusionMethod
FUSERS: dict[str, FusionMethod] = {
    m.name: m
    for m in (
        FusionMethod("weighted", "Weighted sum (CombSUM)", "Sum of each model's normalised score times its weight.", weighted_sum),
        FusionMethod("combmnz", "CombMNZ", "Weighted sum times the number of models that retrieved the item: rewards agreement.", comb_mnz),
        FusionMethod("rrf", "Reciprocal rank fusion", "Sum of weight / (60 + rank): robust, uses ranks only.", reciprocal_rank, uses_normalization=False),
        FusionMethod("borda", "Borda count", "Each model gives points by rank (top = most); weighted sum of points.", borda_count, uses_normalization=False),
        FusionMethod("condorcet", "Condorcet (Copeland)", "Items that beat most others in weighted head-to-head votes come first.", condorcet, uses_normalization=False),
        FusionMethod("cascade", "Cascade", "A primary model decides; the next models break its ties and fill in when it is not confident.", cascade, uses_weights=False),
        FusionMethod("stacking", "Stacking (learned)", "A small classifier learns how to combine the models on a validation split.", stacking, uses_weights=False, needs_training=True, uses_normalization=False),
    )
}  # fmt: skip


# ====================================================================== facade


def fuse(
    pool: CandidatePool,
    config: FusionConfig,
    stacker: StackingFuser | None = None,
    context: FusionContext | None = None,
) -> np.ndarray:
    """Fused scores of every pooled item.

    Returns
    -------
    (n, C) float32, higher is better; -inf on padding. Never calls a model.
    """
    w = config.weight_vector(pool)
    if config.method == "stacking":
        if stacker is None:
            return stacking(pool, w, config.normalization, config.params)
        out = stacker.predict(pool, context)
    else:
        out = FUSERS[config.method].fn(pool, w, config.normalization, config.params)
    out = np.asarray(out, dtype=np.float32)
    if config.method not in ("weighted", "combmnz", "rrf", "borda"):
        out = np.where(np.isnan(out), -np.inf, out)
    if "padding" not in pool._cache:
        pool._cache["padding"] = ~pool.valid
    out[pool._cache["padding"]] = -np.inf
    return out


def normalized_contributions(pool: CandidatePool, config: FusionConfig) -> np.ndarray:
    """(n_models, n, C) float32: each model's additive part of the fused score.

    Exact (sums to ``fuse``) for ``weighted`` (w_m * norm_m), ``combmnz`` (w_m * norm_m * count),
    ``rrf`` (w_m / (k + r_m)) and ``borda`` (w_m * borda_m). For the non-additive methods
    (condorcet, cascade, stacking) it is the indicative ``w_m * norm_m`` under the chosen
    normalisation. Zero on padding and missing scores.
    """
    w = config.weight_vector(pool)[:, None, None]
    method = config.method
    if method == "rrf":
        out = w * _rrf_terms(pool, _rrf_k(config.params))
    elif method == "borda":
        out = w * _filled(pool, "borda")
    elif method == "combmnz":
        out = w * _filled(pool, config.normalization) * _mnz_count(pool, w[:, 0, 0])[None]
    else:
        out = w * _filled(pool, config.normalization)
    return np.where(pool.valid[None], out, 0.0).astype(np.float32)


# ====================================================================== stacking


class StackingFuser(BaseEstimator):
    """Learned fusion: a classifier over per-model pool features predicts "the user will interact".

    Features per pooled (user, item): for each model its minmax-normalised score (0 if missing),
    its pool rank / pool size (1 if missing) and a missing indicator; plus ``log1p`` item
    popularity and ``log1p`` user activity. Label: the item is in the user's validation truth.
    Trained on all positives and ``neg_ratio`` x as many negatives sampled uniformly (seeded).
    Wolpert, "Stacked generalization", 1992.

    Parameters
    ----------
    estimator : "logistic" (scaled LogisticRegression), "hgb" (HistGradientBoostingClassifier)
        or any sklearn classifier with ``predict_proba``.
    neg_ratio : negatives sampled per positive.
    max_samples : cap on training rows.
    random_state : seed of the negative sampling (and of the estimator when it takes one).
    """

    def __init__(
        self,
        estimator="logistic",
        neg_ratio: float = 4.0,
        max_samples: int = 200_000,
        random_state: int = 0,
    ):
        self.estimator = estimator
        self.neg_ratio = neg_ratio
        self.max_samples = max_samples
        self.random_state = random_state

    def _make_estimator(self):
        if self.estimator == "logistic":
            from sklearn.linear_model import LogisticRegression
            from sklearn.pipeline import make_pipeline
            from sklearn.preprocessing import StandardScaler

            return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
        if self.estimator == "hgb":
            from sklearn.ensemble import HistGradientBoostingClassifier

            return HistGradientBoostingClassifier(max_iter=100, random_state=self.random_state)
        if isinstance(self.estimator, str):
            raise ConfigError(
                f"unknown stacking estimator '{self.estimator}'. Known: logistic, hgb."
            )
        return clone(self.estimator)

    @staticmethod
    def features(pool: CandidatePool, context: FusionContext | None = None) -> np.ndarray:
        """(n, C, 3 * n_models + 2) float32 features of every pooled cell."""
        norm = pool.normalized("minmax", fill=0.0)
        missing = np.isnan(pool.scores)
        size = np.maximum(pool.valid.sum(axis=1), 1).astype(np.float32)[None, :, None]
        rank_frac = np.where(missing, 1.0, pool.ranks / size)
        n, c = pool.items.shape
        ctx = context or FusionContext()
        pop = np.zeros((n, c), np.float32)
        if ctx.item_popularity is not None:
            pop = np.log1p(np.asarray(ctx.item_popularity, np.float32)[np.maximum(pool.items, 0)])
        act = np.zeros((n, c), np.float32)
        if ctx.user_activity is not None:
            act = np.broadcast_to(
                np.log1p(np.asarray(ctx.user_activity, np.float32)[pool.users])[:, None], (n, c)
            )
        parts = [*norm, *rank_frac, *missing.astype(np.float32), pop, act]
        return np.stack(parts, axis=-1).astype(np.float32)

    def fit(
        self, pool: CandidatePool, truth_csr: sp.csr_matrix, context: FusionContext | None = None
    ) -> StackingFuser:
        """Learn from a validation pool; ``truth_csr`` (n_users, n_items) rows by user index."""
        truth = sp.csr_matrix(truth_csr)[pool.users]
        valid = pool.valid
        n_items = truth.shape[1]
        rows, cols = np.nonzero(valid)
        keys = rows.astype(np.int64) * n_items + pool.items[rows, cols]
        t = truth.tocoo()
        tkeys = t.row.astype(np.int64) * n_items + t.col
        y = np.isin(keys, tkeys[t.data != 0])
        pos = np.flatnonzero(y)
        neg = np.flatnonzero(~y)
        if len(pos) == 0 or len(neg) == 0:
            raise ConfigError(
                "stacking cannot learn: the validation interactions never (or always) fall in the "
                "candidate pool. Use more users, a larger pool, or another fusion method."
            )
        rng = np.random.default_rng(self.random_state)
        cap_pos = max(1, int(self.max_samples / (1.0 + self.neg_ratio)))
        if len(pos) > cap_pos:
            pos = rng.choice(pos, cap_pos, replace=False)
        n_neg = min(len(neg), max(1, int(round(self.neg_ratio * len(pos)))))
        neg = rng.choice(neg, n_neg, replace=False)
        pick = np.concatenate([pos, neg])
        x = self.features(pool, context)[rows[pick], cols[pick]]
        self.estimator_ = self._make_estimator().fit(x, y[pick].astype(np.int8))
        self.model_names_ = pool.model_names
        self.n_train_ = len(pick)
        self.positive_rate_ = float(len(pos) / len(pick))
        return self

    def predict(self, pool: CandidatePool, context: FusionContext | None = None) -> np.ndarray:
        """(n, C) float32 probability of interaction; -inf on padding."""
        if not hasattr(self, "estimator_"):
            raise ConfigError(
                "the stacking model is not trained yet: train it on a validation split first."
            )
        if tuple(pool.model_names) != tuple(self.model_names_):
            raise ConfigError(
                f"the stacking model was trained on models {', '.join(self.model_names_)}, "
                f"but this pool has {', '.join(pool.model_names)}: retrain it."
            )
        n, c = pool.items.shape
        out = np.full((n, c), -np.inf, np.float32)
        rows, cols = np.nonzero(pool.valid)
        if len(rows):
            x = self.features(pool, context)[rows, cols]
            out[rows, cols] = self.estimator_.predict_proba(x)[:, 1]
        return out


__all__ = [
    "FUSERS",
    "NORMALIZERS",
    "FusionConfig",
    "FusionContext",
    "FusionMethod",
    "StackingFuser",
    "borda_norm",
    "fuse",
    "minmax_norm",
    "normalize_scores",
    "normalized_contributions",
    "rank_norm",
    "zscore_norm",
]
