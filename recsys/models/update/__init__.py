"""Incremental updates of fitted models: carry a model to a grown training set without a refit.

``UPDATERS`` maps a registry name to its update function
``fn(model, old, new, delta) -> (updated model, what was done)``; a model without an entry
(EASE, BPR, NMF, the Surprise neighbours and baselines) needs a full retrain. An update never
changes the old model: it returns a new one (sharing the arrays it does not change) whose
learned attributes are exactly those ``fit`` sets, so it is stored and scored like any other.

- factor models (``svd``, ``svdpp``, ``als``, ``lightfm_*``): fold-in of changed users,
  :mod:`recsys.models.update.factors`;
- item-item models (``item_knn``, ``rp3beta``): only the touched rows recomputed,
  :mod:`recsys.models.update.neighbours`;
- counts and profiles (``popularity``, ``trending``, ``content_tfidf``):
  :mod:`recsys.models.update.profiles`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from recsys.data.dataset import Dataset
from recsys.errors import Message
from recsys.models.base import Recommender
from recsys.models.update.delta import DataDelta, FullRetrainNeeded, data_delta
from recsys.models.update.factors import update_als, update_lightfm, update_surprise_factors
from recsys.models.update.neighbours import update_item_knn, update_rp3beta
from recsys.models.update.profiles import update_content, update_popularity

#: fn(model, old training set, new training set, delta) -> (new model, what was done)
Updater = Callable[[Recommender, Dataset, Dataset, DataDelta], tuple[Recommender, str]]

UPDATERS: dict[str, Updater] = {
    "popularity": update_popularity,
    "trending": update_popularity,
    "item_knn": update_item_knn,
    "rp3beta": update_rp3beta,
    "als": update_als,
    "content_tfidf": update_content,
    "lightfm_warp": update_lightfm,
    "lightfm_bpr": update_lightfm,
    "lightfm_logistic": update_lightfm,
    "lightfm_warp_kos": update_lightfm,
    "svd": update_surprise_factors,
    "svdpp": update_surprise_factors,
}


@dataclass(frozen=True)
class ModelUpdate:
    """What happened to one model: ``incremental`` or not, in words, and the seconds it took.

    ``note`` is a ``recsys.errors.Message`` (English text, a code the interface translates).
    """

    model: Recommender
    incremental: bool
    note: str
    seconds: float


def update_model(
    model: Recommender, old: Dataset, new: Dataset, delta: DataDelta | None = None
) -> ModelUpdate:
    """``model`` (fitted on ``old``) carried to ``new``: incrementally when it can, else refitted.

    ``delta`` is ``data_delta(old, new)`` (computed when not given; share it between the
    models of one training set).
    """
    t0 = time.perf_counter()
    updater = UPDATERS.get(model.name)
    reason: str = Message("no incremental path for this model", "update.why_none")
    if updater is not None:
        try:
            d = delta if delta is not None else data_delta(old, new)
            updated, note = updater(model, old, new, d)
            return ModelUpdate(updated, True, note, time.perf_counter() - t0)
        except FullRetrainNeeded as why:
            reason = why.args[0] if why.args and isinstance(why.args[0], Message) else str(why)
    fresh = type(model)(**model.get_params())
    fresh.fit(new)
    note = Message(f"full retrain: {reason}", "update.retrained", reason=reason)
    return ModelUpdate(fresh, False, note, time.perf_counter() - t0)


__all__ = [
    "UPDATERS",
    "DataDelta",
    "FullRetrainNeeded",
    "ModelUpdate",
    "data_delta",
    "update_model",
]
