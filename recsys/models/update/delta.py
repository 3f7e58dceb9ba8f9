"""What changed between two training sets of the same store: ``DataDelta``.

An incremental update refits nothing: it carries a fitted model from the old training set to
the new one. For that it needs to know where every old user and item sits in the new id maps
(new events add users and items, and may reorder items when new catalog rows arrive), which
users' rows changed and which items those rows touch. ``data_delta`` computes all of it with
sparse matrix arithmetic, no loop over users.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from recsys.data.dataset import Dataset
from recsys.errors import Message


class FullRetrainNeeded(Exception):
    """A model (or its settings) has no incremental path for this change; ``str`` says why."""


@dataclass(frozen=True)
class DataDelta:
    """The change from an old training set to a new one, in the new internal indices.

    Attributes
    ----------
    user_map : (n_old_users,) int64 new index of every old user.
    item_map : (n_old_items,) int64 new index of every old item.
    n_users, n_items : sizes of the new id maps.
    changed_users : (c,) int32 users whose row of pairs (items or weights) differs, new users
        with pairs included; ascending.
    touched_items : (t,) int32 items in the old or new row of a changed user; ascending.
    new_users : (u,) int32 users absent from the old id map.
    new_items : (i,) int32 items absent from the old id map.
    """

    user_map: np.ndarray
    item_map: np.ndarray
    n_users: int
    n_items: int
    changed_users: np.ndarray
    touched_items: np.ndarray
    new_users: np.ndarray
    new_items: np.ndarray

    def remap_users(self, values: np.ndarray, fill: float | int | bool = 0) -> np.ndarray:
        """(n_old_users, ...) per-user array -> (n_users, ...); new users get ``fill``."""
        return _remap(np.asarray(values), self.user_map, self.n_users, fill)

    def remap_items(self, values: np.ndarray, fill: float | int | bool = 0) -> np.ndarray:
        """(n_old_items, ...) per-item array -> (n_items, ...); new items get ``fill``."""
        return _remap(np.asarray(values), self.item_map, self.n_items, fill)

    def remap_matrix(self, m: sp.spmatrix) -> sp.csr_matrix:
        """(n_old_users, n_old_items) sparse user-item matrix in the new indices."""
        return _remap_sparse(m, self.user_map, self.item_map, (self.n_users, self.n_items))

    def remap_item_square(self, m: sp.spmatrix) -> sp.csr_matrix:
        """(n_old_items, n_old_items) sparse item-item matrix in the new indices."""
        return _remap_sparse(m, self.item_map, self.item_map, (self.n_items, self.n_items))

    @property
    def unchanged(self) -> bool:
        """True when no user's row changed and no user or item was added."""
        return not (len(self.changed_users) or len(self.new_users) or len(self.new_items))


def data_delta(old: Dataset, new: Dataset) -> DataDelta:
    """Compare two training sets of the same store (``new`` keeps every old user and item).

    Rows are compared on the pair weights (a new event on a known pair changes its weight).
    Raises ``FullRetrainNeeded`` when a user or item of ``old`` is missing from ``new``.
    """
    user_map = new.user_ids.to_internal(old.user_ids.external_ids, strict=False).astype(np.int64)
    item_map = new.item_ids.to_internal(old.item_ids.external_ids, strict=False).astype(np.int64)
    if (user_map < 0).any() or (item_map < 0).any():
        raise FullRetrainNeeded(
            Message("users or items were removed from the data", "update.why_removed")
        )
    shape = (new.n_users, new.n_items)
    x_old = _remap_sparse(old.matrix("weight"), user_map, item_map, shape)
    x_new = new.matrix("weight")
    diff = sp.csr_matrix(x_new - x_old)
    diff.eliminate_zeros()
    changed = np.flatnonzero(diff.getnnz(axis=1) > 0).astype(np.int32)
    touched = np.union1d(x_old[changed].indices, x_new[changed].indices).astype(np.int32)
    known_users = np.zeros(new.n_users, bool)
    known_users[user_map] = True
    known_items = np.zeros(new.n_items, bool)
    known_items[item_map] = True
    return DataDelta(
        user_map=user_map,
        item_map=item_map,
        n_users=new.n_users,
        n_items=new.n_items,
        changed_users=changed,
        touched_items=touched,
        new_users=np.flatnonzero(~known_users).astype(np.int32),
        new_items=np.flatnonzero(~known_items).astype(np.int32),
    )


def _remap(values: np.ndarray, index: np.ndarray, n: int, fill: float | int | bool) -> np.ndarray:
    out = np.full((n, *values.shape[1:]), fill, dtype=values.dtype)
    out[index] = values
    return out


def _remap_sparse(
    m: sp.spmatrix, rows: np.ndarray, cols: np.ndarray, shape: tuple[int, int]
) -> sp.csr_matrix:
    coo = sp.coo_matrix(m)
    out = sp.csr_matrix((coo.data, (rows[coo.row], cols[coo.col])), shape=shape, dtype=m.dtype)
    out.sum_duplicates()
    out.sort_indices()
    return out


__all__ = ["DataDelta", "FullRetrainNeeded", "data_delta"]
