"""The candidate pool: every model's top-M per user, united, with every model's score gathered.

Fusion and re-ranking work on the pool only, so every fusion method sees the same items and a
change of weights or method never rescores a model: scoring happens once, in ``build_pool``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from recsys.errors import ConfigError
from recsys.ranking.normalise import descending_ranks, normalize_scores
from recsys.ranking.topk import top_k_indices

#: ``scorer(user_block) -> (b, n_items)`` raw scores; -inf/NaN where the model cannot score.
Scorer = Callable[[np.ndarray], np.ndarray]

#: Upper bound (bytes) on the per-block raw score matrices held at once while building a pool.
_BLOCK_BYTES = 256 * 2**20


@dataclass(frozen=True, eq=False)
class CandidatePool:
    """Candidates of a set of users and every model's view of them.

    Attributes
    ----------
    users : (n,) int32 internal user indices.
    items : (n, C) int32 candidate items per user, ascending, left-packed; -1 pads.
    scores : (n_models, n, C) float32 raw model scores; NaN on padding and where a model
        cannot score the item (it returned -inf/NaN, e.g. a cold item).
    ranks : (n_models, n, C) float32 1-based rank of the item among the items that model
        scored in the user's pool (ties broken by item index); NaN on padding / no score.
    model_names : names aligned with the first axis of ``scores`` and ``ranks``.
    per_model : M, the top-M each model contributed (``rank <= per_model`` means the model
        *retrieved* the item); None when unknown (then every scored item counts as retrieved).
    """

    users: np.ndarray
    items: np.ndarray
    scores: np.ndarray
    ranks: np.ndarray
    model_names: tuple[str, ...]
    per_model: int | None = None
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    # ------------------------------------------------------------------ shape helpers
    def __len__(self) -> int:
        return len(self.users)

    @property
    def n_models(self) -> int:
        return len(self.model_names)

    @property
    def n_candidates(self) -> int:
        """C, the padded pool width."""
        return self.items.shape[1]

    @property
    def valid(self) -> np.ndarray:
        """(n, C) bool, True on real candidates."""
        if "valid" not in self._cache:
            self._cache["valid"] = self.items >= 0
        return self._cache["valid"]

    @property
    def retrieved(self) -> np.ndarray:
        """(n_models, n, C) bool: the item is in that model's top-M for the user."""
        if "retrieved" not in self._cache:
            with np.errstate(invalid="ignore"):
                if self.per_model is None:
                    out = ~np.isnan(self.ranks)
                else:
                    out = self.ranks <= self.per_model
            self._cache["retrieved"] = out
        return self._cache["retrieved"]

    def model_index(self, name: str) -> int:
        """Position of model ``name`` on the first axis of ``scores``."""
        try:
            return self.model_names.index(name)
        except ValueError:
            raise ConfigError(
                f"model '{name}' is not in this candidate pool; it has {', '.join(self.model_names)}."
            ) from None

    def normalized(self, name: str, fill: float | None = None) -> np.ndarray:
        """(n_models, n, C) float32 scores normalised per user with ``NORMALIZERS[name]``.

        Memoised per (name, fill): repeated fusions with other weights reuse the tensor.
        ``fill`` replaces NaN (missing scores and padding) when given. Read-only result.
        """
        key = ("norm", name, fill)
        if key not in self._cache:
            base = self._cache.get(("norm", name, None))
            out = normalize_scores(self.scores, name, self.ranks) if base is None else base
            if fill is not None:
                out = np.nan_to_num(out, nan=fill, copy=base is not None)
            out.setflags(write=False)
            self._cache[key] = out  # only the requested variant is kept (memory)
        return self._cache[key]

    @property
    def padding(self) -> np.ndarray:
        """(n, C) bool, True on padding cells (no candidate)."""
        return self.memo(("padding",), lambda: ~self.valid)

    def memo(self, key: tuple, compute: Callable[[], np.ndarray]) -> np.ndarray:
        """``compute()`` once per pool for ``key`` (a derived, read-only tensor), then cached.

        Fusion methods keep what does not depend on the weights here (e.g. RRF terms), so a
        weight change is one pass over cached tensors.
        """
        if key not in self._cache:
            out = compute()
            out.setflags(write=False)
            self._cache[key] = out
        return self._cache[key]

    # ------------------------------------------------------------------ slicing
    def subset(self, rows: np.ndarray | slice) -> CandidatePool:
        """The pool of a subset of users (``rows`` index the pool's rows), trimmed to its width."""
        items = self.items[rows]
        width = int((items >= 0).sum(axis=1).max()) if len(items) else 0
        return CandidatePool(
            users=self.users[rows],
            items=np.ascontiguousarray(items[:, :width]),
            scores=np.ascontiguousarray(self.scores[:, rows, :width]),
            ranks=np.ascontiguousarray(self.ranks[:, rows, :width]),
            model_names=self.model_names,
            per_model=self.per_model,
        )

    def scores_of(self, name: str) -> np.ndarray:
        """(n, C) raw scores of one model."""
        return self.scores[self.model_index(name)]


def concat(pools: Sequence[CandidatePool]) -> CandidatePool:
    """Stack pools of disjoint user sets built with the same models (padding to the widest)."""
    if not pools:
        raise ValueError("concat needs at least one pool")
    names = pools[0].model_names
    for p in pools[1:]:
        if p.model_names != names:
            raise ConfigError("cannot join candidate pools built from different models.")
    width = max(p.n_candidates for p in pools)
    n = sum(len(p) for p in pools)
    items = np.full((n, width), -1, np.int32)
    scores = np.full((len(names), n, width), np.nan, np.float32)
    ranks = np.full((len(names), n, width), np.nan, np.float32)
    start = 0
    for p in pools:
        stop = start + len(p)
        items[start:stop, : p.n_candidates] = p.items
        scores[:, start:stop, : p.n_candidates] = p.scores
        ranks[:, start:stop, : p.n_candidates] = p.ranks
        start = stop
    per_model = {p.per_model for p in pools}
    return CandidatePool(
        users=np.concatenate([p.users for p in pools]).astype(np.int32),
        items=items,
        scores=scores,
        ranks=ranks,
        model_names=names,
        per_model=per_model.pop() if len(per_model) == 1 else None,
    )


def build_pool(
    scorers: Mapping[str, Scorer],
    users: np.ndarray,
    per_model: int = 100,
    exclude: sp.csr_matrix | None = None,
    block_size: int = 512,
    n_jobs: int = 2,
) -> CandidatePool:
    """Score users once per model and keep the union of every model's top-M.

    Parameters
    ----------
    scorers : model name -> ``scorer(user_block) -> (b, n_items)`` raw scores.
    users : (n,) internal user indices.
    per_model : M, candidates each model contributes per user (M >= n_items: whole catalog).
    exclude : (n_users, n_items) sparse matrix indexed by *user index*; its non-zeros are
        never candidates (already bought / seen items).
    block_size : users scored at once (lowered automatically so that the raw score matrices
        of one block stay under ~256 MB).
    n_jobs : worker threads over blocks of users (1 = serial; results are identical).

    Returns
    -------
    CandidatePool with C = the widest union over users. Each scorer is called once per block.
    """
    if not scorers:
        raise ConfigError("a candidate pool needs at least one model.")
    if per_model < 1:
        raise ConfigError("each model must contribute at least one candidate per user.")
    names = tuple(scorers)
    users = np.asarray(users, dtype=np.int32)
    n_items: int | None = None

    def pool_block(block: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        nonlocal n_items
        raw = []
        for name in names:
            s = np.array(scorers[name](block), dtype=np.float32, copy=True)
            if s.ndim != 2 or s.shape[0] != len(block):
                raise ValueError(
                    f"scorer '{name}' returned shape {s.shape}, expected ({len(block)}, n_items)"
                )
            if n_items is None:
                n_items = s.shape[1]
            elif s.shape[1] != n_items:
                raise ValueError(f"scorer '{name}' returned {s.shape[1]} items, others {n_items}")
            if exclude is not None:
                coo = exclude[block].tocoo()
                s[coo.row, coo.col] = -np.inf
            raw.append(s)
        return _pool_block(raw, per_model)

    # The first block runs alone: it fixes n_items (hence a block size whose n_models raw
    # matrices fit the memory budget) and warms any lazy cache inside the models. The rest
    # run on worker threads with BLAS held to one thread each (numpy releases the GIL).
    step = max(1, int(block_size))
    blocks = [pool_block(users[:step])] if len(users) else []
    if n_items is not None:
        step = max(1, min(step, _BLOCK_BYTES // max(1, 4 * n_items * len(names))))
    rest = [users[i : i + step] for i in range(min(len(users), int(block_size)), len(users), step)]
    if n_jobs > 1 and len(rest) > 1:
        with threadpool_limits(limits=1, user_api="blas"), ThreadPoolExecutor(n_jobs) as ex:
            blocks.extend(ex.map(pool_block, rest))
    else:
        blocks.extend(pool_block(b) for b in rest)

    width = max((b[0].shape[1] for b in blocks), default=0)
    n = len(users)
    items = np.full((n, width), -1, np.int32)
    scores = np.full((len(names), n, width), np.nan, np.float32)
    ranks = np.full((len(names), n, width), np.nan, np.float32)
    row = 0
    for b_items, b_scores, b_ranks in blocks:
        b, c = b_items.shape
        items[row : row + b, :c] = b_items
        scores[:, row : row + b, :c] = b_scores
        ranks[:, row : row + b, :c] = b_ranks
        row += b
    return CandidatePool(users, items, scores, ranks, names, per_model=per_model)


def _pool_block(raw: list[np.ndarray], per_model: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Union of top-M over models for one block of users; gather scores; rank within the pool."""
    b = raw[0].shape[0]
    tops = [top_k_indices(s, per_model)[0] for s in raw]
    union = _row_union(np.concatenate(tops, axis=1))
    safe = np.maximum(union, 0)
    pad = union < 0
    scores = np.empty((len(raw), b, union.shape[1]), np.float32)
    for m, s in enumerate(raw):
        g = np.take_along_axis(s, safe, axis=1)
        g[pad | ~np.isfinite(g)] = np.nan
        scores[m] = g
    return union, scores, descending_ranks(scores)


def _row_union(idx: np.ndarray) -> np.ndarray:
    """Row-wise sorted unique of an (b, w) int array with -1 padding, left-packed, -1 padded."""
    b = idx.shape[0]
    s = np.sort(idx, axis=1)
    keep = s >= 0
    keep[:, 1:] &= s[:, 1:] != s[:, :-1]
    counts = keep.sum(axis=1)
    width = int(counts.max()) if b else 0
    out = np.full((b, width), -1, np.int32)
    pos = np.cumsum(keep, axis=1) - 1
    r, c = np.nonzero(keep)
    out[r, pos[r, c]] = s[r, c]
    return out
