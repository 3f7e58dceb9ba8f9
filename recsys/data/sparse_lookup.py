"""Vectorised look-up of many (row, column) cells in a CSR matrix."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def lookup(
    matrix: sp.spmatrix, rows: np.ndarray, cols: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Stored values of ``matrix`` at the cells ``(rows, cols)``, without a Python loop.

    Parameters
    ----------
    matrix : (n_rows, n_cols) sparse matrix.
    rows, cols : int arrays of one shape; negative entries are never found.

    Returns
    -------
    found : bool array of that shape, True where the cell is stored.
    values : float32 array of that shape, the stored value (0 where not stored).
    """
    m = sp.csr_matrix(matrix)
    if not m.has_sorted_indices:
        m = m.copy()
        m.sort_indices()
    rows = np.asarray(rows, dtype=np.int64)
    cols = np.asarray(cols, dtype=np.int64)
    found = np.zeros(rows.shape, dtype=bool)
    values = np.zeros(rows.shape, dtype=np.float32)
    if m.nnz == 0 or rows.size == 0:
        return found, values
    width = np.int64(m.shape[1])
    keys = np.repeat(np.arange(m.shape[0], dtype=np.int64), np.diff(m.indptr)) * width
    keys += m.indices.astype(np.int64)  # globally sorted
    ok = (rows >= 0) & (cols >= 0) & (rows < m.shape[0]) & (cols < width)
    query = np.where(ok, rows * width + cols, -1)
    pos = np.minimum(np.searchsorted(keys, query), len(keys) - 1)
    found = ok & (keys[pos] == query)
    values = np.where(found, m.data[pos], 0).astype(np.float32)
    return found, values
