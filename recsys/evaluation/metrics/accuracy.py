"""Accuracy at k: precision, recall, F1, NDCG, MAP, MRR, hit rate (per user, then the mean)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from recsys.evaluation.metrics.context import EvalContext, nan_mean


@dataclass(frozen=True)
class AtK:
    """Base of per-user metrics at ``k``; ``calc`` = mean of finite per-user values."""

    k: int = 10

    @property
    def name(self) -> str:
        """Report key, e.g. ``ndcg@10``."""
        return f"{self.key}@{self.k}"

    key = "metric"

    def _hits(self, ctx: EvalContext) -> np.ndarray:
        if self.k > ctx.k:
            raise ValueError(f"{self.name} needs lists of at least {self.k} (context has {ctx.k})")
        return ctx.hits[:, : self.k]

    def calc_per_user(self, ctx: EvalContext) -> np.ndarray:
        """(n,) float64 value per listed user; NaN for users not evaluated."""
        raise NotImplementedError

    def calc(self, ctx: EvalContext) -> float:
        """Mean of the finite per-user values."""
        return nan_mean(self.calc_per_user(ctx))


def masked_to_evaluated(values: np.ndarray, ctx: EvalContext) -> np.ndarray:
    """``values`` (n,) with NaN for users who have no relevant item (left out of means)."""
    return np.where(ctx.evaluated, values, np.nan)


@dataclass(frozen=True)
class Precision(AtK):
    """Precision@k = |L_u ∩ R_u| / k (``k`` even when the list is shorter).

    Example: list [a, b, c], relevant {a, c}, k=3 -> 2/3.
    """

    key = "precision"

    def calc_per_user(self, ctx: EvalContext) -> np.ndarray:
        """(n,) precision@k per user; NaN for users not evaluated."""
        return masked_to_evaluated(self._hits(ctx).sum(axis=1) / self.k, ctx)


@dataclass(frozen=True)
class Recall(AtK):
    """Recall@k = |L_u ∩ R_u| / |R_u|.  Example: list [a, b], relevant {a, z, y} -> 1/3."""

    key = "recall"

    def calc_per_user(self, ctx: EvalContext) -> np.ndarray:
        """(n,) recall@k per user; NaN for users not evaluated."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return masked_to_evaluated(self._hits(ctx).sum(axis=1) / ctx.n_relevant, ctx)


@dataclass(frozen=True)
class F1(AtK):
    """F1@k = 2 P R / (P + R), 0 when both are 0."""

    key = "f1"

    def calc_per_user(self, ctx: EvalContext) -> np.ndarray:
        """(n,) F1@k per user; NaN for users not evaluated."""
        p = Precision(self.k).calc_per_user(ctx)
        r = Recall(self.k).calc_per_user(ctx)
        with np.errstate(divide="ignore", invalid="ignore"):
            f = np.where(p + r > 0, 2 * p * r / (p + r), 0.0)
        return masked_to_evaluated(f, ctx)


def _discounts(k: int) -> np.ndarray:
    return 1.0 / np.log2(np.arange(2, k + 2))


@dataclass(frozen=True)
class NDCG(AtK):
    """NDCG@k with binary relevance and log2 discount (Järvelin & Kekäläinen 2002).

    DCG = sum_j rel_j / log2(j + 1) over positions j = 1..k; IDCG = the DCG of
    ``min(|R_u|, k)`` hits on top. Example: list [x, a], relevant {a}: (1/log2 3) / 1 = 0.631.
    """

    key = "ndcg"

    def calc_per_user(self, ctx: EvalContext) -> np.ndarray:
        """(n,) NDCG@k per user; NaN for users not evaluated."""
        disc = _discounts(self.k)
        dcg = self._hits(ctx) @ disc
        ideal = np.concatenate([[0.0], np.cumsum(disc)])[np.minimum(ctx.n_relevant, self.k)]
        with np.errstate(divide="ignore", invalid="ignore"):
            return masked_to_evaluated(dcg / ideal, ctx)


@dataclass(frozen=True)
class MAP(AtK):
    """MAP@k: mean over users of AP@k = sum_j rel_j * Precision@j / min(|R_u|, k).

    Normalising by ``min(|R_u|, k)`` makes a perfect list score 1 when the user has more than
    k relevant items. Example: list [a, x, b], relevant {a, b}: (1/1 + 2/3) / 2 = 0.833.
    """

    key = "map"

    def calc_per_user(self, ctx: EvalContext) -> np.ndarray:
        """(n,) AP@k per user; NaN for users not evaluated."""
        hits = self._hits(ctx)
        prec_at = np.cumsum(hits, axis=1) / np.arange(1, self.k + 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            ap = (prec_at * hits).sum(axis=1) / np.minimum(ctx.n_relevant, self.k)
        return masked_to_evaluated(ap, ctx)


@dataclass(frozen=True)
class MRR(AtK):
    """MRR@k: 1 / rank of the first relevant item in the top k (0 if none)."""

    key = "mrr"

    def calc_per_user(self, ctx: EvalContext) -> np.ndarray:
        """(n,) reciprocal rank of the first hit per user; NaN for users not evaluated."""
        hits = self._hits(ctx)
        first = hits.argmax(axis=1)
        rr = np.where(hits.any(axis=1), 1.0 / (first + 1), 0.0)
        return masked_to_evaluated(rr, ctx)


@dataclass(frozen=True)
class HitRate(AtK):
    """HitRate@k: 1 if the top k holds at least one relevant item, else 0."""

    key = "hit_rate"

    def calc_per_user(self, ctx: EvalContext) -> np.ndarray:
        """(n,) 1.0 / 0.0 per user; NaN for users not evaluated."""
        return masked_to_evaluated(np.asarray(self._hits(ctx).any(axis=1), np.float64), ctx)


def accuracy_metrics(k: int) -> list[AtK]:
    """The accuracy metrics reported at ``k``."""
    return [Precision(k), Recall(k), F1(k), NDCG(k), MAP(k), MRR(k), HitRate(k)]
