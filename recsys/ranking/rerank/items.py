"""``ItemTable``: the per-item arrays re-ranking reads (categories, brands, popularity, vectors)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from recsys.data.schema import Col
from recsys.errors import ConfigError


def _codes(values, names: Sequence[str] | None, n: int) -> tuple[np.ndarray, tuple[str, ...]]:
    """Integer codes (-1 unknown) and their names from codes or labels."""
    if values is None:
        return np.full(n, -1, np.int32), tuple(names or ())
    arr = np.asarray(values)
    if arr.dtype.kind in "iu":
        return arr.astype(np.int32), tuple(names or ())
    s = pd.Series(arr, dtype=object)
    s = s.where(s.notna() & (s.astype(str).str.strip() != ""), None)
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    return codes.astype(np.int32), tuple(str(u) for u in uniques)


@dataclass(eq=False)
class ItemTable:
    """Per-item arrays the re-ranker needs, in internal item order.

    Attributes
    ----------
    category, brand : (n_items,) int32 codes, -1 unknown; names in ``category_names``/``brand_names``.
    popularity : (n_items,) interaction counts.
    vectors : (n_items, d) float32 unit-norm content vectors (zero rows for unknown), or None.
    catalog : the catalog frame (``item_id`` + attribute columns) that rules read, or None.
    category_sets : (n_items, n_labels) CSR of multi-valued categories (each item's k values
        weighted 1/k; ``recsys.data.features.category_sets``), or None when single-valued;
        labels in ``category_set_names``.
    """

    category: np.ndarray
    brand: np.ndarray
    popularity: np.ndarray
    vectors: np.ndarray | None = None
    catalog: pd.DataFrame | None = None
    category_names: tuple[str, ...] = ()
    brand_names: tuple[str, ...] = ()
    category_sets: Any = None
    category_set_names: tuple[str, ...] = ()
    _cache: dict = field(default_factory=dict, repr=False)

    @classmethod
    def from_arrays(
        cls,
        n_items: int | None = None,
        *,
        category=None,
        brand=None,
        popularity=None,
        vectors: np.ndarray | None = None,
        catalog: pd.DataFrame | None = None,
        category_names: Sequence[str] | None = None,
        brand_names: Sequence[str] | None = None,
        category_sets: tuple[Any, Sequence[str]] | None = None,
    ) -> ItemTable:
        """Build from codes or labels; missing category/brand are read from ``catalog`` if present.

        Vectors are L2-normalised (zero rows stay zero).
        """
        if n_items is None:
            for a in (category, brand, popularity, vectors, catalog):
                if a is not None:
                    n_items = len(a)
                    break
            else:
                raise ValueError("ItemTable needs n_items or at least one per-item array")
        if category is None and catalog is not None and Col.CATEGORY in catalog.columns:
            category = catalog[Col.CATEGORY].to_numpy()
        if brand is None and catalog is not None and Col.BRAND in catalog.columns:
            brand = catalog[Col.BRAND].to_numpy()
        cat, cat_names = _codes(category, category_names, n_items)
        br, br_names = _codes(brand, brand_names, n_items)
        pop = (
            np.zeros(n_items, np.float32)
            if popularity is None
            else np.asarray(popularity, np.float32)
        )
        vec = None
        if vectors is not None:
            vec = np.asarray(vectors, np.float32)
            norms = np.linalg.norm(vec, axis=1, keepdims=True)
            vec = np.where(norms > 0, vec / np.where(norms > 0, norms, 1.0), 0.0).astype(np.float32)
        for name, a in (("category", cat), ("brand", br), ("popularity", pop), ("vectors", vec)):
            if a is not None and len(a) != n_items:
                raise ValueError(f"ItemTable: {name} has {len(a)} rows, expected {n_items}")
        sets, set_names = category_sets if category_sets is not None else (None, ())
        if sets is not None and sets.shape[0] != n_items:
            raise ValueError(
                f"ItemTable: category_sets has {sets.shape[0]} rows, expected {n_items}"
            )
        return cls(cat, br, pop, vec, catalog, cat_names, br_names, sets, tuple(set_names))

    @property
    def n_items(self) -> int:
        """Number of items (rows of every per-item array)."""
        return len(self.category)

    @property
    def pop_norm(self) -> np.ndarray:
        """(n_items,) ``log1p(pop) / log1p(max pop)`` in [0, 1]."""
        if "pop_norm" not in self._cache:
            top = np.log1p(max(float(self.popularity.max(initial=0.0)), 0.0))
            p = np.log1p(np.maximum(self.popularity, 0.0))
            self._cache["pop_norm"] = (p / top if top > 0 else np.zeros_like(p)).astype(np.float32)
        return self._cache["pop_norm"]

    @property
    def category_lists(self) -> np.ndarray:
        """(n_items, G) int32 category codes per item, -1 padded (what category caps read).

        Every value of a multi-valued category (``category_sets``), else one column of
        ``category`` codes.
        """
        if "category_lists" not in self._cache:
            if self.category_sets is None:
                out = self.category[:, None].astype(np.int32)
            else:
                sets = self.category_sets.tocsr()
                per = np.diff(sets.indptr)
                out = np.full((self.n_items, max(int(per.max(initial=0)), 1)), -1, np.int32)
                row = np.repeat(np.arange(self.n_items), per)
                out[row, np.arange(len(row)) - sets.indptr[row]] = sets.indices
            self._cache["category_lists"] = out
        return self._cache["category_lists"]

    @property
    def padded_vectors(self) -> np.ndarray | None:
        """(n_items + 1, d) ``vectors`` with an all-zero last row (the index ``-1`` reads it)."""
        if self.vectors is None:
            return None
        if "padded_vectors" not in self._cache:
            zero = np.zeros((1, self.vectors.shape[1]), np.float32)
            self._cache["padded_vectors"] = np.vstack([self.vectors, zero]).astype(np.float32)
        return self._cache["padded_vectors"]

    def item_index(self, item_id: Any) -> int:
        """Internal index of an external item id (``ConfigError`` if unknown)."""
        if self.catalog is None or Col.ITEM not in self.catalog.columns:
            raise ConfigError("pinning needs the catalog's item ids.")
        key = "item_index"
        if key not in self._cache:
            self._cache[key] = pd.Index(self.catalog[Col.ITEM].astype(str))
        idx = self._cache[key].get_indexer([str(item_id)])[0]
        if idx < 0:
            raise ConfigError(f"item '{item_id}' is not in the catalog.")
        return int(idx)
