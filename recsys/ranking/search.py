r"""Personalised search preview: text relevance, then a blend with the shopper's taste.

**Text relevance** is BM25 (Robertson & Zaragoza 2009) over the character n-grams (2–3, within
word boundaries) of each item's title, description and attributes, so a Chinese query needs no
tokenizer and a typo still shares most n-grams:
``s(q, d) = Σ_{g ∈ q} idf_g · tf_gd (k1 + 1) / (tf_gd + k1 (1 - b + b |d| / avgdl))`` with
``idf_g = ln(1 + (N - df_g + 0.5) / (df_g + 0.5))``. The weighted document matrix is built once,
so a query is one sparse product.

**Personalisation** re-ranks the items that match the query: both the text score and the
shopper's affinity are min-max normalised over those items and blended,
``(1 - w) · text + w · affinity`` (``w`` = the one slider). The affinity comes from the serving
side (``recsys.service.views.Views.search``): the run's models' scores of every item for the
shopper, each min-max normalised and weighted as the blend weights them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.feature_extraction.text import CountVectorizer

from recsys.data.dataset import Dataset
from recsys.data.features import attribute_columns, text_columns
from recsys.ranking.topk import top_k_indices

#: BM25 parameters (the usual defaults).
K1, B = 1.2, 0.75
#: An item matches a query when its text score is at least this share of the best item's.
MIN_SHARE = 0.5


def item_documents(dataset: Dataset) -> pd.Series:
    """One searchable document per item: text columns and attribute values, lower case."""
    cat = dataset.catalog
    cols = [*text_columns(cat), *[c for c in attribute_columns(dataset) if c in cat.columns]]
    if not cols:
        return pd.Series([""] * dataset.n_items)
    parts = [cat[c].astype(object).where(cat[c].notna(), "").astype(str) for c in cols]
    doc = parts[0]
    for p in parts[1:]:
        doc = doc + " " + p
    return doc.str.lower().str.strip().reset_index(drop=True)


@dataclass
class SearchIndex:
    """BM25 over character n-grams of the catalog (module docstring).

    Attributes
    ----------
    weights : (n_items, n_grams) CSR of per-document BM25 term weights.
    vectorizer : the fitted n-gram counter (queries go through it).
    """

    weights: sp.csr_matrix
    vectorizer: CountVectorizer

    @classmethod
    def build(cls, dataset: Dataset, ngram_range: tuple[int, int] = (2, 3)) -> SearchIndex:
        """Index every catalog item."""
        docs = item_documents(dataset)
        vec = CountVectorizer(analyzer="char_wb", ngram_range=ngram_range, dtype=np.float32)
        try:
            tf = vec.fit_transform(docs.tolist()).tocsr()
        except ValueError:  # an empty vocabulary: nothing to search
            tf = sp.csr_matrix((dataset.n_items, 0), dtype=np.float32)
        n = max(tf.shape[0], 1)
        df = np.asarray((tf > 0).sum(axis=0)).ravel()
        idf = np.log1p((n - df + 0.5) / (df + 0.5)).astype(np.float32)
        length = np.asarray(tf.sum(axis=1)).ravel()
        avg = float(length.mean()) if length.size and length.mean() > 0 else 1.0
        w = tf.copy()
        rows = np.repeat(np.arange(tf.shape[0]), np.diff(tf.indptr))
        norm = K1 * (1 - B + B * length[rows] / avg)
        w.data = (idf[tf.indices] * tf.data * (K1 + 1) / (tf.data + norm)).astype(np.float32)
        return cls(w, vec)

    def scores(self, query: str) -> np.ndarray:
        """(n_items,) float32 BM25 score of every item for ``query`` (0 = no shared n-gram)."""
        if self.weights.shape[1] == 0 or not query.strip():
            return np.zeros(self.weights.shape[0], np.float32)
        q = self.vectorizer.transform([query.lower().strip()])
        q.data[:] = 1.0  # each query n-gram counts once
        return np.asarray((self.weights @ q.T).toarray()).ravel().astype(np.float32)


def minmax(x: np.ndarray) -> np.ndarray:
    """``x`` scaled to [0, 1] (all equal -> 0)."""
    lo, hi = float(np.min(x)), float(np.max(x))
    return np.zeros_like(x, dtype=np.float64) if hi <= lo else (x - lo) / (hi - lo)


def blend_search(
    text: np.ndarray,
    affinity: np.ndarray,
    weight: float,
    k: int = 20,
    min_share: float = MIN_SHARE,
) -> pd.DataFrame:
    """Plain and personalised order of the items matching a query.

    Parameters
    ----------
    text : (n_items,) text scores (``SearchIndex.scores``); an item matches when its score is
        at least ``min_share`` of the best one (a weak match sharing one n-gram is not a result,
        however much the shopper likes the item).
    affinity : (n_items,) the shopper's affinity (NaN = unknown, treated as the lowest).
    weight : the personalisation weight ``w`` in [0, 1].
    k : results shown.

    Returns
    -------
    One row per item in the personalised top-``k`` or the plain top-``k``: ``item`` (internal
    index), ``text``, ``affinity`` (both normalised), ``score``, ``plain_rank``,
    ``personal_rank`` (1-based; NaN outside the top ``k``) and ``moved`` (plain - personal).
    """
    best = float(text.max()) if len(text) else 0.0
    match = np.flatnonzero((text > 0) & (text >= min_share * best))
    if len(match) == 0:
        return pd.DataFrame(
            columns=["item", "text", "affinity", "score", "plain_rank", "personal_rank", "moved"]
        )
    t = minmax(text[match].astype(np.float64))
    a = affinity[match].astype(np.float64)
    a = np.where(np.isfinite(a), a, np.nanmin(a) if np.isfinite(a).any() else 0.0)
    a = minmax(a)
    w = float(np.clip(weight, 0.0, 1.0))
    score = (1 - w) * t + w * a
    k = min(k, len(match))
    plain_idx, _ = top_k_indices(t[None, :].astype(np.float32), k)
    pers_idx, _ = top_k_indices(score[None, :].astype(np.float32), k)
    plain_rank = np.full(len(match), np.nan)
    plain_rank[plain_idx[0]] = np.arange(1, k + 1)
    pers_rank = np.full(len(match), np.nan)
    pers_rank[pers_idx[0]] = np.arange(1, k + 1)
    keep = np.isfinite(plain_rank) | np.isfinite(pers_rank)
    out = pd.DataFrame(
        {
            "item": match[keep],
            "text": t[keep],
            "affinity": a[keep],
            "score": score[keep],
            "plain_rank": plain_rank[keep],
            "personal_rank": pers_rank[keep],
        }
    )
    out["moved"] = out["plain_rank"] - out["personal_rank"]
    return out.sort_values(["personal_rank", "plain_rank"], na_position="last").reset_index(
        drop=True
    )


__all__ = ["B", "K1", "MIN_SHARE", "SearchIndex", "blend_search", "item_documents", "minmax"]
