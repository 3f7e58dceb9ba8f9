"""Out-of-fold scores of a learned fuser: each user is scored by a model that never saw them.

Comparing a learned fuser with a tuned blend on the users it was trained on would flatter it.
``out_of_fold`` splits the pool's users into folds, trains on all folds but one and scores the
one left out, so every user gets an honest score from the same validation data.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import scipy.sparse as sp

from recsys.ranking.candidates import CandidatePool
from recsys.ranking.fusion.base import FusionContext, TrainedFuser


def fold_of(n: int, folds: int = 3, seed: int = 0) -> np.ndarray:
    """(n,) fold of each of ``n`` users, at random (seeded), ``max(2, folds)`` folds of equal size.

    Every out-of-fold score of a validation pool uses it, so candidates compared on the same
    pool are scored on the same folds.
    """
    return np.random.default_rng(seed).permutation(n) % max(2, folds)


def out_of_fold(
    trainer: Callable[[], TrainedFuser],
    pool: CandidatePool,
    truth: sp.csr_matrix,
    context: FusionContext | None = None,
    folds: int = 3,
    seed: int = 0,
    progress: Callable[[float], None] | None = None,
) -> np.ndarray:
    """(n, C) float32 scores of ``pool`` from ``folds`` fusers, each blind to the users it scores.

    ``-inf`` on padding. Users are assigned to folds at random (seeded). ``progress(fraction)``
    is called after each fold.
    """
    n, c = pool.items.shape
    out = np.full((n, c), -np.inf, np.float32)
    fold = fold_of(n, folds, seed)
    n_folds = max(2, folds)
    for f in range(n_folds):
        test = np.flatnonzero(fold == f)
        if len(test) == 0:
            continue
        fuser = trainer().fit(pool.subset(np.flatnonzero(fold != f)), truth, context)
        part = pool.subset(test)
        out[test, : part.n_candidates] = fuser.predict(part, context)
        if progress is not None:
            progress((f + 1) / n_folds)
    return out
