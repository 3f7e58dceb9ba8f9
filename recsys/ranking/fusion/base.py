"""What every fusion method is: a registered object with flags the UI and the engine read.

A method is a function ``fn(pool, weights, normalization, params) -> (n, C)`` over a
``CandidatePool``. Methods that learn (``needs_training``) also carry a ``trainer`` that makes
an object with ``fit(pool, truth, context)`` and ``predict(pool, context)``; the engine fits it
once on the validation stage's pool and passes it to ``fuse``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import scipy.sparse as sp

from recsys.ranking.candidates import CandidatePool

#: ``fn(pool, weights (n_models,), normalization, params) -> (n, C)`` fused scores.
FuseFn = Callable[[CandidatePool, np.ndarray, str, dict], np.ndarray]

#: ``parts(pool, weights, normalization, params) -> (n_models, n, C)``: each model's additive
#: part of the fused score (they sum to ``fn``'s result).
PartsFn = Callable[[CandidatePool, np.ndarray, str, dict], np.ndarray]


@dataclass(frozen=True)
class FusionContext:
    """Side information learned fusers read, from the stage's training data.

    Attributes
    ----------
    item_popularity : (n_items,) training interactions per item.
    user_activity : (n_users,) training interactions per user.
    item_recency : (n_items,) days from the item's last training interaction to the end of the
        training data (NaN: never seen).
    user_category_share, user_brand_share : (n_users, n_labels) sparse, the share of each
        user's training weight per category / brand (rows sum to 1 or are empty).
    item_category, item_brand : (n_items,) int codes of those labels, -1 unknown.
    blend_weights : per-model weights of the weighted-sum feature (missing = 1.0).
    """

    item_popularity: np.ndarray | None = None
    user_activity: np.ndarray | None = None
    item_recency: np.ndarray | None = None
    user_category_share: sp.csr_matrix | None = None
    user_brand_share: sp.csr_matrix | None = None
    item_category: np.ndarray | None = None
    item_brand: np.ndarray | None = None
    blend_weights: dict[str, float] | None = None


class TrainedFuser(Protocol):
    """A learned fusion model (stacking, learning to rank)."""

    def fit(
        self, pool: CandidatePool, truth_csr: sp.csr_matrix, context: FusionContext | None = None
    ) -> TrainedFuser:
        """Learn from the pool and the (n_users, n_items) relevance CSR; returns self."""

    def predict(self, pool: CandidatePool, context: FusionContext | None = None) -> np.ndarray:
        """(n, C) float32 fused scores for the pool (-inf on padding)."""


@dataclass(frozen=True)
class FusionMethod:
    """A registered fusion method and what the UI and the engine should know about it.

    Attributes
    ----------
    name, label, description : registry key and what the UI shows.
    fn : the fusion function (for learned methods: what runs without a trained model).
    uses_weights : per-model weights change the result.
    uses_normalization : the chosen score normalisation changes the result.
    parts : for additive methods, each model's part of the fused score (exact explanations).
    trainer : for learned methods, a factory of the ``TrainedFuser`` (``needs_training``).
    """

    name: str
    label: str
    description: str
    fn: FuseFn
    uses_weights: bool = True
    uses_normalization: bool = True
    parts: PartsFn | None = None
    trainer: Callable[[], TrainedFuser] | None = None

    @property
    def additive(self) -> bool:
        """The fused score is a sum of per-model parts (explanations are exact)."""
        return self.parts is not None

    @property
    def needs_training(self) -> bool:
        """The method learns on the validation stage before it can fuse."""
        return self.trainer is not None


def filled(pool: CandidatePool, normalization: str) -> np.ndarray:
    """(n_models, n, C) normalised scores with 0 for missing scores and padding."""
    return pool.normalized(normalization, fill=0.0)


def weighted_total(w: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``sum_m w[m] * x[m]`` over the model axis of (n_models, n, C): (n, C) float32."""
    # einsum beats tensordot/BLAS here by ~4x (one pass, no reshape copies)
    return np.einsum("m,mnc->nc", np.asarray(w, np.float32), x, dtype=np.float32)
