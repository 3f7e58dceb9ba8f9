"""The fusion facade: checks the configuration against the pool, then runs the method."""

from __future__ import annotations

import json

import numpy as np

from recsys.errors import ConfigError
from recsys.ranking.candidates import CandidatePool
from recsys.ranking.fusion.base import FusionContext, FusionMethod, TrainedFuser, filled
from recsys.ranking.fusion.config import FusionConfig
from recsys.ranking.fusion.registry import FUSERS


def fuse(
    pool: CandidatePool,
    config: FusionConfig,
    trained: TrainedFuser | None = None,
    context: FusionContext | None = None,
) -> np.ndarray:
    """Fused scores of every pooled item.

    Parameters
    ----------
    pool : the candidate pool (never rescored: fusion reads it only).
    config : method, normalisation, weights and method parameters.
    trained : the fitted model of a learned method (``FUSERS[method].needs_training``).
    context : side information a learned method reads (popularity, activity).

    Returns
    -------
    (n, C) float32, higher is better; -inf on padding. Methods whose result does not depend on
    the weights (cascade, stacking, learning to rank) are computed once per pool and setting
    and kept on the pool (``CandidatePool.memo``; read-only), so a re-ranking change or a
    switch back to them costs nothing.
    """
    method = FUSERS[config.method]
    w = config.weight_vector(pool)
    if not method.uses_weights:
        key = (
            "fused",
            config.method,
            config.normalization if method.uses_normalization else None,
            json.dumps(config.params, sort_keys=True, default=str),
            tuple(bool(x) for x in w > 0),  # cascade's default order: the models with weight
            id(trained) if trained is not None else None,
        )
        return pool.memo(key, lambda: _fuse(pool, method, config, w, trained, context))
    return _fuse(pool, method, config, w, trained, context)


def _fuse(
    pool: CandidatePool,
    method: FusionMethod,
    config: FusionConfig,
    w: np.ndarray,
    trained: TrainedFuser | None,
    context: FusionContext | None,
) -> np.ndarray:
    if method.needs_training:
        if trained is None:
            raise ConfigError(
                f"{method.label} is not trained yet: it learns on the validation split of a run."
            )
        out = np.asarray(trained.predict(pool, context), dtype=np.float32)
    else:
        out = np.asarray(method.fn(pool, w, config.normalization, config.params), np.float32)
    if not method.additive:
        out = np.where(np.isnan(out), -np.inf, out)
    out[pool.padding] = -np.inf
    return out


def contributions(
    pool: CandidatePool,
    config: FusionConfig,
    trained: TrainedFuser | None = None,
    context: FusionContext | None = None,
) -> tuple[list[str], np.ndarray]:
    """Each part of the fused score, for explanations: ``(names, parts (n_parts, n, C))``.

    Parts are the models, in pool order. They sum exactly to ``fuse`` for additive methods
    (``FUSERS[m].additive``: weighted, combmnz, rrf, borda) and for a learned method whose model
    explains itself (learning to rank adds ``context`` and ``base`` parts). For the others
    (condorcet, cascade, stacking) they are the indicative ``w_m * norm_m`` under the chosen
    normalisation. Zero on padding and missing scores.
    """
    method = FUSERS[config.method]
    explain_self = getattr(trained, "contributions", None)
    if method.needs_training and explain_self is not None:
        names, out = explain_self(pool, context)
        return list(names), np.where(pool.valid[None], out, 0.0).astype(np.float32)
    w = config.weight_vector(pool)
    if method.parts is not None:
        out = method.parts(pool, w, config.normalization, config.params)
    else:
        out = w[:, None, None] * filled(pool, config.normalization)
    return list(pool.model_names), np.where(pool.valid[None], out, 0.0).astype(np.float32)
