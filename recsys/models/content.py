"""Content-based recommender: users are profiled by the catalog features of what they touched."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import scipy.sparse as sp
from sklearn.preprocessing import normalize

from recsys.data.dataset import Dataset
from recsys.data.features import item_feature_matrix
from recsys.data.schema import Col
from recsys.models.base import ProgressCallback, Recommender
from recsys.models.popularity import time_decay

#: Catalog size up to which scoring uses the dense item-item Gram matrix (n_items^2 float32).
_DENSE_GRAM_MAX_ITEMS = 8000
#: Cells (items x users) of one tile of the profile product used beyond that size.
_TILE_CELLS = 1 << 18


class ContentTfidf(Recommender):
    r"""Cosine between a user's content profile and every item's profile.

    Item profiles ``f_i`` are the L2-normalised rows of ``item_feature_matrix`` (character
    n-gram TF-IDF of the titles/descriptions in any language plus one-hot attributes). A user's
    profile is the weighted mean of the items they interacted with,

    .. math:: p_u = \frac{\sum_i w_{ui} f_i}{\sum_i w_{ui}}, \qquad
        w_{ui} = \log(1 + \text{weight}_{ui}) \cdot 2^{-(t_{max} - t_{ui}) / h}

    (the decay only when ``half_life_days`` is set), and ``score_ui = cos(p_u, f_i)``. Items never
    interacted with still have profiles, so cold items are scored; a cold user is profiled from
    any ad-hoc history. Items with no catalog information score 0.

    Parameters
    ----------
    text, attributes : use text n-grams / one-hot attributes.
    text_weight, attribute_weight : block weights (see ``item_feature_matrix``).
    max_text_features : n-gram vocabulary cap.
    binary : weight every interacted item 1 instead of ``log1p(weight)``.
    half_life_days : time decay of the profile (None: none).
    """

    name: ClassVar[str] = "content_tfidf"
    label: ClassVar[str] = "Content (TF-IDF)"
    handles_cold_users: ClassVar[bool] = True
    handles_cold_items: ClassVar[bool] = True

    def __init__(
        self,
        text: bool = True,
        attributes: bool = True,
        text_weight: float = 1.0,
        attribute_weight: float = 1.0,
        max_text_features: int = 20000,
        binary: bool = False,
        half_life_days: float | None = None,
    ) -> None:
        self.text = text
        self.attributes = attributes
        self.text_weight = text_weight
        self.attribute_weight = attribute_weight
        self.max_text_features = max_text_features
        self.binary = binary
        self.half_life_days = half_life_days

    def _fit(self, dataset: Dataset, progress: ProgressCallback) -> None:
        features, names = item_feature_matrix(
            dataset,
            text=self.text,
            attributes=self.attributes,
            max_text_features=self.max_text_features,
            text_weight=self.text_weight,
            attribute_weight=self.attribute_weight,
        )
        progress(0.7, f"{len(names)} content features")
        df = dataset.interactions
        w = (
            np.ones(len(df), np.float64)
            if self.binary
            else np.log1p(df[Col.WEIGHT].to_numpy(np.float64))
        )
        w = w * time_decay(df[Col.TIMESTAMP].to_numpy(), self.half_life_days)
        self.user_rows_ = sp.csr_matrix(
            (w.astype(np.float32), (df[Col.USER_IDX].to_numpy(), df[Col.ITEM_IDX].to_numpy())),
            shape=(dataset.n_users, dataset.n_items),
        )
        self.item_features_ = features.tocsr()
        self._gram_cache = None
        self.feature_names_ = names
        progress(1.0, "profiles ready")

    def _profile_scores(self, rows: sp.csr_matrix) -> np.ndarray:
        """(n, n_items) float32 cosine of the profiles of ``rows`` (n, n_items) with every item.

        The mean's denominator cancels in the cosine, so the weighted sum ``r F`` is
        normalised directly. Up to ``_DENSE_GRAM_MAX_ITEMS`` items we use the item-item
        Gram matrix ``G = F F^T`` (built once, not pickled): ``r F F^T = r G`` and
        ``||r F||^2 = r G r^T``, a sparse-dense product per block. Larger catalogs go through
        the unit profiles ``p = rF / ||rF||``: ``p F^T``, see :func:`profile_item_scores`.
        """
        gram = self._gram()
        if gram is not None:
            num = np.asarray(rows @ gram, dtype=np.float32)  # (n, n_items)
            sq = np.asarray(rows.multiply(num).sum(axis=1)).ravel()
            norm = np.sqrt(np.maximum(sq, 0.0)).astype(np.float32)
            np.divide(num, norm[:, None], out=num, where=norm[:, None] > 0)
            num[norm <= 0] = 0.0
            return num
        profiles = normalize(rows @ self.item_features_)  # (n, n_features) sparse, unit rows
        return profile_item_scores(profiles, self.item_features_)

    def _gram(self) -> np.ndarray | None:
        if self.item_features_.shape[0] > _DENSE_GRAM_MAX_ITEMS:
            return None
        if self._gram_cache is None:
            f = self.item_features_
            self._gram_cache = np.asarray((f @ f.T).toarray(), dtype=np.float32)
        return self._gram_cache

    _gram_cache: np.ndarray | None = None

    def __getstate__(self) -> dict:
        state = super().__getstate__()
        state.pop("_gram_cache", None)  # derived, n_items^2: rebuilt on demand
        return state

    def _score_items(self, user_idx: np.ndarray) -> np.ndarray:
        return self._profile_scores(self.user_rows_[user_idx])

    def _score_history(self, item_idx: np.ndarray, weights: np.ndarray) -> np.ndarray:
        row = sp.csr_matrix(
            (weights, (np.zeros(len(item_idx), np.int32), item_idx)), shape=(1, self.n_items_)
        )
        return self._profile_scores(row)[0]

    def similar_items(self, item_idx: int, k: int = 10) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` items whose content is closest to item ``item_idx`` (itself excluded).

        Returns ``(idx (<=k,) int32, sims (<=k,) float32)`` best first; only positive
        similarities (none for an item without catalog information).
        """
        self.check_fitted()
        f = self.item_features_
        sims = np.asarray((f @ f[int(item_idx)].T).toarray()).ravel().astype(np.float32)
        sims[int(item_idx)] = 0.0
        k = min(k, len(sims))
        top = np.argpartition(-sims, k - 1)[:k] if k < len(sims) else np.arange(len(sims))
        top = top[np.lexsort((top, -sims[top]))]
        top = top[sims[top] > 0]
        return top.astype(np.int32), sims[top]


def profile_item_scores(profiles: sp.csr_matrix, features: sp.csr_matrix) -> np.ndarray:
    """``profiles @ features.T`` as a C-ordered (n, n_items) float32 array.

    Parameters
    ----------
    profiles : (n, n_features) sparse user profiles.
    features : (n_items, n_features) CSR item features.

    Returns
    -------
    (n, n_items) float32; element ``(u, i)`` is summed over ``i``'s features in the same
    order (and dtype) as ``features @ profiles.T`` would.

    Notes
    -----
    scipy multiplies a CSR matrix by a dense one with the dense operand's columns as the fast
    axis, so ``features @ P.T`` comes out (n_items, n) and used to be transposed whole (a
    full-size copy, a third of the scoring time). Here the product is done in tiles of
    ``_TILE_CELLS`` (items x users): each tile's dense operand is built directly in the
    layout scipy needs and the small result is written transposed into the output.
    """
    n, n_items = profiles.shape[0], features.shape[0]
    out = np.empty((n, n_items), np.result_type(profiles.dtype, features.dtype, np.float32))
    user_step = max(1, min(n, 128))  # the dense operand (n_features, 128) stays in cache
    item_step = max(1, _TILE_CELLS // user_step)
    item_blocks = [features[i : i + item_step] for i in range(0, n_items, item_step)]
    for u in range(0, n, user_step):
        dense_t = profiles[u : u + user_step].T.toarray()  # (n_features, b) C-ordered
        for i, block in zip(range(0, n_items, item_step), item_blocks, strict=True):
            out[u : u + user_step, i : i + item_step] = (block @ dense_t).T
    return out.astype(np.float32, copy=False)


__all__ = ["ContentTfidf", "profile_item_scores"]
