"""Scores left as the product ``rows @ W`` of sparse user rows and a dense item matrix (EASE).

A block's top-k is taken without its dense ``(b, n_items)`` scores. ``W``'s columns are kept
in panels of ``PANEL`` columns (``PanelMatrix``, one contiguous slab each). The compiled
kernel goes through the panels, keeping each one's slab in cache for the whole block. For
each user it adds its rows' slices of the panel into a ``PANEL``-wide buffer and passes the
buffer through a k-entry heap. A dense row of scores is never written out, and ``W`` is read
once per block of users.

On EASE's top-20 at the medium store's shape (50,000 users x 5,000 items, 17 items a user, 2
threads, 2,048 users a block), ``python -m recsys bench`` measured 1.47-1.65x the CPU of its
bare numpy reference (a dense ``users x 64 @ 64 x items`` product plus ``argpartition``), and
1.25-1.31x at 100,000 x 10,000. The dense product plus ``top_k_indices`` had measured
1.99-2.13x and 1.84x (``docs/bench-2026-12-01*.txt``).

Values and order are exactly those of the dense path, that is ``csr_dense`` followed by
``top_k_indices`` (tested):
- every score adds the same float32 terms in the same order, from 0;
- lists run by score descending, then by item ascending;
- excluded cells are never selected;
- non-finite values become padding (-1).

Items that are not columns of ``W`` (EASE's items without interactions) score exactly 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
import scipy.sparse as sp

#: Columns per panel: a slab is ``n x PANEL`` float32 (2.5 MB at 5,000 items, in L2/L3).
PANEL = 128


@dataclass(frozen=True)
class PanelMatrix:
    """A dense ``(n, m)`` float32 matrix kept panel by panel, for ``RowProduct``.

    Attributes
    ----------
    slabs : (m // PANEL, n, PANEL) C-contiguous: ``slabs[p] = W[:, p*PANEL:(p+1)*PANEL]``.
    tail : (n, m % PANEL) C-contiguous: the last, narrower panel.
    columns : (m,) int32 item index of each column, ascending.
    positions : (n_items,) int32 column of each item, -1 for items not in ``columns``.
    others : int32 items not in ``columns``, ascending (they score 0).
    """

    slabs: np.ndarray
    tail: np.ndarray
    columns: np.ndarray
    positions: np.ndarray
    others: np.ndarray

    @classmethod
    def of(cls, matrix: np.ndarray, columns: np.ndarray, n_items: int) -> PanelMatrix:
        """The panels of ``matrix`` (n, m), whose column ``c`` scores item ``columns[c]``."""
        w = np.asarray(matrix, np.float32)
        n, m = w.shape
        full = m // PANEL
        slabs = np.ascontiguousarray(
            w[:, : full * PANEL].reshape(n, full, PANEL).transpose(1, 0, 2)
        )
        columns = np.asarray(columns, np.int32)
        positions = np.full(n_items, -1, np.int32)
        positions[columns] = np.arange(m, dtype=np.int32)
        return cls(
            slabs=slabs,
            tail=np.ascontiguousarray(w[:, full * PANEL :]),
            columns=columns,
            positions=positions,
            others=np.flatnonzero(positions < 0).astype(np.int32),
        )

    @property
    def n_items(self) -> int:
        """Items scored (columns and others)."""
        return len(self.positions)


@dataclass(frozen=True)
class RowProduct:
    """A block's scores ``rows @ W``, not evaluated: ``rows`` (b, n) CSR float32."""

    rows: sp.csr_matrix
    panels: PanelMatrix

    @property
    def shape(self) -> tuple[int, int]:
        """(b, n_items), like the dense scores."""
        return self.rows.shape[0], self.panels.n_items

    def top(
        self, k: int, exclude_rows: sp.csr_matrix | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(b, k) items best first (-1 pads) and their scores (-inf on padding).

        ``exclude_rows``: (b, n_items) sparse; the items stored in a user's row are never
        selected for that user.
        """
        b, n_items = self.shape
        k = min(k, n_items)
        idx = np.empty((b, k), np.int32)
        vals = np.empty((b, k), np.float32)
        if b and k > 0:
            ex = sp.csr_matrix((b, n_items), dtype=np.float32)
            if exclude_rows is not None:
                ex = sp.csr_matrix(exclude_rows)  # stored entries, explicit zeros included
                if not ex.has_sorted_indices:
                    ex = ex.sorted_indices()
            p, r = self.panels, self.rows
            _kernel()(
                r.indptr, r.indices, r.data, p.slabs, p.tail, p.columns, p.positions,
                p.others, ex.indptr, ex.indices, idx, vals,
            )  # fmt: skip
        return idx, vals


def _heap(jit: Any) -> tuple[Any, Any, Any]:
    """``better``, ``push``, ``replace_root``: a k-entry heap whose root is the worst entry."""

    @jit
    def better(v, i, w, j):  # pragma: no cover - compiled
        """(v, item i) ranks before (w, item j): higher score, then the lower item."""
        return v > w or (v == w and i < j)

    @jit
    def push(hv, hi, n, v, i):  # pragma: no cover - compiled
        """Add (v, i) to a heap of n < k entries."""
        hv[n] = v
        hi[n] = i
        pos = n
        while pos > 0:
            up = (pos - 1) // 2
            if not better(hv[up], hi[up], hv[pos], hi[pos]):
                return
            hv[up], hv[pos] = hv[pos], hv[up]
            hi[up], hi[pos] = hi[pos], hi[up]
            pos = up

    @jit
    def replace_root(hv, hi, v, i):  # pragma: no cover - compiled
        """Put (v, i) in the full heap's root and sift it down."""
        k = hv.shape[0]
        hv[0] = v
        hi[0] = i
        pos = 0
        while True:
            c = 2 * pos + 1
            if c >= k:
                return
            if c + 1 < k and better(hv[c], hi[c], hv[c + 1], hi[c + 1]):
                c += 1
            if not better(hv[pos], hi[pos], hv[c], hi[c]):
                return
            hv[pos], hv[c] = hv[c], hv[pos]
            hi[pos], hi[c] = hi[c], hi[pos]
            pos = c

    return better, push, replace_root


def _add_rows(jit: Any) -> Any:
    """``add_rows``: one user's scores of one panel."""
    width = PANEL

    @jit
    def add_rows(y, lo, hi, indices, data, flat, n_cols, p, n):  # pragma: no cover - compiled
        """``y[:n_cols] = sum of data[jj] * W[indices[jj], panel p]`` in stored order, from 0."""
        for c in range(width):
            y[c] = 0
        if n_cols == width:  # a full panel: a fixed width the compiler unrolls
            for jj in range(lo, hi):
                a = data[jj]
                at = (p * n + indices[jj]) * width
                s = flat[at : at + width]
                for c in range(width):
                    y[c] += a * s[c]
        else:
            for jj in range(lo, hi):
                a = data[jj]
                at = indices[jj] * n_cols
                s = flat[at : at + n_cols]
                for c in range(n_cols):
                    y[c] += a * s[c]

    return add_rows


def _offer_panel(jit: Any, push: Any, replace_root: Any) -> Any:
    """``offer_panel``: one user's scores of one panel offered to the user's heap."""
    width = PANEL

    @jit
    def offer_panel(y, w, items, hv, hi, got):  # pragma: no cover - compiled
        """Offer ``(y[c], items[c])``, items ascending, to a heap of ``got``; the new count."""
        k = hv.shape[0]
        c = 0
        while got < k and c < w:  # filling: every scorable value enters
            if y[c] > -np.inf:
                push(hv, hi, got, y[c], items[c])
                got += 1
            c += 1
        if got < k:
            return got
        worst = hv[0]  # items arrive in ascending order: a tie never enters
        if c == 0 and w == width:
            above = False  # one vectorised pass: most panels hold no better value
            for q in range(width):
                above |= y[q] > worst
            if not above:
                return got
        while c < w:
            if y[c] > worst:
                replace_root(hv, hi, y[c], items[c])
                worst = hv[0]
            c += 1
        return got

    return offer_panel


def _finish(jit: Any, better: Any, push: Any, replace_root: Any) -> Any:
    """``finish``: one user's heap completed with zero-scored items, sorted, written out."""

    @jit
    def finish(hv, hi, got, others, excluded, out_idx, out_val):  # pragma: no cover - compiled
        k = hv.shape[0]
        e = 0
        for item in others:  # score 0, ascending: once one cannot enter, none can
            while e < len(excluded) and excluded[e] < item:
                e += 1
            if e < len(excluded) and excluded[e] == item:
                continue
            if got < k:
                push(hv, hi, got, np.float32(0), item)
                got += 1
            elif better(np.float32(0), item, hv[0], hi[0]):
                replace_root(hv, hi, np.float32(0), item)
            else:
                break
        for a in range(1, got):  # best first
            v, i, q = hv[a], hi[a], a - 1
            while q >= 0 and better(v, i, hv[q], hi[q]):
                hv[q + 1] = hv[q]
                hi[q + 1] = hi[q]
                q -= 1
            hv[q + 1] = v
            hi[q + 1] = i
        for a in range(k):
            if a < got and np.isfinite(hv[a]):
                out_idx[a] = hi[a]
                out_val[a] = hv[a]
            else:  # short lists pad; +inf is selected, then reported as padding
                out_idx[a] = -1
                out_val[a] = -np.inf

    return finish


def _compile(numba: Any) -> Any:
    """The top-k kernel (see the module doc)."""
    jit = numba.njit(nogil=True, cache=True)
    better, push, replace_root = _heap(jit)
    add_rows, offer_panel = _add_rows(jit), _offer_panel(jit, push, replace_root)
    finish = _finish(jit, better, push, replace_root)
    width = PANEL

    @jit
    def top_k(indptr, indices, data, slabs, tail, columns, positions, others, e_ptr, e_items,
              out_idx, out_val):  # fmt: skip  # pragma: no cover - compiled
        b, k = out_idx.shape
        n, full, tw = slabs.shape[1], slabs.shape[0], tail.shape[1]
        y = np.empty(width, np.float32)
        hv = np.empty((b, k), np.float32)
        hi = np.empty((b, k), np.int32)
        count = np.zeros(b, np.int64)
        e_next = e_ptr[:-1].copy()  # each user's first excluded item not yet reached
        for p in range(full + (1 if tw > 0 else 0)):
            c0 = p * width
            w = width if p < full else tw
            flat = slabs.ravel() if p < full else tail.ravel()
            for r in range(b):
                add_rows(y, indptr[r], indptr[r + 1], indices, data, flat, w, p, n)
                ee = e_next[r]
                while ee < e_ptr[r + 1] and e_items[ee] <= columns[c0 + w - 1]:
                    if positions[e_items[ee]] >= 0:
                        y[positions[e_items[ee]] - c0] = -np.inf
                    ee += 1
                e_next[r] = ee
                count[r] = offer_panel(y, w, columns[c0 : c0 + w], hv[r], hi[r], count[r])
        for r in range(b):
            excluded = e_items[e_ptr[r] : e_ptr[r + 1]]
            finish(hv[r], hi[r], count[r], others, excluded, out_idx[r], out_val[r])

    return top_k


@cache
def _kernel() -> Any:
    """The compiled kernel (compiled, or loaded from numba's cache, on first use)."""
    import numba

    return _compile(numba)


__all__ = ["PANEL", "PanelMatrix", "RowProduct"]
