"""Per-user score normalisation over a candidate pool, and the ranks it needs.

Each normaliser takes ``scores`` (..., n, C) with NaN = no score, ``ranks`` (same shape,
1-based, NaN) and ``valid`` (n, C) pool mask, and returns float32 of the same shape, normalised
along the last axis (one user's pool); NaN stays NaN except where a method defines a value.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from recsys.errors import ConfigError
from recsys.ranking.topk import descending_key


def descending_ranks(scores: np.ndarray) -> np.ndarray:
    """(..., n, C) scores with NaN -> 1-based descending ranks per row (NaN stays NaN).

    Ties are ranked by position (lower first), as a stable sort would; the sort itself runs
    on distinct int64 keys (value, position), about 4x faster than a stable float sort.
    """
    c = scores.shape[-1]
    ranks = np.empty(scores.shape, np.float32)
    if ranks.size == 0:
        return ranks
    filled = np.fmax(scores, np.float32(-np.inf), dtype=np.float32)  # NaN -> -inf
    order = np.argsort(descending_key(filled, np.arange(c, dtype=np.int64)), axis=-1)
    del filled
    np.put_along_axis(
        ranks, order, np.broadcast_to(np.arange(1, c + 1, dtype=np.float32), scores.shape), -1
    )
    ranks[np.isnan(scores)] = np.nan
    return ranks


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
        ranks = descending_ranks(scores)
    if valid is None:
        valid = ~np.isnan(scores) if scores.ndim == 2 else ~np.isnan(scores).all(axis=0)
    return NORMALIZERS[name](scores, ranks, valid)


__all__ = [
    "NORMALIZERS",
    "Normalizer",
    "borda_norm",
    "descending_ranks",
    "minmax_norm",
    "normalize_scores",
    "rank_norm",
    "zscore_norm",
]
