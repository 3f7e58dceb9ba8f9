"""Offline metrics of ranked lists: accuracy at k and beyond-accuracy.

Every metric is a small value object (RecTools style), e.g. ``NDCG(k=10)``, with
``calc_per_user(ctx) -> (n,)`` and ``calc(ctx) -> float`` (the mean over evaluated users), or
only ``calc`` for catalogue-level metrics. ``ctx`` is an ``EvalContext``: it computes the shared
intermediates (the ``(n, k)`` hit matrix, relevant counts, exposure counts, train popularity)
once and caches them, so the facade ``evaluate_lists`` computes all metrics in a few ms.

Conventions
-----------
- ``truth``: CSR ``(n_users, n_items)`` indexed by internal user index; every stored non-zero
  entry is a relevant item (binary relevance).
- Lists come as a ``TopK``: ``items`` ``(n, k)`` with ``-1`` padding. Lists shorter than ``k``
  are padded; precision still divides by ``k``.
- Users with no relevant item get NaN for accuracy metrics (and serendipity) and are left out
  of those means; they still count for coverage, exposure, novelty, diversity and
  personalisation, which do not need a truth.
- ``train``: CSR ``(n_users, n_items)`` of the training part; it defines item popularity
  ``pop_i`` (number of train users with item ``i``) and user activity.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recsys.evaluation.segments import SegmentRule
from recsys.ranking.topk import TopK

#: Metric key -> (label, higher is better?, one-line description) for the UI and reports.
METRIC_INFO: dict[str, tuple[str, bool | None, str]] = {
    "precision": ("Precision", True, "share of the k slots that hold a relevant item"),
    "recall": ("Recall", True, "share of the user's relevant items found in the list"),
    "f1": ("F1", True, "harmonic mean of precision and recall"),
    "ndcg": ("NDCG", True, "rank-weighted hits, 1 = all relevant items on top"),
    "map": ("MAP", True, "mean average precision"),
    "mrr": ("MRR", True, "1 / rank of the first relevant item"),
    "hit_rate": ("Hit rate", True, "share of users with at least one relevant item"),
    "coverage": ("Catalog coverage", True, "share of the catalog recommended to anyone"),
    "distributional_coverage": ("Exposure spread", True, "normalised entropy of item exposure"),
    "gini": ("Gini of exposure", False, "0 = every item shown equally, 1 = one item everywhere"),
    "novelty": ("Novelty", True, "mean self-information (bits) of recommended items"),
    "diversity": ("Diversity", True, "mean pairwise dissimilarity inside a list"),
    "personalization": ("Personalisation", True, "1 - mean overlap between two users' lists"),
    "avg_popularity": ("Avg. popularity", None, "mean number of train users of recommended items"),
    "serendipity": ("Serendipity", True, "relevant items a popularity list would not show"),
    "rmse": ("RMSE", False, "root mean squared rating error"),
    "mae": ("MAE", False, "mean absolute rating error"),
}


def metric_base(key: str) -> str:
    """``"ndcg@10"`` -> ``"ndcg"``."""
    return key.split("@", 1)[0]


def higher_is_better(key: str) -> bool | None:
    """Direction of a metric key (``None`` when it is a matter of taste, e.g. popularity)."""
    info = METRIC_INFO.get(metric_base(key))
    return None if info is None else info[1]


# ============================================================================ context
class EvalContext:
    """Shared intermediates for a set of ranked lists; every property is computed once.

    Parameters
    ----------
    topk : lists for ``n`` users; truncated or ``-1``-padded to ``k`` columns.
    truth : CSR ``(n_users, n_items)``; rows indexed by internal user index.
    k : list length.
    train : CSR ``(n_users, n_items)`` of the training part (popularity, activity, history).
    item_vectors : ``(n_items, d)`` content vectors (normalised here), for diversity.
    item_category : ``(n_items,)`` category labels, or int codes (negative = unknown).
    category_names : labels of the int codes (for the category mix).
    """

    def __init__(
        self,
        topk: TopK,
        truth: sp.spmatrix,
        k: int,
        train: sp.spmatrix | None = None,
        item_vectors: np.ndarray | None = None,
        item_category: np.ndarray | None = None,
        category_names: list[str] | tuple[str, ...] | None = None,
    ) -> None:
        if k <= 0:
            raise ValueError("k must be positive")
        self.k = int(k)
        self.users = np.asarray(topk.users, dtype=np.int64)
        items = np.asarray(topk.items)
        n = len(self.users)
        items = items.reshape(n, -1)
        if items.shape[1] >= k:
            items = items[:, :k]
        else:
            items = np.hstack([items, np.full((n, k - items.shape[1]), -1, items.dtype)])
        self.items = items.astype(np.int64)
        self.valid = self.items >= 0
        truth = sp.csr_matrix(truth)
        self.n_items = truth.shape[1]
        if n and self.users.max() >= truth.shape[0]:
            raise ValueError("truth has fewer rows than the largest user index in the lists")
        self._truth_full = truth
        self._train_full = None if train is None else sp.csr_matrix(train)
        self.item_vectors = item_vectors
        self.item_category = item_category
        self.category_names = category_names

    # ------------------------------------------------------------------ truth / hits
    @cached_property
    def truth(self) -> sp.csr_matrix:
        """CSR ``(n, n_items)`` of relevant items, rows aligned with the lists, sorted indices."""
        sub = self._truth_full[self.users]
        sub = sp.csr_matrix(sub, copy=True)
        sub.sum_duplicates()
        sub.eliminate_zeros()
        sub.sort_indices()
        return sub

    @cached_property
    def n_relevant(self) -> np.ndarray:
        """(n,) number of relevant items per user."""
        return np.diff(self.truth.indptr)

    @cached_property
    def evaluated(self) -> np.ndarray:
        """(n,) bool: users with at least one relevant item (the accuracy population)."""
        return self.n_relevant > 0

    @cached_property
    def hits(self) -> np.ndarray:
        """(n, k) bool: ``items[u, j]`` is relevant for ``u`` (one sorted-key search)."""
        return _csr_lookup(self.truth, self.items, self.valid)

    @cached_property
    def n_listed(self) -> np.ndarray:
        """(n,) number of non-padding items per list."""
        return self.valid.sum(axis=1)

    # ------------------------------------------------------------------ train side
    @cached_property
    def train(self) -> sp.csr_matrix:
        if self._train_full is None:
            raise ValueError("this metric needs the train matrix")
        return self._train_full

    @cached_property
    def item_popularity(self) -> np.ndarray:
        """(n_items,) number of train users who interacted with each item."""
        t = self.train
        return np.bincount(t.indices, minlength=self.n_items)[: self.n_items].astype(np.float64)

    @cached_property
    def n_train_users(self) -> int:
        """Users with at least one train pair (the denominator of novelty)."""
        return int((np.diff(self.train.indptr) > 0).sum())

    @cached_property
    def history(self) -> sp.csr_matrix:
        """CSR ``(n, n_items)``: the listed users' train rows, sorted indices."""
        sub = sp.csr_matrix(self.train[self.users], copy=True)
        sub.sum_duplicates()
        sub.sort_indices()
        return sub

    @cached_property
    def user_activity(self) -> np.ndarray:
        """(n,) train pairs of each listed user."""
        return np.diff(self.train.indptr)[self.users]

    def exposure(self, k: int | None = None) -> np.ndarray:
        """(n_items,) how many lists (cut at ``k``) contain each item."""
        k = self.k if k is None else k
        key = ("exposure", k)
        cache = self.__dict__.setdefault("_exposure", {})
        if key not in cache:
            it = self.items[:, :k]
            cache[key] = np.bincount(it[it >= 0], minlength=self.n_items)
        return cache[key]

    @cached_property
    def category_codes(self) -> np.ndarray | None:
        """(n_items,) int codes of ``item_category``; unknown values share code -1.

        Integer input is taken as codes (negative = unknown, labels from ``category_names``);
        anything else is factorised (NaN / None = unknown).
        """
        if self.item_category is None:
            return None
        arr = np.asarray(self.item_category)
        if arr.dtype.kind in "iu":
            codes = arr.astype(np.int64)
            codes[codes < 0] = -1
            n = int(codes.max()) + 1 if len(codes) else 0
            names = list(self.category_names or ())
            labels = names[:n] + [str(i) for i in range(len(names), n)]
        else:
            codes, uniques = pd.factorize(pd.Series(arr.astype(object)))
            labels = [str(u) for u in uniques]
        self.__dict__["category_labels"] = np.asarray(labels, dtype=object)
        return np.asarray(codes, dtype=np.int64)

    @cached_property
    def unit_vectors(self) -> np.ndarray | None:
        """(n_items, d) float32 content vectors scaled to unit length (zero rows stay zero)."""
        if self.item_vectors is None:
            return None
        v = self.item_vectors
        if sp.issparse(v):
            v = v.toarray()
        v = np.asarray(v, dtype=np.float32)
        norms = np.linalg.norm(v, axis=1, keepdims=True)
        return np.divide(v, norms, out=np.zeros_like(v), where=norms > 0)


def _csr_lookup(matrix: sp.csr_matrix, items: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """(n, k) bool: ``items[r, j]`` is a stored column of row ``r`` of ``matrix`` (sorted indices)."""
    n, k = items.shape
    if matrix.nnz == 0 or n == 0:
        return np.zeros((n, k), dtype=bool)
    width = np.int64(matrix.shape[1])
    rows = np.repeat(np.arange(n, dtype=np.int64), np.diff(matrix.indptr))
    keys = rows * width + matrix.indices.astype(np.int64)  # globally sorted
    query = np.arange(n, dtype=np.int64)[:, None] * width + np.where(valid, items, 0)
    pos = np.searchsorted(keys, query)
    pos = np.minimum(pos, len(keys) - 1)
    return (keys[pos] == query) & valid


def _mean(values: np.ndarray) -> float:
    """NaN-ignoring mean; NaN (no warning) when nothing is finite."""
    values = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(values)
    return float(values[finite].mean()) if finite.any() else float("nan")


# ============================================================================ accuracy
@dataclass(frozen=True)
class _AtK:
    """Base of per-user metrics at ``k``; ``calc`` = mean of finite per-user values."""

    k: int = 10

    @property
    def name(self) -> str:
        return f"{self.key}@{self.k}"

    key = "metric"

    def _hits(self, ctx: EvalContext) -> np.ndarray:
        if self.k > ctx.k:
            raise ValueError(f"{self.name} needs lists of at least {self.k} (context has {ctx.k})")
        return ctx.hits[:, : self.k]

    def calc_per_user(self, ctx: EvalContext) -> np.ndarray:
        raise NotImplementedError

    def calc(self, ctx: EvalContext) -> float:
        return _mean(self.calc_per_user(ctx))


def _masked(values: np.ndarray, ctx: EvalContext) -> np.ndarray:
    return np.where(ctx.evaluated, values, np.nan)


@dataclass(frozen=True)
class Precision(_AtK):
    """Precision@k = |L_u ∩ R_u| / k (``k`` even when the list is shorter).

    Example: list [a, b, c], relevant {a, c}, k=3 -> 2/3.
    """

    key = "precision"

    def calc_per_user(self, ctx: EvalContext) -> np.ndarray:
        return _masked(self._hits(ctx).sum(axis=1) / self.k, ctx)


@dataclass(frozen=True)
class Recall(_AtK):
    """Recall@k = |L_u ∩ R_u| / |R_u|.  Example: list [a, b], relevant {a, z, y} -> 1/3."""

    key = "recall"

    def calc_per_user(self, ctx: EvalContext) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return _masked(self._hits(ctx).sum(axis=1) / ctx.n_relevant, ctx)


@dataclass(frozen=True)
class F1(_AtK):
    """F1@k = 2 P R / (P + R), 0 when both are 0."""

    key = "f1"

    def calc_per_user(self, ctx: EvalContext) -> np.ndarray:
        p = Precision(self.k).calc_per_user(ctx)
        r = Recall(self.k).calc_per_user(ctx)
        with np.errstate(divide="ignore", invalid="ignore"):
            f = np.where(p + r > 0, 2 * p * r / (p + r), 0.0)
        return _masked(f, ctx)


def _discounts(k: int) -> np.ndarray:
    return 1.0 / np.log2(np.arange(2, k + 2))


@dataclass(frozen=True)
class NDCG(_AtK):
    """NDCG@k with binary relevance and log2 discount (Järvelin & Kekäläinen 2002).

    DCG = sum_j rel_j / log2(j + 1) over positions j = 1..k; IDCG = the DCG of
    ``min(|R_u|, k)`` hits on top. Example: list [x, a], relevant {a}: (1/log2 3) / 1 = 0.631.
    """

    key = "ndcg"

    def calc_per_user(self, ctx: EvalContext) -> np.ndarray:
        disc = _discounts(self.k)
        dcg = self._hits(ctx) @ disc
        ideal = np.concatenate([[0.0], np.cumsum(disc)])[np.minimum(ctx.n_relevant, self.k)]
        with np.errstate(divide="ignore", invalid="ignore"):
            return _masked(dcg / ideal, ctx)


@dataclass(frozen=True)
class MAP(_AtK):
    """MAP@k: mean over users of AP@k = sum_j rel_j * Precision@j / min(|R_u|, k).

    Normalising by ``min(|R_u|, k)`` makes a perfect list score 1 when the user has more than
    k relevant items. Example: list [a, x, b], relevant {a, b}: (1/1 + 2/3) / 2 = 0.833.
    """

    key = "map"

    def calc_per_user(self, ctx: EvalContext) -> np.ndarray:
        hits = self._hits(ctx)
        prec_at = np.cumsum(hits, axis=1) / np.arange(1, self.k + 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            ap = (prec_at * hits).sum(axis=1) / np.minimum(ctx.n_relevant, self.k)
        return _masked(ap, ctx)


@dataclass(frozen=True)
class MRR(_AtK):
    """MRR@k: 1 / rank of the first relevant item in the top k (0 if none)."""

    key = "mrr"

    def calc_per_user(self, ctx: EvalContext) -> np.ndarray:
        hits = self._hits(ctx)
        first = hits.argmax(axis=1)
        rr = np.where(hits.any(axis=1), 1.0 / (first + 1), 0.0)
        return _masked(rr, ctx)


@dataclass(frozen=True)
class HitRate(_AtK):
    """HitRate@k: 1 if the top k holds at least one relevant item, else 0."""

    key = "hit_rate"

    def calc_per_user(self, ctx: EvalContext) -> np.ndarray:
        return _masked(self._hits(ctx).any(axis=1).astype(np.float64), ctx)


# ============================================================================ beyond accuracy
@dataclass(frozen=True)
class Novelty(_AtK):
    """Mean self-information of the recommended items (Zhou et al. 2010; Vargas & Castells 2011).

    novelty_u = mean_{i in L_u} -log2(pop_i / |U_train|), with ``pop_i`` the number of train
    users of ``i`` (floored at 1, so an item nobody has bought counts as bought once) and
    ``|U_train|`` the users with any train pair. NaN for an empty list.
    """

    key = "novelty"

    def calc_per_user(self, ctx: EvalContext) -> np.ndarray:
        pop = np.maximum(ctx.item_popularity, 1.0)
        info = -np.log2(pop / max(ctx.n_train_users, 1))
        items = ctx.items[:, : self.k]
        valid = items >= 0
        total = np.where(valid, info[np.where(valid, items, 0)], 0.0).sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            return total / valid.sum(axis=1)


@dataclass(frozen=True)
class AvgPopularity(_AtK):
    """Average recommendation popularity, ARP (Abdollahpouri et al. 2019).

    arp_u = mean_{i in L_u} pop_i (train users of the item). NaN for an empty list.
    """

    key = "avg_popularity"

    def calc_per_user(self, ctx: EvalContext) -> np.ndarray:
        items = ctx.items[:, : self.k]
        valid = items >= 0
        total = np.where(valid, ctx.item_popularity[np.where(valid, items, 0)], 0.0).sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            return total / valid.sum(axis=1)


@dataclass(frozen=True)
class Diversity(_AtK):
    """Intra-list diversity (Ziegler et al. 2005): mean pairwise distance inside a list.

    With content vectors: ILD_u = 1 - (2 / (m (m - 1))) * sum_{a<b} cos(v_a, v_b) over the
    ``m`` listed items. Computed without the k x k matrix, from
    ``sum_{a<b} v_a . v_b = (|sum_a v_a|^2 - sum_a |v_a|^2) / 2`` for unit vectors: O(n k d).
    Without vectors, with categories: the distance is 1 when categories differ, so
    ILD_u = 1 - sum_c m_c (m_c - 1) / (m (m - 1)) (unbiased Gini-Simpson). NaN when m < 2 or
    neither vectors nor categories are given.
    """

    key = "diversity"
    block: int = 8192

    def calc_per_user(self, ctx: EvalContext) -> np.ndarray:
        items = ctx.items[:, : self.k]
        valid = items >= 0
        m = valid.sum(axis=1).astype(np.float64)
        pairs = m * (m - 1) / 2
        if ctx.unit_vectors is not None:
            # one extra zero row: padding (-1) gathers a zero vector
            v = np.vstack([ctx.unit_vectors, np.zeros((1, ctx.unit_vectors.shape[1]), np.float32)])
            sq_norm = np.einsum("nd,nd->n", v, v)
            out = np.empty(len(items))
            for start in range(0, len(items), self.block):  # bounds memory at block x k x d
                it = items[start : start + self.block]
                s = v[it].sum(axis=1, dtype=np.float64)  # (b, d)
                out[start : start + len(it)] = (
                    np.einsum("nd,nd->n", s, s) - sq_norm[it].sum(axis=1)
                ) / 2
            with np.errstate(divide="ignore", invalid="ignore"):
                return np.where(m >= 2, 1.0 - out / pairs, np.nan)
        if ctx.category_codes is not None:
            return CategoryDiversity(self.k).calc_per_user(ctx)
        return np.full(len(items), np.nan)


@dataclass(frozen=True)
class CategoryDiversity(_AtK):
    """Probability that two distinct items of a list differ in category (1 - unbiased Simpson).

    cd_u = 1 - sum_c m_c (m_c - 1) / (m (m - 1)); unknown categories count as one category.
    """

    key = "category_diversity"

    def calc_per_user(self, ctx: EvalContext) -> np.ndarray:
        items = ctx.items[:, : self.k]
        valid = items >= 0
        if ctx.category_codes is None:
            return np.full(len(items), np.nan)
        codes = np.where(valid, ctx.category_codes[np.where(valid, items, 0)], -2)
        same = (codes[:, :, None] == codes[:, None, :]) & valid[:, :, None] & valid[:, None, :]
        m = valid.sum(axis=1).astype(np.float64)
        same_pairs = same.sum(axis=(1, 2)) - m  # ordered pairs a != b with the same category
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(m >= 2, 1.0 - same_pairs / (m * (m - 1)), np.nan)


@dataclass(frozen=True)
class Serendipity(_AtK):
    """Serendipity after Ge, Delgado-Battenfeld & Jannach (2010).

    ser_u = |{i in L_u : i relevant and i not in PM_u}| / k, where the primitive model PM_u is
    the popularity baseline's top k for u: the k most popular train items that u has not had
    (ties by item index). It counts the hits a plain best-seller list would not have given.
    NaN for users with no relevant item.
    """

    key = "serendipity"

    def calc_per_user(self, ctx: EvalContext) -> np.ndarray:
        hits = self._hits(ctx)
        items = ctx.items[:, : self.k]
        pop = ctx.item_popularity
        order = np.lexsort((np.arange(len(pop)), -pop))  # most popular first
        grank = np.empty(len(pop), dtype=np.int64)
        grank[order] = np.arange(len(pop))
        # only hit slots matter: look them up in the history of users that have a hit
        hit_rows, hit_cols = np.nonzero(hits)
        rows_with_hits, local = np.unique(hit_rows, return_inverse=True)
        seen = ctx.history[rows_with_hits]
        width = np.int64(len(pop))
        seen_rows = np.repeat(np.arange(len(rows_with_hits), dtype=np.int64), np.diff(seen.indptr))
        keys = np.sort(seen_rows * width + grank[seen.indices])
        hit_items = items[hit_rows, hit_cols]
        r = grank[hit_items]
        query = local.astype(np.int64) * width + r
        pos = np.searchsorted(keys, query)
        seen_before = pos - seen.indptr[local]  # seen items more popular than this one
        is_seen = np.zeros(len(query), dtype=bool)
        if len(keys):
            is_seen = keys[np.minimum(pos, len(keys) - 1)] == query
        in_pm = (r - seen_before < self.k) & ~is_seen
        surprising = np.bincount(hit_rows, weights=(~in_pm).astype(float), minlength=len(items))
        return _masked(surprising / self.k, ctx)


# ---------------------------------------------------------------------------- catalogue level
@dataclass(frozen=True)
class Coverage:
    """Catalog coverage = |union_u L_u| / n_items (Ge et al. 2010), over all listed users."""

    k: int = 10
    key = "coverage"

    def calc(self, ctx: EvalContext) -> float:
        return float((ctx.exposure(self.k) > 0).sum() / max(ctx.n_items, 1))


@dataclass(frozen=True)
class DistributionalCoverage:
    """Normalised Shannon entropy of exposure: H(p) / log(n_items), p_i = c_i / sum c.

    ``c_i`` = lists containing item i. 1 = every catalog item shown equally often, 0 = a single
    item shown. Normalising by the catalog size (not the number of shown items) makes a
    narrower assortment score lower. (Shani & Gunawardana 2011.)
    """

    k: int = 10
    key = "distributional_coverage"

    def calc(self, ctx: EvalContext) -> float:
        c = ctx.exposure(self.k).astype(np.float64)
        total = c.sum()
        if total == 0 or ctx.n_items < 2:
            return float("nan")
        p = c[c > 0] / total
        return float(-(p * np.log(p)).sum() / np.log(ctx.n_items))


@dataclass(frozen=True)
class Gini:
    """Gini index of item exposure over the whole catalog.

    G = sum_i (2 i - n - 1) c_(i) / (n sum_i c_i), with c sorted ascending, i = 1..n_items.
    0 = equal exposure, close to 1 = a few items get every slot.
    """

    k: int = 10
    key = "gini"

    def calc(self, ctx: EvalContext) -> float:
        return gini_index(ctx.exposure(self.k))


def gini_index(counts: np.ndarray) -> float:
    """Gini index of ``counts`` (n,): ``sum_i (2 i - n - 1) c_(i) / (n sum c)``, c ascending.

    Equals 1 - 2 x the area under the Lorenz curve (``lorenz_curve``). NaN when all are zero.
    """
    c = np.sort(np.asarray(counts, dtype=np.float64))
    n, total = len(c), c.sum()
    if total == 0 or n == 0:
        return float("nan")
    i = np.arange(1, n + 1)
    return float(((2 * i - n - 1) * c).sum() / (n * total))


def lorenz_curve(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Lorenz curve of ``counts`` (n,): x = share of items (least exposed first), y = share of
    exposure they get; both (n + 1,) from 0 to 1. The diagonal when all counts are zero."""
    c = np.sort(np.asarray(counts, dtype=np.float64))
    total = c.sum()
    if total <= 0:
        return np.array([0.0, 1.0]), np.array([0.0, 1.0])
    y = np.concatenate([[0.0], np.cumsum(c) / total])
    return np.linspace(0.0, 1.0, len(y)), y


@dataclass(frozen=True)
class Personalization:
    """1 - mean overlap |L_u ∩ L_v| / k over all pairs of users with a non-empty list.

    Computed in O(n k) from exposure counts c_i: each item shared by c_i lists is in
    c_i (c_i - 1) / 2 pairs, so sum_{u<v} |L_u ∩ L_v| = sum_i c_i (c_i - 1) / 2 and
    mean overlap = sum_i c_i (c_i - 1) / (k n (n - 1)). (For full lists the overlap equals the
    cosine of the binary list vectors, the usual definition.) NaN with fewer than 2 users.
    """

    k: int = 10
    key = "personalization"

    def calc(self, ctx: EvalContext) -> float:
        n = int((ctx.items[:, : self.k] >= 0).any(axis=1).sum())
        if n < 2:
            return float("nan")
        c = ctx.exposure(self.k).astype(np.float64)
        return float(1.0 - (c * (c - 1)).sum() / (self.k * n * (n - 1)))


# ---------------------------------------------------------------------------- ratings
@dataclass(frozen=True)
class RMSE:
    """sqrt(mean((prediction - truth)^2)) over aligned finite pairs."""

    key = "rmse"

    def calc(self, predictions: np.ndarray, targets: np.ndarray) -> float:
        d = _rating_diff(predictions, targets)
        return float(np.sqrt(np.mean(d**2))) if len(d) else float("nan")


@dataclass(frozen=True)
class MAE:
    """mean(|prediction - truth|) over aligned finite pairs."""

    key = "mae"

    def calc(self, predictions: np.ndarray, targets: np.ndarray) -> float:
        d = _rating_diff(predictions, targets)
        return float(np.mean(np.abs(d))) if len(d) else float("nan")


def _rating_diff(predictions: np.ndarray, targets: np.ndarray) -> np.ndarray:
    p = np.asarray(predictions, dtype=np.float64).ravel()
    t = np.asarray(targets, dtype=np.float64).ravel()
    if p.shape != t.shape:
        raise ValueError("predictions and targets must have the same length")
    ok = np.isfinite(p) & np.isfinite(t)
    return p[ok] - t[ok]


# ============================================================================ facade
@dataclass
class MetricReport:
    """All metrics of one set of lists.

    Attributes
    ----------
    values : metric key -> value (``precision@K`` ... ``hit_rate@K``, ``coverage``,
        ``distributional_coverage``, ``gini``, ``novelty``, ``diversity``, ``personalization``,
        ``avg_popularity``, ``serendipity``, ``rmse``, ``mae``); ``rmse``/``mae`` are None
        without predictions.
    per_user : metric key -> (n,) values aligned with ``users`` (NaN where undefined).
    segments : one row per user segment (all, cold, regular, heavy).
    users : (n,) internal user indices of the evaluated lists.
    k : list length.
    extra : ``category_diversity``, new-item figures, ``category_divergence``, thresholds.
    category_mix : share of each category in recommendations vs the users' train histories.
    seconds : time spent.
    """

    values: dict[str, float | None]
    per_user: dict[str, np.ndarray]
    segments: pd.DataFrame
    users: np.ndarray
    k: int
    extra: dict[str, float] = field(default_factory=dict)
    category_mix: pd.DataFrame | None = None
    seconds: float = 0.0

    def table(self) -> pd.DataFrame:
        """Values as a two-column frame (metric, value)."""
        return pd.DataFrame({"metric": list(self.values), "value": list(self.values.values())})


def accuracy_metrics(k: int) -> list[_AtK]:
    """The accuracy metrics reported at ``k``."""
    return [Precision(k), Recall(k), F1(k), NDCG(k), MAP(k), MRR(k), HitRate(k)]


def evaluate_lists(
    topk: TopK,
    truth: sp.spmatrix,
    *,
    k: int,
    train: sp.spmatrix,
    item_vectors: np.ndarray | None = None,
    item_category: np.ndarray | None = None,
    user_ids: np.ndarray | None = None,
    predictions: np.ndarray | None = None,
    targets: np.ndarray | None = None,
    item_table: object | None = None,
    category_names: list[str] | tuple[str, ...] | None = None,
    segment_rule: SegmentRule | None = None,
) -> MetricReport:
    """Compute every metric for ``topk`` against held-out ``truth``.

    Parameters
    ----------
    topk : ranked lists (``-1`` padding allowed), e.g. ``RankedLists.topk``.
    truth : CSR ``(n_users, n_items)``, test pairs (any stored non-zero = relevant).
    k : cut-off; lists are truncated or padded to ``k``.
    train : CSR ``(n_users, n_items)`` of the training part.
    item_vectors : ``(n_items, d)`` content vectors for diversity (else categories are used).
    item_category : ``(n_items,)`` category per item, labels or int codes with -1 unknown
        (category mix, category diversity).
    category_names : labels of int category codes.
    user_ids : evaluate only these internal user indices (default: every row of ``topk``).
    predictions, targets : aligned rating predictions and true ratings for RMSE / MAE.
    item_table : an ``ItemTable``; its ``vectors``, ``category`` and ``category_names`` fill the
        arguments above when they are unset.
    segment_rule : how users are segmented (``recsys.evaluation.segments``); default: the rule
        of ``train``'s activity.

    Returns
    -------
    MetricReport.
    """
    start = time.perf_counter()
    if item_table is not None:
        if item_vectors is None:
            for attr in ("vectors", "content_vectors", "content"):
                if getattr(item_table, attr, None) is not None:
                    item_vectors = getattr(item_table, attr)
                    break
        if item_category is None:
            item_category = getattr(item_table, "category", None)
        if category_names is None:
            category_names = getattr(item_table, "category_names", None)
    if user_ids is not None:
        keep = np.isin(topk.users, np.asarray(user_ids))
        topk = TopK(topk.users[keep], topk.items[keep], topk.scores[keep])
    ctx = EvalContext(topk, truth, k, train, item_vectors, item_category, category_names)

    values: dict[str, float | None] = {}
    per_user: dict[str, np.ndarray] = {}
    for metric in accuracy_metrics(k):
        per = metric.calc_per_user(ctx)
        per_user[metric.name] = per
        values[metric.name] = _mean(per)
    for metric in (Coverage(k), DistributionalCoverage(k), Gini(k)):
        values[metric.key] = metric.calc(ctx)
    for metric in (Novelty(k), Diversity(k)):
        per_user[metric.key] = metric.calc_per_user(ctx)
        values[metric.key] = _mean(per_user[metric.key])
    values["personalization"] = Personalization(k).calc(ctx)
    per_user["avg_popularity"] = AvgPopularity(k).calc_per_user(ctx)
    values["avg_popularity"] = _mean(per_user["avg_popularity"])
    per_user["serendipity"] = Serendipity(k).calc_per_user(ctx)
    values["serendipity"] = _mean(per_user["serendipity"])
    if predictions is not None and targets is not None:
        values["rmse"] = RMSE().calc(predictions, targets)
        values["mae"] = MAE().calc(predictions, targets)
    else:
        values["rmse"] = values["mae"] = None

    extra: dict[str, float] = {
        "n_users": float(len(ctx.users)),
        "n_evaluated": float(ctx.evaluated.sum()),
    }
    category_mix = None
    if ctx.category_codes is not None:
        per_user["category_diversity"] = CategoryDiversity(k).calc_per_user(ctx)
        extra["category_diversity"] = _mean(per_user["category_diversity"])
        category_mix, extra["category_divergence"] = _category_mix(ctx)
    extra.update(_new_item_stats(ctx))
    rule = segment_rule or SegmentRule.from_activity(np.diff(ctx.train.indptr))
    segments = _segments(ctx, per_user, rule)
    extra["cold_threshold"] = float(rule.cold_below)
    extra["heavy_threshold"] = rule.heavy_from
    return MetricReport(
        values=values,
        per_user=per_user,
        segments=segments,
        users=ctx.users.astype(np.int32),
        k=int(k),
        extra=extra,
        category_mix=category_mix,
        seconds=time.perf_counter() - start,
    )


def _new_item_stats(ctx: EvalContext) -> dict[str, float]:
    """Items with no train pair: how often they are recommended and hit."""
    new = ctx.item_popularity == 0
    valid = ctx.valid
    slot_new = np.zeros_like(valid)
    slot_new[valid] = new[ctx.items[valid]]
    n_slots = max(int(valid.sum()), 1)
    new_slots = int(slot_new.sum())
    new_hits = int((slot_new & ctx.hits).sum())
    return {
        "new_items": float(new.sum()),
        "new_items_recommended": float((new & (ctx.exposure() > 0)).sum()),
        "new_item_slot_share": new_slots / n_slots,
        "new_item_user_share": float(slot_new.any(axis=1).mean()) if len(valid) else float("nan"),
        "new_item_hits": float(new_hits),
        "new_item_precision": new_hits / new_slots if new_slots else float("nan"),
    }


def _category_mix(ctx: EvalContext) -> tuple[pd.DataFrame, float]:
    """Share of each category in recommendations vs the listed users' train histories.

    The divergence is the Jensen-Shannon divergence (base 2, in [0, 1]) of the two shares.
    """
    codes = ctx.category_codes
    labels = ctx.__dict__["category_labels"]
    n_cat = len(labels) + 1  # last slot: unknown (-1)
    rec = codes[ctx.items[ctx.valid]]
    rec_counts = np.bincount(np.where(rec < 0, n_cat - 1, rec), minlength=n_cat).astype(float)
    hist_items = ctx.history.indices
    hist = codes[hist_items]
    hist_counts = np.bincount(np.where(hist < 0, n_cat - 1, hist), minlength=n_cat).astype(float)
    p = rec_counts / max(rec_counts.sum(), 1)
    q = hist_counts / max(hist_counts.sum(), 1)
    frame = pd.DataFrame(
        {
            "category": [*map(str, labels), "(unknown)"],
            "recommended_share": p,
            "history_share": q,
        }
    )
    frame["difference"] = frame["recommended_share"] - frame["history_share"]
    frame = frame[(frame["recommended_share"] > 0) | (frame["history_share"] > 0)]
    frame = frame.sort_values("recommended_share", ascending=False, ignore_index=True)
    if rec_counts.sum() == 0 or hist_counts.sum() == 0:
        return frame, float("nan")
    mid = (p + q) / 2

    def _kl(a: np.ndarray, b: np.ndarray) -> float:
        ok = a > 0
        return float((a[ok] * np.log2(a[ok] / b[ok])).sum())

    return frame, 0.5 * _kl(p, mid) + 0.5 * _kl(q, mid)


def _segments(ctx: EvalContext, per_user: dict[str, np.ndarray], rule: SegmentRule) -> pd.DataFrame:
    """One row per user segment (``all`` first; ``new`` only when there are new users)."""
    labels = rule.labels(ctx.user_activity)
    k = ctx.k
    cols = [
        f"precision@{k}",
        f"recall@{k}",
        f"ndcg@{k}",
        f"hit_rate@{k}",
        "novelty",
        "avg_popularity",
    ]
    rules = {"all": "every listed user", **rule.describe()}
    if not (labels == "new").any():
        rules.pop("new")
    rows = []
    for name, text in rules.items():
        mask = np.ones(len(labels), bool) if name == "all" else (labels == name)
        row = {
            "segment": name,
            "rule": text,
            "n_users": int(mask.sum()),
            "n_evaluated": int((ctx.evaluated & mask).sum()),
        }
        for c in cols:
            row[c] = _mean(per_user[c][mask])
        it = ctx.items[mask]
        shown = np.bincount(it[it >= 0], minlength=ctx.n_items)
        row["coverage"] = float((shown > 0).sum() / max(ctx.n_items, 1))
        rows.append(row)
    return pd.DataFrame(rows)
