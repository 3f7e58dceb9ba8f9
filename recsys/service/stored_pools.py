"""A run's candidate pools stored with it: built once by the training, read back on load.

The pools of the ``validation`` and ``test`` stages are what opening a run used to cost most
(every model scores every held-out user, ``recsys.service.pools.strategy_pool``). The training
builds them anyway (``training.install_stages``, in the worker process for the app), so the run
is saved with them: four arrays per stage (``<stage>.users``, ``.items``, ``.scores``,
``.ranks``) as ``pools/*.npy`` files, checked against their SHA-256 in the manifest and mapped
read-only into memory on load (``run_files.load_pools``). The manifest's ``pools`` entry says
per stage which models, how many candidates per model and whether the pool covers the lab
sample only.

Loading checks a stored pool against what building it would give (the same users, models and
candidates per model, shapes, dtypes and item range); a run saved before pools were stored has
none and builds them as before.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from recsys.ranking.candidates import CandidatePool

#: The arrays of one stored pool, in ``CandidatePool`` field order.
PARTS: tuple[str, ...] = ("users", "items", "scores", "ranks")
_DTYPES = {"users": np.int32, "items": np.int32, "scores": np.float32, "ranks": np.float32}


class PoolMismatch(ValueError):
    """A stored pool that is not the pool its run would build (the reason in plain words)."""


@dataclass(frozen=True)
class StoredPool:
    """A pool read from a run folder and whether it covers the lab sample only."""

    pool: CandidatePool
    sample: bool


def pool_files(stages: Mapping[str, object]) -> tuple[dict[str, np.ndarray], dict[str, dict]]:
    """``(arrays, meta)`` to store the pools of a run's ``stages`` (``Run.stages``).

    ``arrays`` maps ``<stage>.<part>`` to an array (``run_files.save(pools=...)``); ``meta`` is
    the manifest's ``pools`` entry. Stages without a pool are left out.
    """
    arrays: dict[str, np.ndarray] = {}
    meta: dict[str, dict] = {}
    for name, stage in stages.items():
        pool: CandidatePool | None = getattr(stage, "pool", None)
        if pool is None:
            continue
        for part in PARTS:
            arrays[f"{name}.{part}"] = getattr(pool, part)
        meta[name] = {
            "models": list(pool.model_names),
            "per_model": pool.per_model,
            "sample": bool(getattr(stage, "pool_is_sample", False)),
        }
    return arrays, meta


def read(
    arrays: Mapping[str, np.ndarray], meta: object, *, n_users: int, n_items: int
) -> dict[str, StoredPool]:
    """The stored pools by stage, their arrays checked; ``{}`` when the run has none.

    Raises ``PoolMismatch`` when the manifest's ``pools`` entry and the arrays disagree, or an
    array has the wrong dtype, shape or values out of range.
    """
    if not meta:
        if arrays:
            raise PoolMismatch("its candidate pool files have no description")
        return {}
    if not isinstance(meta, dict):
        raise PoolMismatch("its candidate pools are not described as expected")
    expected = {f"{stage}.{part}" for stage in meta for part in PARTS}
    if set(arrays) != expected:
        raise PoolMismatch("its candidate pool files are not those its pools need")
    out = {}
    for stage, info in meta.items():
        parts = {part: arrays[f"{stage}.{part}"] for part in PARTS}
        out[stage] = StoredPool(_pool(stage, info, parts, n_users, n_items), bool(info["sample"]))
    return out


def _pool(stage: str, info: object, parts: dict, n_users: int, n_items: int) -> CandidatePool:
    if not (
        isinstance(info, dict)
        and set(info) == {"models", "per_model", "sample"}
        and isinstance(info["models"], list)
        and all(isinstance(m, str) for m in info["models"])
        and (info["per_model"] is None or type(info["per_model"]) is int)
        and isinstance(info["sample"], bool)
    ):
        raise PoolMismatch(f"its {stage} pool is not described as expected")
    for part, dtype in _DTYPES.items():
        if parts[part].dtype != dtype:
            raise PoolMismatch(f"its {stage} pool's {part} have the wrong type")
    users, items, scores, ranks = (parts[p] for p in PARTS)
    n, n_models = len(users), len(info["models"])
    if users.ndim != 1 or items.ndim != 2 or items.shape[0] != n:
        raise PoolMismatch(f"its {stage} pool has the wrong shape")
    if scores.shape != (n_models, n, items.shape[1]) or ranks.shape != scores.shape:
        raise PoolMismatch(f"its {stage} pool has the wrong shape")
    if n and (users.min() < 0 or users.max() >= n_users):
        raise PoolMismatch(f"its {stage} pool names users its dataset does not have")
    if items.size and (items.min() < -1 or items.max() >= n_items):
        raise PoolMismatch(f"its {stage} pool names items its dataset does not have")
    return CandidatePool(users, items, scores, ranks, tuple(info["models"]), info["per_model"])


def check_matches(
    stored: StoredPool, stage: str, users: np.ndarray, models: tuple[str, ...], per_model: int
) -> CandidatePool:
    """``stored.pool`` when it is the pool of ``users`` by ``models`` at ``per_model``.

    ``users`` are the stage's held-out users the build would score (the lab sample already
    taken when ``stored.sample``). Raises ``PoolMismatch`` otherwise.
    """
    pool = stored.pool
    if pool.model_names != models or pool.per_model != per_model:
        raise PoolMismatch(f"its {stage} pool was built from other models or settings")
    if not np.array_equal(pool.users, users):
        raise PoolMismatch(f"its {stage} pool covers other users than its split")
    return pool


__all__ = ["PARTS", "PoolMismatch", "StoredPool", "check_matches", "pool_files", "read"]
