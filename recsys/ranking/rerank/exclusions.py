"""Which items are never candidates for a user: already seen or bought (per category)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

from recsys.data.schema import Col
from recsys.errors import ConfigError

EXCLUDE_MODES = ("seen", "purchased", "none")


def exclusion_matrix(
    interactions,
    purchased: sp.spmatrix | None = None,
    item_category: np.ndarray | None = None,
    mode: str = "seen",
    repurchasable_categories: Sequence = (),
) -> sp.csr_matrix:
    """Items never to recommend to each user: what they saw or bought, minus repurchasable goods.

    Parameters
    ----------
    interactions : (n_users, n_items) sparse matrix of seen pairs, or a ``Dataset`` (then
        ``purchased`` and ``item_category`` are read from it).
    purchased : (n_users, n_items) sparse matrix of purchased pairs (needed for ``"purchased"``).
    item_category : (n_items,) category code or label per item.
    mode : ``"seen"`` | ``"purchased"`` | ``"none"``.
    repurchasable_categories : categories (same codes/labels as ``item_category``) whose items
        may be recommended again (chargers, cables ...).

    Returns
    -------
    (n_users, n_items) csr with ones where excluded.
    """
    if mode not in EXCLUDE_MODES:
        raise ConfigError(f"unknown exclusion mode '{mode}'. Known: {', '.join(EXCLUDE_MODES)}.")
    if hasattr(interactions, "interactions") and hasattr(interactions, "matrix"):
        ds = interactions
        frame = ds.interactions
        bought = frame[Col.PURCHASED].to_numpy(bool)
        purchased = sp.csr_matrix(
            (
                np.ones(int(bought.sum()), np.float32),
                (frame[Col.USER_IDX].to_numpy()[bought], frame[Col.ITEM_IDX].to_numpy()[bought]),
            ),
            shape=(ds.n_users, ds.n_items),
        )
        if item_category is None:
            item_category = ds.catalog_column(Col.CATEGORY)
        interactions = ds.matrix("ones")
    seen = sp.csr_matrix(interactions)
    if mode == "none":
        return sp.csr_matrix(seen.shape, dtype=np.float32)
    if mode == "purchased":
        if purchased is None:
            raise ConfigError("excluding purchased items needs purchase events in the data.")
        base = sp.csr_matrix(purchased)
    else:
        base = seen
    out = (base != 0).astype(np.float32).tocsr()
    if len(repurchasable_categories) and item_category is not None:
        cats = np.asarray(
            item_category, dtype=object if np.asarray(item_category).dtype.kind in "OUS" else None
        )
        again = np.isin(cats, np.asarray(list(repurchasable_categories), dtype=cats.dtype))
        out = (out @ sp.diags((~again).astype(np.float32))).tocsr()
        out.eliminate_zeros()
    return out
