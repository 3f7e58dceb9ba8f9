"""Additive fusion: the fused score is a weighted sum of one term per model.

CombSUM, CombMNZ (Fox & Shaw, TREC-2, 1994), reciprocal rank fusion (Cormack, Clarke &
Buettcher, SIGIR 2009) and the Borda count (Aslam & Montague, SIGIR 2001). Each method has a
``*_parts`` twin giving every model's part, which sums exactly to the fused score (explanations).
Terms that do not depend on the weights are memoised on the pool, so a weight change is one
pass over cached tensors. Missing scores (NaN) contribute nothing.
"""

from __future__ import annotations

import numpy as np

from recsys.errors import ConfigError
from recsys.ranking.candidates import CandidatePool
from recsys.ranking.fusion.base import filled, weighted_total


def _retrieved_count(pool: CandidatePool, w: np.ndarray) -> np.ndarray:
    """(n, C) number of models with weight > 0 that retrieved the item (in their top-M)."""
    retrieved = pool.memo(("retrieved_f32",), lambda: pool.retrieved.astype(np.float32))
    return weighted_total((w > 0).astype(np.float32), retrieved)


def _rrf_terms(pool: CandidatePool, params: dict) -> np.ndarray:
    """(n_models, n, C) ``1 / (k + rank)``, 0 where a model has no score."""
    k = float(params.get("k", 60))
    if k < 0:
        raise ConfigError("the RRF constant k must be zero or positive.")
    return pool.memo(
        ("rrf", k), lambda: np.nan_to_num(1.0 / (k + pool.ranks), nan=0.0).astype(np.float32)
    )


def _per_model(w: np.ndarray, x: np.ndarray) -> np.ndarray:
    return (np.asarray(w, np.float32)[:, None, None] * x).astype(np.float32)


def weighted_sum(
    pool: CandidatePool, w: np.ndarray, normalization: str, params: dict
) -> np.ndarray:
    """CombSUM with weights: ``S(u,i) = sum_m w_m * norm_m(u,i)`` (missing = 0)."""
    return weighted_total(w, filled(pool, normalization))


def weighted_sum_parts(
    pool: CandidatePool, w: np.ndarray, normalization: str, params: dict
) -> np.ndarray:
    """``w_m * norm_m(u,i)`` per model."""
    return _per_model(w, filled(pool, normalization))


def comb_mnz(pool: CandidatePool, w: np.ndarray, normalization: str, params: dict) -> np.ndarray:
    """CombMNZ: ``S(u,i) = (sum_m w_m * norm_m(u,i)) * |{m : w_m > 0, i in top-M_m(u)}|``.

    "Retrieved" = the item is in that model's top-M for the user (pool rank <= per_model).
    """
    return weighted_total(w, filled(pool, normalization)) * _retrieved_count(pool, w)


def comb_mnz_parts(
    pool: CandidatePool, w: np.ndarray, normalization: str, params: dict
) -> np.ndarray:
    """``w_m * norm_m(u,i) * count(u,i)`` per model."""
    return weighted_sum_parts(pool, w, normalization, params) * _retrieved_count(pool, w)[None]


def reciprocal_rank(
    pool: CandidatePool, w: np.ndarray, normalization: str, params: dict
) -> np.ndarray:
    """Weighted RRF: ``S(u,i) = sum_m w_m / (k + r_m(u,i))``, r the model's pool rank, k=60.

    Ignores the normalisation (ranks only).
    """
    return weighted_total(w, _rrf_terms(pool, params))


def reciprocal_rank_parts(
    pool: CandidatePool, w: np.ndarray, normalization: str, params: dict
) -> np.ndarray:
    """``w_m / (k + r_m(u,i))`` per model."""
    return _per_model(w, _rrf_terms(pool, params))


def borda_count(pool: CandidatePool, w: np.ndarray, normalization: str, params: dict) -> np.ndarray:
    """Weighted Borda count: ``S(u,i) = sum_m w_m * (n - r_m + 1) / n`` (``borda`` normaliser).

    Ignores the chosen normalisation.
    """
    return weighted_total(w, filled(pool, "borda"))


def borda_count_parts(
    pool: CandidatePool, w: np.ndarray, normalization: str, params: dict
) -> np.ndarray:
    """``w_m * borda_m(u,i)`` per model."""
    return _per_model(w, filled(pool, "borda"))
