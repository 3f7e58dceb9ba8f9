"""Beyond-accuracy metrics.

Novelty, popularity, diversity, serendipity, coverage, exposure, Gini, personalisation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from recsys.evaluation.metrics.accuracy import AtK, masked_to_evaluated
from recsys.evaluation.metrics.context import EvalContext


@dataclass(frozen=True)
class Novelty(AtK):
    """Mean self-information of the recommended items (Zhou et al. 2010; Vargas & Castells 2011).

    novelty_u = mean_{i in L_u} -log2(pop_i / |U_train|), with ``pop_i`` the number of train
    users of ``i`` (floored at 1, so an item nobody has bought counts as bought once) and
    ``|U_train|`` the users with any train pair. NaN for an empty list.
    """

    key = "novelty"

    def calc_per_user(self, ctx: EvalContext) -> np.ndarray:
        """(n,) mean self-information of each list, in bits; NaN for an empty list."""
        pop = np.maximum(ctx.item_popularity, 1.0)
        info = -np.log2(pop / max(ctx.n_train_users, 1))
        items = ctx.items[:, : self.k]
        valid = items >= 0
        total = np.where(valid, info[np.where(valid, items, 0)], 0.0).sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            return total / valid.sum(axis=1)


@dataclass(frozen=True)
class AvgPopularity(AtK):
    """Average recommendation popularity, ARP (Abdollahpouri et al. 2019).

    arp_u = mean_{i in L_u} pop_i (train users of the item). NaN for an empty list.
    """

    key = "avg_popularity"

    def calc_per_user(self, ctx: EvalContext) -> np.ndarray:
        """(n,) mean number of train users of each list's items; NaN for an empty list."""
        items = ctx.items[:, : self.k]
        valid = items >= 0
        total = np.where(valid, ctx.item_popularity[np.where(valid, items, 0)], 0.0).sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            return total / valid.sum(axis=1)


@dataclass(frozen=True)
class Diversity(AtK):
    """Content diversity, intra-list (Ziegler et al. 2005): mean pairwise distance inside a list.

    ILD_u = 1 - (2 / (m (m - 1))) * sum_{a<b} cos(v_a, v_b) over the ``m`` listed items, with
    the items' content vectors (text and attributes). Computed without the k x k matrix, from
    ``sum_{a<b} v_a . v_b = (|sum_a v_a|^2 - sum_a |v_a|^2) / 2`` for unit vectors: O(n k d).
    NaN when m < 2 or there are no vectors. Category and brand diversity are separate metrics
    (``CategoryDiversity``, ``BrandDiversity``): a list of ten cases of one brand can be
    diverse in content and not at all in brand.
    """

    key = "diversity"
    block: int = 8192

    def calc_per_user(self, ctx: EvalContext) -> np.ndarray:
        """(n,) intra-list diversity per user; NaN for lists shorter than 2."""
        items = ctx.items[:, : self.k]
        valid = items >= 0
        m = valid.sum(axis=1).astype(np.float64)
        pairs = m * (m - 1) / 2
        if ctx.unit_vectors is None:
            return np.full(len(items), np.nan)
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


def label_diversity(items: np.ndarray, codes: np.ndarray | None) -> np.ndarray:
    """(n,) probability that two distinct items of a list differ in label (1 - unbiased Simpson).

    ``items`` (n, k) with -1 padding; ``codes`` (n_items,) int label codes, -1 unknown (unknown
    counts as one label). d_u = 1 - sum_c m_c (m_c - 1) / (m (m - 1)); NaN when m < 2, and
    everywhere when no item has a label (the data has no such column).
    """
    valid = items >= 0
    if codes is None or not (np.asarray(codes) >= 0).any():
        return np.full(len(items), np.nan)
    lab = np.where(valid, codes[np.where(valid, items, 0)], -2)
    same = (lab[:, :, None] == lab[:, None, :]) & valid[:, :, None] & valid[:, None, :]
    m = valid.sum(axis=1).astype(np.float64)
    same_pairs = same.sum(axis=(1, 2)) - m  # ordered pairs a != b with the same label
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(m >= 2, 1.0 - same_pairs / (m * (m - 1)), np.nan)


def set_diversity(items: np.ndarray, sets: sp.spmatrix) -> np.ndarray:
    """(n,) ``label_diversity`` for multi-valued labels: 1 - mean overlap of two distinct items.

    ``sets`` (n_items, n_labels), non-zero where an item has a label. The overlap of two items
    is the cosine of their label sets, |A ∩ B| / sqrt(|A| |B|): 1 for equal sets, 0 for
    disjoint ones, and for single labels exactly "same label" (``label_diversity``). Items
    without a label count as one "unknown" label. Summed per list through one sparse product.
    """
    n, k = items.shape
    valid = items >= 0
    ones = (sp.csr_matrix(sets) != 0).astype(np.float64)
    count = np.asarray(ones.sum(axis=1)).ravel()
    unit = sp.diags(np.where(count > 0, 1.0 / np.sqrt(np.maximum(count, 1)), 0.0)) @ ones
    unit = sp.hstack([unit, sp.csr_matrix((count == 0).astype(np.float64)[:, None])]).tocsr()
    rows = np.repeat(np.arange(n), k)[valid.ravel()]
    lists = sp.csr_matrix((np.ones(len(rows)), (rows, items[valid])), shape=(n, sets.shape[0]))
    summed = lists @ unit  # (n, n_labels + 1): each list's sum of unit label vectors
    same = np.asarray(summed.multiply(summed).sum(axis=1)).ravel()
    m = valid.sum(axis=1).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(m >= 2, 1.0 - (same - m) / (m * (m - 1)), np.nan)


@dataclass(frozen=True)
class CategoryDiversity(AtK):
    """Category diversity: probability that two distinct items of a list differ in category.

    cd_u = 1 - sum_c m_c (m_c - 1) / (m (m - 1)); unknown categories count as one category.
    """

    key = "category_diversity"

    def calc_per_user(self, ctx: EvalContext) -> np.ndarray:
        """(n,) chance that two items of a list differ in category; NaN below 2 items.

        All NaN when the catalog has no categories.
        """
        if getattr(ctx, "category_sets", None) is not None:  # multi-valued: every value
            return set_diversity(ctx.items[:, : self.k], ctx.category_sets)
        return label_diversity(ctx.items[:, : self.k], ctx.category_codes)


@dataclass(frozen=True)
class BrandDiversity(AtK):
    """Brand diversity: probability that two distinct items of a list differ in brand."""

    key = "brand_diversity"

    def calc_per_user(self, ctx: EvalContext) -> np.ndarray:
        """(n,) chance that two items of a list differ in brand; NaN below 2 items."""
        return label_diversity(ctx.items[:, : self.k], ctx.brand_codes)


@dataclass(frozen=True)
class Serendipity(AtK):
    """Serendipity after Ge, Delgado-Battenfeld & Jannach (2010).

    ser_u = |{i in L_u : i relevant and i not in PM_u}| / k, where the primitive model PM_u is
    the popularity baseline's top k for u: the k most popular train items that u has not had
    (ties by item index). It counts the hits a plain best-seller list would not have given.
    NaN for users with no relevant item.
    """

    key = "serendipity"

    def calc_per_user(self, ctx: EvalContext) -> np.ndarray:
        """(n,) share of the k slots holding a hit a best-seller list would not give.

        NaN for users not evaluated.
        """
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
        return masked_to_evaluated(surprising / self.k, ctx)


# ---------------------------------------------------------------------------- catalogue level
# Each catalogue-level metric is a function of the exposure counts ``c_i`` (lists holding item
# i) and the number of non-empty lists. ``from_exposure`` takes a batch of them, one row per
# resample of the users (``recsys.evaluation.offline_ab`` bootstraps the difference of two
# configurations with it); ``calc`` is the batch of one.
def list_count(ctx: EvalContext, k: int) -> int:
    """Number of non-empty lists (cut at ``k``)."""
    return int((ctx.items[:, :k] >= 0).any(axis=1).sum())


@dataclass(frozen=True)
class Coverage:
    """Catalog coverage = |union_u L_u| / n_items (Ge et al. 2010), over all listed users."""

    k: int = 10
    key = "coverage"

    def calc(self, ctx: EvalContext) -> float:
        """Share of the catalog in at least one list."""
        exposure = ctx.exposure(self.k)[None]
        return float(self.from_exposure(exposure, np.array([list_count(ctx, self.k)]))[0])

    def from_exposure(self, counts: np.ndarray, n_lists: np.ndarray) -> np.ndarray:
        """(R,) coverage of ``counts`` (R, n_items); ``n_lists`` (R,) is not needed."""
        return (counts > 0).sum(axis=1) / max(counts.shape[1], 1)


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
        """Normalised entropy of item exposure, 0 (one item) to 1 (uniform)."""
        exposure = ctx.exposure(self.k)[None]
        return float(self.from_exposure(exposure, np.array([list_count(ctx, self.k)]))[0])

    def from_exposure(self, counts: np.ndarray, n_lists: np.ndarray) -> np.ndarray:
        """(R,) normalised entropy of each row of ``counts`` (R, n_items); NaN for empty rows."""
        c = np.asarray(counts, dtype=np.float64)
        n_items = c.shape[1]
        total = c.sum(axis=1, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            p = c / total
            h = -np.where(c > 0, p * np.log(np.where(c > 0, p, 1.0)), 0.0).sum(axis=1)
        if n_items < 2:
            return np.full(len(c), np.nan)
        return np.where(total[:, 0] > 0, h / np.log(n_items), np.nan)


@dataclass(frozen=True)
class Gini:
    """Gini index of item exposure over the whole catalog.

    G = sum_i (2 i - n - 1) c_(i) / (n sum_i c_i), with c sorted ascending, i = 1..n_items.
    0 = equal exposure, close to 1 = a few items get every slot.
    """

    k: int = 10
    key = "gini"

    def calc(self, ctx: EvalContext) -> float:
        """Gini index of item exposure, 0 (equal) to 1 (one item takes all)."""
        return gini_index(ctx.exposure(self.k))

    def from_exposure(self, counts: np.ndarray, n_lists: np.ndarray) -> np.ndarray:
        """(R,) Gini index of each row of ``counts`` (R, n_items)."""
        return gini_rows(counts)


def gini_rows(counts: np.ndarray) -> np.ndarray:
    """(R,) Gini index of each row of ``counts`` (R, n); NaN for rows that are all zero."""
    c = np.sort(np.asarray(counts, dtype=np.float64), axis=1)
    n = c.shape[1]
    total = c.sum(axis=1)
    i = np.arange(1, n + 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        g = ((2 * i - n - 1) * c).sum(axis=1) / (n * total)
    return np.where((total > 0) & (n > 0), g, np.nan)


def gini_index(counts: np.ndarray) -> float:
    """Gini index of ``counts`` (n,): ``sum_i (2 i - n - 1) c_(i) / (n sum c)``, c ascending.

    Equals 1 - 2 x the area under the Lorenz curve (``lorenz_curve``). NaN when all are zero.
    """
    c = np.asarray(counts, dtype=np.float64).reshape(1, -1)
    return float(gini_rows(c)[0]) if c.size else float("nan")


def lorenz_curve(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Lorenz curve of ``counts`` (n,): ``(x, y)``, both (n + 1,) from 0 to 1.

    x = share of items (least exposed first), y = share of exposure they get. The diagonal
    when all counts are zero.
    """
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
        """1 - mean pairwise list overlap; NaN with fewer than two lists."""
        exposure = ctx.exposure(self.k)[None]
        return float(self.from_exposure(exposure, np.array([list_count(ctx, self.k)]))[0])

    def from_exposure(self, counts: np.ndarray, n_lists: np.ndarray) -> np.ndarray:
        """(R,) personalisation of ``counts`` (R, n_items) over ``n_lists`` (R,) lists."""
        c = np.asarray(counts, dtype=np.float64)
        n = np.asarray(n_lists, dtype=np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = 1.0 - (c * (c - 1)).sum(axis=1) / (self.k * n * (n - 1))
        return np.where(n >= 2, out, np.nan)


def catalog_metrics(k: int) -> tuple[Coverage, DistributionalCoverage, Gini, Personalization]:
    """The catalogue-level metrics at cut-off ``k`` (one value per set of lists, no per-user)."""
    return (Coverage(k), DistributionalCoverage(k), Gini(k), Personalization(k))


# ---------------------------------------------------------------------------- ratings
