"""Top-k selection over score matrices, and the ``TopK`` result type.

Selection, not the matrix product, is the bottleneck of batch recommendation: we use
``argpartition`` on the *largest* k (partitioning at ``n - k`` so no negated copy of the
score matrix is made), on a group-maximum threshold cut of long rows, and sort only the k
survivors.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Cells of one chunk of rows selected at once; bounds the temporaries (~14 bytes a cell).
_CHUNK_CELLS = 1 << 19
#: Share of values <= 0 in a row above which they are made distinct before partitioning.
_LOW_SHARE = 0.05
#: Leading columns searched first for the tied values a row still needs (then the whole row).
_TIE_WINDOW = 1024
#: Rows at least this many times k long are prefiltered before partitioning.
_PREFILTER_MIN_RATIO = 16


@dataclass(frozen=True)
class TopK:
    """Ranked lists for a set of users, in internal indices.

    Attributes
    ----------
    users : (n,) int32 internal user indices.
    items : (n, k) int32 internal item indices, best first; -1 pads short lists.
    scores : (n, k) float32 scores aligned with ``items`` (-inf on padding).
    """

    users: np.ndarray
    items: np.ndarray
    scores: np.ndarray

    @property
    def k(self) -> int:
        """List length (columns of ``items``)."""
        return self.items.shape[1]

    def __len__(self) -> int:
        return len(self.users)

    def truncate(self, k: int) -> TopK:
        """The first ``k`` positions of every list."""
        return TopK(self.users, self.items[:, :k], self.scores[:, :k])


def top_k_indices(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Row-wise top-k of a dense score matrix.

    Parameters
    ----------
    scores : (n, m) float array; ``-inf`` (or NaN) marks excluded entries. Not modified.
    k : list length; capped at ``m``.

    Returns
    -------
    idx : (n, k) int32 column indices, best first (ties: lower column first); -1 where a row had
        fewer than k finite scores.
    vals : (n, k) float32 scores aligned with ``idx`` (-inf on padding).

    Notes
    -----
    The answer is the first k columns of the row ordered by (score descending, column
    ascending); ``-0.0`` equals ``0.0``; ``+inf`` is selected first and then reported as
    padding. Rows are processed in chunks of about ``_CHUNK_CELLS`` cells (small temporaries):

    1. Rows whose k-th value is 0 or -inf (a sparse neighbour model's light users, excluded
       items) need no partition: every value above it, then its lowest columns.
    2. Long rows (``m >= 16 k``) are first cut to the values reaching the k-th largest of
       ~4k group maxima (at least k values reach it, so the cut is exact; typically ~1.5 k).
    3. A plain float ``argpartition`` then selects the k. The answer is unique unless the k-th
       value is tied across the partition boundary, which one comparison pass checks per row;
       only those rows take step 1's rule with their k-th value.

    A plain ``argpartition`` degrades on rows with a mass of equal values (the zeros of a
    sparse neighbour model): 6-10x slower on a 512 x 5,000 block. Rows that still need a whole
    row partition and whose k-th value is positive get their values <= 0 (which cannot be
    selected) replaced by distinct negative ones first.
    """
    n, m = scores.shape
    k = min(k, m)
    if k <= 0 or n == 0:
        return np.full((n, max(k, 0)), -1, np.int32), np.full((n, max(k, 0)), -np.inf, np.float32)
    s = np.asarray(scores, dtype=np.float32)
    idx = np.empty((n, k), np.int32)
    vals = np.empty((n, k), np.float32)
    step = max(1, _CHUNK_CELLS // m)
    for start in range(0, n, step):
        rows = slice(start, start + step)
        idx[rows], vals[rows] = _top_k_chunk(s[rows], k)
    return idx, vals


def _top_k_chunk(s: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """``top_k_indices`` of one (b, m) float32 chunk."""
    b, m = s.shape
    if np.isnan(s.min()):
        s = np.where(np.isnan(s), np.float32(-np.inf), s)
    if k == m:
        cols = np.broadcast_to(np.arange(m), (b, m))
        vals = s
    else:
        cols, vals = _top_k_set(s, k)
    order = np.argsort(descending_key(vals, cols), axis=1)
    idx = np.take_along_axis(cols, order, axis=1).astype(np.int32)
    vals = np.take_along_axis(vals, order, axis=1)
    bad = ~np.isfinite(vals)
    idx[bad] = -1
    vals[bad] = -np.inf
    return idx, vals


def _top_k_set(s: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(b, m) float32 without NaN -> (b, k) columns of each row's top-k and their values.

    The k columns come in no particular order.
    """
    b, m = s.shape
    cols = np.empty((b, k), np.int64)
    positive = s > 0
    n_pos = _row_counts(positive)
    by_partition = n_pos >= k  # the k-th value is positive
    if not by_partition.all():  # the k-th value is <= 0: 0 when enough zeros, else maybe -inf
        low = np.flatnonzero(~by_partition)
        sl = s[low]
        at_least_zero = n_pos[low] + _row_counts(sl == 0) >= k
        known = at_least_zero | (_row_counts(sl > -np.inf) < k)
        by_partition[low[~known]] = True  # finite negatives decide: partition those rows
        if known.any():
            kth = np.where(at_least_zero[known], np.float32(0), np.float32(-np.inf))
            cols[low[known]] = _threshold_select(sl[known], kth, k)
    rows = np.flatnonzero(by_partition)
    whole = len(rows) == b
    sp = s if whole else s[rows]
    done = np.zeros(len(rows), bool)
    if len(rows) and m >= _PREFILTER_MIN_RATIO * k:
        found, cand_cols, cand_vals = _candidates(sp, k)
        if len(found):
            pos = _select(cand_vals, k)
            cols[rows[found]] = np.take_along_axis(cand_cols, pos, axis=1)
            done[found] = True
    if not done.all():  # whole rows: partition them
        rest = np.flatnonzero(~done)
        sr = sp if len(rest) == len(rows) else sp[rest]
        # values <= 0 cannot reach a positive k-th value: make them distinct (and fast to skip)
        spread = n_pos[rows[rest]] >= k
        spread &= m - n_pos[rows[rest]] > _LOW_SHARE * m
        x = None
        if spread.any():
            keep = positive[rows[rest]] if len(rest) < b else positive
            if not spread.all():
                keep = keep | ~spread[:, None]
            x = np.where(keep, sr, -np.arange(1, m + 1, dtype=np.float32))
        cols[rows[rest]] = _select(sr, k, x)
    return cols, np.take_along_axis(s, cols, axis=1)


def _candidates(s: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Compress rows of (r, m) ``s`` to the values at or above a threshold ``tau``.

    The columns of a row are dealt into ``G ~ 4 k`` groups (column ``c`` into group
    ``c % G``); ``tau`` is the k-th largest group maximum. At least k values reach it (the k
    group maxima), so every value of the row's top-k does, and the top-k of the compressed
    row (columns ascending, -inf padding) is the top-k of the row. Typically little more than
    k values reach it; rows with more than ``16 k`` (a mass of ties at ``tau``) or with
    ``tau = -inf`` are left out.

    Returns
    -------
    found : (f,) rows that were compressed.
    cols : (f, w) int64 columns of the kept values, ascending (0 on padding).
    vals : (f, w) float32 kept values (-inf on padding).
    """
    r, m = s.shape
    n_groups = max(k, m // max(1, m // (4 * k)))
    per_group = m // n_groups
    group_max = s[:, : n_groups * per_group].reshape(r, per_group, n_groups).max(axis=1)
    tail = s[:, n_groups * per_group :]
    if tail.shape[1]:
        np.maximum(group_max[:, : tail.shape[1]], tail, out=group_max[:, : tail.shape[1]])
    tau = np.partition(group_max, n_groups - k, axis=1)[:, n_groups - k]
    del group_max
    mask = s >= tau[:, None]
    count = _row_counts(mask)
    ok = (count <= 16 * k) & (tau > -np.inf)
    found = np.flatnonzero(ok)
    if len(found) == 0:
        return found, np.zeros((0, k), np.int64), np.zeros((0, k), np.float32)
    if len(found) < r:
        mask[~ok] = False
    flat = np.flatnonzero(mask)
    del mask
    count = count[found]
    width = int(count.max())
    # flat = row * m + col; candidate i of a row goes to slot i of that row's padded line
    first = np.cumsum(count) - count
    dest = np.repeat(np.arange(len(found)) * width - first, count) + np.arange(len(flat))
    cols = np.zeros(len(found) * width, np.int64)
    vals = np.full(len(found) * width, -np.inf, np.float32)
    cols[dest] = flat - np.repeat(found * m, count)
    vals[dest] = s.ravel()[flat]
    return found, cols.reshape(-1, width), vals.reshape(-1, width)


def _select(v: np.ndarray, k: int, x: np.ndarray | None = None) -> np.ndarray:
    """(r, w) float32 rows (no NaN) -> (r, k) positions of their top-k, in no particular order.

    ``x`` (default ``v``) is partitioned instead of ``v`` when given; it must have the same
    top-k as ``v``. The k-th value is tied across the boundary when more than k values reach
    it; those rows are resolved by :func:`_threshold_select`.
    """
    w = v.shape[1]
    part = np.argpartition(v if x is None else x, w - k, axis=1)[:, w - k :]
    t = np.take_along_axis(v, part, axis=1).min(axis=1)
    tied = np.isfinite(t) & (_row_counts(v >= t[:, None]) > k)
    if tied.any():
        part[tied] = _threshold_select(v[tied], t[tied], k)
    return part


def _threshold_select(s: np.ndarray, kth: np.ndarray, k: int) -> np.ndarray:
    """(r, m) rows with their k-th value ``kth`` (r,) -> (r, k) columns of the top-k.

    Every column with a value above ``kth`` (fewer than k), then the lowest columns holding
    ``kth`` until there are k: the order (value descending, column ascending) decides.
    """
    r, m = s.shape
    above = s > kth[:, None]
    need = k - _row_counts(above)
    rows_a, cols_a = _nonzero(above)
    del above
    equal = s == kth[:, None]
    n_equal = _row_counts(equal)
    if n_equal.sum() <= 4 * r * k:  # few tied values: list them all, keep the first ones
        rows_t, cols_t = _nonzero(equal)
        first = np.cumsum(n_equal) - n_equal
        keep = np.arange(len(rows_t)) - first[rows_t] < need[rows_t]
        rows_t, cols_t = rows_t[keep], cols_t[keep]
    else:  # a mass of tied values: the leading columns usually hold enough of them
        width = min(m, max(_TIE_WINDOW, 4 * k))
        rows_t, cols_t = _first_true(equal[:, :width], need)
        short = np.bincount(rows_t, minlength=r) < need
        if short.any():  # the tied values are further right: search whole rows
            full = np.flatnonzero(short)
            keep = ~short[rows_t]
            rows_f, cols_f = _first_true(equal[full], need[full])
            rows_t = np.concatenate([rows_t[keep], full[rows_f]])
            cols_t = np.concatenate([cols_t[keep], cols_f])
    rows_all = np.concatenate([rows_a, rows_t])
    order = np.argsort(rows_all, kind="stable")
    return np.concatenate([cols_a, cols_t])[order].reshape(r, k)


def _first_true(mask: np.ndarray, count: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row of a (r, w) bool ``mask``, its first ``count[i]`` True columns.

    Returns ``(rows, cols)`` int64, row-major (fewer per row when the row has fewer).
    """
    seen = np.cumsum(mask, axis=1, dtype=np.int32)
    return _nonzero(mask & (seen <= count[:, None]))


def _nonzero(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.nonzero`` of a 2-d bool array through the much faster flat version."""
    return np.divmod(np.flatnonzero(mask), mask.shape[1])


def _row_counts(mask: np.ndarray) -> np.ndarray:
    """(r, w) bool -> (r,) int64 True counts (a byte sum: faster than ``count_nonzero``)."""
    acc = np.uint16 if mask.shape[1] < 2**16 else np.int64
    return np.add.reduce(mask.view(np.uint8), axis=1, dtype=acc).astype(np.int64)


def descending_key(vals: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """int64 sort keys: ascending key = value descending, then column ascending.

    Parameters
    ----------
    vals : (..., c) float32 values without NaN (-0.0 counts as 0.0).
    cols : int array broadcastable to ``vals``, each below 2**32: the tie-breaking positions.

    Returns
    -------
    (..., c) int64 keys, distinct wherever ``(value, column)`` pairs are.
    """
    u = (vals + np.float32(0)).view(np.int32)  # + 0 turns -0.0 into 0.0
    key = u >> 31
    key &= 0x7FFFFFFF  # negative floats: reverse the order of their magnitude bits
    key ^= u  # now ordered like the floats, as signed int32
    np.invert(key, out=key)  # reversed: larger values first
    out = key.astype(np.int64)
    out <<= 32
    out |= cols
    return out
