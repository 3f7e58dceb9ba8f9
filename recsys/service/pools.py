"""Candidate pools with the serving strategy applied, and a model's own top-k inside a pool."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial

import numpy as np
import scipy.sparse as sp

from recsys.models import Recommender
from recsys.ranking.candidates import CandidatePool, build_pool
from recsys.ranking.pool_scores import is_shared_row
from recsys.ranking.topk import TopK, top_k_indices


def strategy_pool(
    models: Mapping[str, Recommender],
    users: np.ndarray,
    activity: np.ndarray,
    *,
    cold_threshold: int,
    per_model: int,
    exclude: sp.csr_matrix | None,
    n_jobs: int | None = None,
) -> CandidatePool:
    """Pool for ``users`` with the serving strategy applied, all users of a block at once.

    Warm users: every model. Cold users (fewer than ``cold_threshold`` interactions): only
    models that can score from a history (``handles_cold_users``); the others give NaN.
    New users (no interaction): each capable model's score of an empty history, computed
    once and broadcast.

    Parameters
    ----------
    models : fitted models by name. users : (n,) internal user indices.
    activity : (n_users,) training interactions per user.
    n_jobs : threads of the pool build (``build_pool``; None: one per core).
    """

    def scorer_for(model: Recommender) -> Callable[[np.ndarray], np.ndarray | sp.csr_matrix]:
        empty = (
            model.score_history(np.zeros(0, np.int32)).astype(np.float32)
            if model.handles_cold_users
            else None
        )

        def score(block: np.ndarray) -> np.ndarray | sp.csr_matrix:
            act = activity[block]
            out = model.pool_scores(block)
            if sp.issparse(out) or is_shared_row(out):
                if _already_served(out, act, empty, cold_threshold):
                    return out  # new users already score ``empty``: keep the fast form
                out = sp.csr_matrix(out).toarray() if sp.issparse(out) else np.array(out)
            out = np.asarray(out).astype(np.float32, copy=False)
            if empty is not None:
                out[act == 0] = empty
            else:
                out[act < cold_threshold] = np.nan
            return out

        return score

    scorers = {name: scorer_for(model) for name, model in models.items()}
    n_items = next(iter(models.values())).n_items_ if models else None
    return build_pool(
        scorers, users, per_model=per_model, exclude=exclude, n_jobs=n_jobs, n_items=n_items
    )


def _already_served(out, act: np.ndarray, empty: np.ndarray | None, cold_threshold: int) -> bool:
    """Whether a sparse or shared-row block needs no serving-strategy change.

    True when the model scores new users (``act == 0``) as ``empty`` already and the block has
    no cold users to blank out.
    """
    if empty is None:
        return not (act < cold_threshold).any()
    new = act == 0
    if not new.any():
        return True
    if sp.issparse(out):  # a new user's row is empty (all 0): right when ``empty`` is all 0
        return not empty.any() and sp.csr_matrix(out)[new].nnz == 0
    return bool(np.array_equal(np.asarray(out)[0], empty))


def profile_pool(
    models: Mapping[str, Recommender],
    item_idx: np.ndarray,
    weights: np.ndarray,
    *,
    n_items: int,
    per_model: int,
    exclude_history: bool,
) -> CandidatePool:
    """One-row pool for an ad-hoc user known only by ``item_idx`` (h,) with ``weights`` (h,).

    Models that can score from a history (content, item kNN, popularity, fold-in factor models)
    are used; the others give NaN. Nothing is refitted: this is the near-real-time path.
    """
    scorers: dict[str, Callable[[np.ndarray], np.ndarray]] = {}
    for name, model in models.items():
        if model.handles_cold_users:
            row = model.score_history(item_idx, weights)[None, :].astype(np.float32)
            scorers[name] = partial(_repeat_row, row)
        else:
            scorers[name] = partial(_no_scores, n_items)
    exclude = None
    if len(item_idx) and exclude_history:
        exclude = sp.csr_matrix(
            (np.ones(len(item_idx), np.float32), (np.zeros(len(item_idx), int), item_idx)),
            shape=(1, n_items),
        )
    return build_pool(scorers, np.zeros(1, np.int32), per_model=per_model, exclude=exclude)


def _repeat_row(row: np.ndarray, users: np.ndarray) -> np.ndarray:
    return np.repeat(row, len(users), axis=0)


def _no_scores(n_items: int, users: np.ndarray) -> np.ndarray:
    return np.full((len(users), n_items), np.nan, np.float32)


def single_model_topk(pool: CandidatePool, m: int, k: int) -> TopK:
    """One model's own top-k inside the pool (its top-M is in the pool, so this is its real top-k)."""
    scores = np.where(pool.items >= 0, pool.scores[m], -np.inf)
    scores = np.where(np.isnan(scores), -np.inf, scores)
    pos, vals = top_k_indices(scores, k)
    items = np.where(pos >= 0, np.take_along_axis(pool.items, np.maximum(pos, 0), axis=1), -1)
    return TopK(pool.users, items.astype(np.int32), vals)
