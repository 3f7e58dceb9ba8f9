"""The candidate pool: every model's top-M per user, united, with every model's score gathered.

Fusion and re-ranking work on the pool only, so every fusion method sees the same items and a
change of weights or method never rescores a model: scoring happens once, in ``build_pool``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from recsys.errors import ConfigError
from recsys.ranking.normalise import descending_ranks, normalize_scores
from recsys.ranking.pool_scores import BlockScores, block_scores

#: ``scorer(user_block) -> (b, n_items)`` raw scores; -inf/NaN where the model cannot score.
#: Dense, sparse (non-negative, missing = 0) or one row broadcast to every user: see
#: ``recsys.ranking.pool_scores``.
Scorer = Callable[[np.ndarray], "np.ndarray | sp.csr_matrix"]

#: Upper bound (bytes) on the per-block raw score matrices held at once while building a pool.
BLOCK_BYTES = 256 * 2**20


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
        """Number of models in the pool."""
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


def pool_block_rows(n_items: int, n_models: int, block_size: int = 512) -> int:
    """Users ``build_pool`` scores at once.

    ``block_size``, lowered so that one block's raw score matrices (``n_models`` x rows x
    ``n_items`` float32) stay under ~256 MB.
    """
    return max(1, min(int(block_size), BLOCK_BYTES // max(1, 4 * n_items * n_models)))


def build_pool(
    scorers: Mapping[str, Scorer],
    users: np.ndarray,
    per_model: int = 100,
    exclude: sp.csr_matrix | None = None,
    block_size: int = 512,
    n_jobs: int | None = None,
    n_items: int | None = None,
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
    n_jobs : worker threads over blocks of users (None: one per core; 1 = serial; results
        are identical).
    n_items : the scorers' catalogue size when known. Then every block, the first included,
        has ``pool_block_rows(n_items, n_models, block_size)`` users, so a user's scores depend
        only on their position in ``users`` modulo that: pools built over consecutive slices
        of ``users`` that start on multiples of it equal slices of one pool over all of them
        (BLAS products round a row differently depending on the rows beside it).

    Returns
    -------
    CandidatePool with C = the widest union over users. Each scorer is called once per block.

    Notes
    -----
    The first block runs alone: it fixes ``n_items`` (when not given) (hence the block size and the widest
    possible union ``min(n_items, n_models * M)``) and warms any lazy cache inside the models.
    The output arrays are then allocated once at that width and every block writes its rows
    straight into them; at the end they are narrowed in place to the widest union found (no
    second copy of the pool). The other blocks run on worker threads with BLAS held to one
    thread each (numpy releases the GIL); each thread copies the models' scores of its block
    into one buffer it keeps for all its blocks, so the large per-block arrays are not
    re-allocated (and page-faulted) block after block. BLAS runs on one thread for every block
    (the first too), so the thread count never changes a score.
    """
    if not scorers:
        raise ConfigError("a candidate pool needs at least one model.")
    if per_model < 1:
        raise ConfigError("each model must contribute at least one candidate per user.")
    names = tuple(scorers)
    users = np.asarray(users, dtype=np.int32)
    n = len(users)
    n_jobs = default_jobs() if n_jobs is None else int(n_jobs)
    if n == 0:
        empty = np.zeros((len(names), 0, 0), np.float32)
        return CandidatePool(
            users, np.zeros((0, 0), np.int32), empty, empty.copy(), names, per_model
        )

    step = max(1, int(block_size))
    if n_items is not None:
        step = pool_block_rows(n_items, len(names), step)
    first = users[:step]
    caches: dict[str, dict] = {name: {} for name in names}  # shared rows, sorted once
    with threadpool_limits(limits=1, user_api="blas"):
        raw = [_checked_scores(name, scorers[name](first), len(first), n_items) for name in names]
    n_items = raw[0].shape[1]
    for name, s in zip(names, raw, strict=True):
        _checked_scores(name, s, len(first), n_items)
    per = min(per_model, n_items)
    cmax = min(n_items, len(names) * per)
    out = _PoolArrays(
        items=np.empty((n, cmax), np.int32),
        scores=np.empty((len(names), n, cmax), np.float32),
        ranks=np.empty((len(names), n, cmax), np.float32),
    )
    ex = _excluded_cells(exclude, first)
    parts = [block_scores(s, *ex, cache=caches[nm]) for nm, s in zip(names, raw, strict=True)]
    del raw
    widths = [_block_into(out, 0, first, parts, per)]
    del parts
    step = pool_block_rows(n_items, len(names), block_size)
    starts = range(len(first), n, step)
    local = threading.local()

    def run_block(start: int) -> int:
        block = users[start : start + step]
        buf = getattr(local, "buf", None)
        if buf is None:  # dense scores are copied here (pages touched only when used)
            buf = local.buf = np.empty((len(names), step, n_items), np.float32)
        ex = _excluded_cells(exclude, block)
        parts: list[BlockScores] = []
        for m, name in enumerate(names):
            s = _checked_scores(name, scorers[name](block), len(block), n_items)
            parts.append(block_scores(s, *ex, buf=buf[m], cache=caches[name]))
            del s
        return _block_into(out, start, block, parts, per)

    with threadpool_limits(limits=1, user_api="blas"):
        if n_jobs > 1 and len(starts) > 1:
            with ThreadPoolExecutor(n_jobs) as ex_:
                widths.extend(ex_.map(run_block, starts))
        else:
            widths.extend(run_block(start) for start in starts)
    width = max(widths)
    items = _narrow(out.items, width)
    scores = _narrow(out.scores, width)
    ranks = _narrow(out.ranks, width)
    return CandidatePool(users, items, scores, ranks, names, per_model=per_model)


@dataclass(frozen=True)
class _PoolArrays:
    """The preallocated outputs of ``build_pool``: (n, Cmax) and (n_models, n, Cmax)."""

    items: np.ndarray
    scores: np.ndarray
    ranks: np.ndarray


def default_jobs() -> int:
    """Worker threads for a pool: the cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def _checked_scores(name: str, s, n_rows: int, n_items: int | None):
    """A scorer's output as a 2-d array (or sparse matrix), its shape checked against the block."""
    if not sp.issparse(s):
        s = np.asarray(s)
    if s.ndim != 2 or s.shape[0] != n_rows:
        raise ValueError(f"scorer '{name}' returned shape {s.shape}, expected ({n_rows}, n_items)")
    if n_items is not None and s.shape[1] != n_items:
        raise ValueError(f"scorer '{name}' returned {s.shape[1]} items, others {n_items}")
    return s


def _excluded_cells(
    exclude: sp.csr_matrix | None, block: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(row in block, item) of the excluded cells of ``block``'s users."""
    if exclude is None:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    coo = exclude[block].tocoo()
    return coo.row.astype(np.int64), coo.col.astype(np.int64)


def _block_into(
    out: _PoolArrays,
    start: int,
    block: np.ndarray,
    parts: list[BlockScores],
    per_model: int,
) -> int:
    """Pool one block of users into rows ``start:start + b`` of ``out``; returns its width.

    ``parts`` holds each model's scores of the block with the exclusions applied
    (``pool_scores.block_scores``: dense, sparse or one shared row).
    """
    b = len(block)
    rows = slice(start, start + b)
    tops = np.empty((b, len(parts) * per_model), np.int32)
    for m, part in enumerate(parts):
        tops[:, m * per_model : (m + 1) * per_model] = part.top(per_model)
    union = _row_union(tops)
    c = union.shape[1]
    out.items[rows, :c] = union
    out.items[rows, c:] = -1
    scores = out.scores[:, rows, :c]
    for m, part in enumerate(parts):
        scores[m] = part.gather(union)
    out.scores[:, rows, c:] = np.nan
    out.ranks[:, rows, :c] = descending_ranks(scores)
    out.ranks[:, rows, c:] = np.nan
    return c


def _narrow(a: np.ndarray, width: int) -> np.ndarray:
    """``a[..., :width]`` of a C-contiguous array that owns its data, in place (no copy).

    Rows are moved down to their packed position in chunks (forward: a row never lands on a
    row not yet moved), then the buffer is shrunk with ``ndarray.resize``.
    """
    full = a.shape[-1]
    if width == full:
        return a
    rows = a.reshape(-1, full)
    flat = a.reshape(-1)
    step = max(1, (1 << 22) // max(full, 1))
    for lo in range(0, rows.shape[0], step):
        hi = min(rows.shape[0], lo + step)
        flat[lo * width : hi * width].reshape(hi - lo, width)[...] = rows[lo:hi, :width]
    del rows, flat
    a.resize(a.shape[:-1] + (width,), refcheck=False)
    return a


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
