"""One model's scores of a block of users, reduced to its top-M and read at the pool's candidates.

A scorer may return its ``(b, n_items)`` scores in one of three forms; each has its own fast
path and gives exactly what the dense path gives on the same values:

* a dense float array (any model); ``-inf``/NaN where the model cannot score;
* a scipy CSR matrix with finite values >= 0, missing entries scoring 0: neighbour models
  (item kNN, RP3beta, content: ``r S``) whose rows are mostly zeros. Selection sorts the stored
  positives and fills short lists with the lowest zero-scored columns, never densifying the
  block (at 1M users x 100k items that avoided 100 billion dense cells per model);
* a read-only broadcast of one row (``np.broadcast_to(row, (b, n_items))``, stride 0): the
  same scores for every user (popularity). The row is sorted once; each user takes the first
  M items of that order they have not seen.

Excluded cells (already seen items) are never selected and read as NaN, like ``-inf``.
The order everywhere is the one of ``top_k_indices``: value descending, then column ascending.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import scipy.sparse as sp

from recsys.ranking.topk import descending_key, top_k_indices


class BlockScores(Protocol):
    """A model's scores of one block of ``b`` users with the exclusions applied."""

    def top(self, m: int) -> np.ndarray:
        """(b, m) int32 columns of each user's m best items, best first; -1 pads."""
        ...

    def gather(self, cols: np.ndarray) -> np.ndarray:
        """(b, c) float32 scores at ``cols`` (b, c); NaN at -1, excluded or unscorable cells."""
        ...


def is_shared_row(s: object) -> bool:
    """True for a 2-d array whose rows are one row broadcast (stride 0 on the first axis)."""
    return isinstance(s, np.ndarray) and s.ndim == 2 and s.shape[0] > 1 and s.strides[0] == 0


def block_scores(
    s: np.ndarray | sp.spmatrix | sp.sparray,
    ex_rows: np.ndarray,
    ex_cols: np.ndarray,
    buf: np.ndarray | None = None,
    cache: dict | None = None,
) -> BlockScores:
    """The ``BlockScores`` of a scorer's output ``s`` (b, n_items), whatever its form.

    Parameters
    ----------
    ex_rows, ex_cols : (e,) excluded cells (block row, column), without duplicates.
    buf : (>= b, n_items) float32 scratch a dense block is copied into (None: a new array).
    cache : per-model dict the shared-row path keeps its sorted row in between blocks.
    """
    if sp.issparse(s):
        csr = sp.csr_matrix(s, dtype=np.float32)
        if csr.nnz == 0 or (np.isfinite(csr.data).all() and csr.data.min() >= 0):
            return _Sparse(csr, ex_rows, ex_cols)
        s = csr.toarray()
    elif is_shared_row(s):
        return _Shared(np.asarray(s), ex_rows, ex_cols, {} if cache is None else cache)
    return _Dense(np.asarray(s), ex_rows, ex_cols, buf)


class _Dense:
    """Scores as a dense (b, n_items) float32 copy with NaN and exclusions at ``-inf``."""

    def __init__(self, s: np.ndarray, ex_rows, ex_cols, buf: np.ndarray | None) -> None:
        out = None if buf is None else buf[: s.shape[0]]
        self.s = np.fmax(s, np.float32(-np.inf), out=out, dtype=np.float32)  # NaN -> -inf
        self.s[ex_rows, ex_cols] = -np.inf

    def top(self, m: int) -> np.ndarray:
        return top_k_indices(self.s, m)[0]

    def gather(self, cols: np.ndarray) -> np.ndarray:
        g = np.take_along_axis(self.s, np.maximum(cols, 0), axis=1)
        g[(cols < 0) | ~np.isfinite(g)] = np.nan
        return g


class _Excluded:
    """Shared by the sparse and shared-row paths: the excluded cells as sorted int64 keys."""

    def __init__(self, b: int, n: int, ex_rows, ex_cols) -> None:
        self.b, self.n = b, n
        self.ex_rows = np.asarray(ex_rows, np.int64)
        self.ex_cols = np.asarray(ex_cols, np.int64)
        self.ex_keys = np.sort(self.ex_rows * n + self.ex_cols)
        self.ex_count = np.bincount(self.ex_rows, minlength=b)

    def excluded(self, keys: np.ndarray) -> np.ndarray:
        """Bool mask of ``keys`` (row * n + col, any shape) that are excluded cells."""
        if len(self.ex_keys) == 0:
            return np.zeros(keys.shape, bool)
        pos = np.minimum(np.searchsorted(self.ex_keys, keys), len(self.ex_keys) - 1)
        return self.ex_keys[pos] == keys


class _Sparse(_Excluded):
    """Non-negative sparse scores; a missing entry scores 0."""

    def __init__(self, csr: sp.csr_matrix, ex_rows, ex_cols) -> None:
        b, n = csr.shape
        super().__init__(b, n, ex_rows, ex_cols)
        csr.sum_duplicates()  # also sorts the indices
        rows = np.repeat(np.arange(b, dtype=np.int64), np.diff(csr.indptr))
        keys = rows * n + csr.indices
        keep = ~self.excluded(keys)
        self.keys, self.vals, self.rows = keys[keep], csr.data[keep], rows[keep]
        self.cols = csr.indices[keep].astype(np.int64)

    def top(self, m: int) -> np.ndarray:
        b, n = self.b, self.n
        m = min(m, n)
        out = np.full((b, m), -1, np.int32)
        pos = self.vals > 0
        rows, cols = self.rows[pos], self.cols[pos]
        order = _row_value_order(rows, self.vals[pos], cols, n)
        rows, cols = rows[order], cols[order]
        count = np.bincount(rows, minlength=b)
        first = np.cumsum(count) - count
        rank = np.arange(len(rows)) - first[rows]
        take = rank < m
        out[rows[take], rank[take]] = cols[take]
        short = np.flatnonzero(count < m)
        if len(short):
            self._fill_zeros(out, short, np.minimum(count, m), m)
        return out

    def _fill_zeros(self, out: np.ndarray, short: np.ndarray, have: np.ndarray, m: int) -> None:
        """Complete the rows ``short`` with their lowest columns that score 0 (not excluded)."""
        n = self.n
        marked = np.bincount(self.rows[self.vals > 0], minlength=self.b) + self.ex_count
        need = m - have[short]
        width = int(min(n, (need + marked[short]).max()))
        local = np.full(self.b, -1, np.int64)
        local[short] = np.arange(len(short))
        taken = np.zeros((len(short), width), bool)
        for r, c in (
            (self.rows[self.vals > 0], self.cols[self.vals > 0]),
            (self.ex_rows, self.ex_cols),
        ):
            sel = (local[r] >= 0) & (c < width)
            taken[local[r[sel]], c[sel]] = True
        free = ~taken
        seen = np.cumsum(free, axis=1, dtype=np.int64)
        r, c = np.nonzero(free & (seen <= need[:, None]))
        out[short[r], have[short][r] + seen[r, c] - 1] = c

    def gather(self, cols: np.ndarray) -> np.ndarray:
        rows = np.broadcast_to(np.arange(self.b, dtype=np.int64)[:, None], cols.shape)
        q = rows * self.n + np.maximum(cols, 0)
        g = np.zeros(cols.shape, np.float32)
        if len(self.keys):
            pos = np.minimum(np.searchsorted(self.keys, q), len(self.keys) - 1)
            hit = self.keys[pos] == q
            g[hit] = self.vals[pos[hit]]
        g[(cols < 0) | self.excluded(q)] = np.nan
        return g


class _Shared(_Excluded):
    """The same scores for every user: one row, sorted once (value descending, column ascending)."""

    def __init__(self, s: np.ndarray, ex_rows, ex_cols, cache: dict) -> None:
        b, n = s.shape
        super().__init__(b, n, ex_rows, ex_cols)
        row = np.fmax(s[0], np.float32(-np.inf), dtype=np.float32)
        known: tuple[np.ndarray, np.ndarray, np.ndarray] | None = cache.get("sorted")
        # one tuple, replaced whole: safe across threads
        if known is None or not np.array_equal(known[0], row):
            order = np.argsort(descending_key(row, np.arange(n, dtype=np.int64)))
            rank = np.empty(n, np.int64)
            rank[order] = np.arange(n)
            known = (row, order, rank)
            cache["sorted"] = known
        self.row: np.ndarray = known[0]
        self.order: np.ndarray = known[1]
        self.rank: np.ndarray = known[2]

    def top(self, m: int) -> np.ndarray:
        b, n = self.b, self.n
        m = min(m, n)
        width = int(min(n, m + (self.ex_count.max() if b else 0)))
        head = self.order[:width]
        taken = np.zeros((b, width), bool)
        taken[:, self.row[head] == -np.inf] = True  # never selected (NaN became -inf)
        r = self.rank[self.ex_cols]
        sel = r < width
        taken[self.ex_rows[sel], r[sel]] = True
        free = ~taken
        seen = np.cumsum(free, axis=1, dtype=np.int64)
        rr, cc = np.nonzero(free & (seen <= m))
        out = np.full((b, m), -1, np.int32)
        out[rr, seen[rr, cc] - 1] = np.where(np.isfinite(self.row[head[cc]]), head[cc], -1)
        return out  # +inf is selected first and reported as padding, as top_k_indices does

    def gather(self, cols: np.ndarray) -> np.ndarray:
        g = self.row[np.maximum(cols, 0)]
        rows = np.broadcast_to(np.arange(self.b, dtype=np.int64)[:, None], cols.shape)
        bad = (cols < 0) | ~np.isfinite(g) | self.excluded(rows * self.n + np.maximum(cols, 0))
        g[bad] = np.nan
        return g


def _row_value_order(rows: np.ndarray, vals: np.ndarray, cols: np.ndarray, n: int) -> np.ndarray:
    """Order of entries by (row ascending, value descending, column ascending); values > 0.

    One int64 sort key ``row | 31-bit descending value | column`` when the bits fit (rows are
    taken in chunks so that they do), else ``np.lexsort``.
    """
    col_bits = max(1, int(n - 1).bit_length())
    row_bits = 63 - 31 - col_bits
    if row_bits < 1:
        return np.lexsort((cols, -vals, rows))
    value = np.int64(0x7FFFFFFF) - vals.astype(np.float32).view(np.int32).astype(np.int64)
    out = np.empty(len(rows), np.int64)
    span = 1 << row_bits
    bounds = (
        np.searchsorted(rows, np.arange(0, int(rows[-1]) + span + 1, span)) if len(rows) else [0]
    )
    for lo, hi in zip(bounds[:-1], bounds[1:], strict=False):
        if hi <= lo:
            continue
        r0 = rows[lo]
        key = ((rows[lo:hi] - r0) << (31 + col_bits)) | (value[lo:hi] << col_bits) | cols[lo:hi]
        out[lo:hi] = lo + np.argsort(key)
    return out


__all__ = ["BlockScores", "block_scores", "is_shared_row"]
