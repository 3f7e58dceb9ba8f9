"""``evaluate_lists``: every metric of one set of lists, with segment and category breakdowns."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recsys.evaluation.metrics.accuracy import accuracy_metrics
from recsys.evaluation.metrics.beyond import (
    AvgPopularity,
    BrandDiversity,
    CategoryDiversity,
    Diversity,
    Novelty,
    Serendipity,
    catalog_metrics,
)
from recsys.evaluation.metrics.context import EvalContext, nan_mean
from recsys.evaluation.metrics.ratings import MAE, RMSE
from recsys.evaluation.segments import SegmentRule
from recsys.ranking.topk import TopK


@dataclass
class MetricReport:
    """All metrics of one set of lists.

    Attributes
    ----------
    values : metric key -> value, every key in the glossary (``recsys.evaluation.metrics.
        glossary``): ``precision@K`` ... ``hit_rate@K``, ``coverage``,
        ``distributional_coverage``, ``gini``, ``novelty``, ``diversity`` (content),
        ``category_diversity``, ``brand_diversity``, ``personalization``, ``avg_popularity``,
        ``serendipity``, ``rmse``, ``mae``; ``rmse``/``mae`` are None without predictions,
        category / brand diversity NaN without those columns.
    per_user : metric key -> (n,) values aligned with ``users`` (NaN where undefined).
    segments : one row per user segment (all, cold, regular, heavy).
    users : (n,) internal user indices of the evaluated lists.
    k : list length.
    extra : new-item figures and the segment thresholds. (The category mix of the lists
        against the histories is ``recsys.service.data_summary.category_share``, on Insights.)
    seconds : time spent.
    """

    values: dict[str, float | None]
    per_user: dict[str, np.ndarray]
    segments: pd.DataFrame
    users: np.ndarray
    k: int
    extra: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0

    def table(self) -> pd.DataFrame:
        """Values as a two-column frame (metric, value)."""
        return pd.DataFrame({"metric": list(self.values), "value": list(self.values.values())})


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
    item_brand: np.ndarray | None = None,
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
    item_brand : ``(n_items,)`` brand per item, labels or int codes with -1 unknown.
    user_ids : evaluate only these internal user indices (default: every row of ``topk``).
    predictions, targets : aligned rating predictions and true ratings for RMSE / MAE.
    item_table : an ``ItemTable``; its ``vectors``, ``category``, ``category_names`` and
        ``brand`` fill the arguments above when they are unset; its ``category_sets``
        (multi-valued categories) make category diversity use every value.
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
        if item_brand is None:
            item_brand = getattr(item_table, "brand", None)
    if user_ids is not None:
        keep = np.isin(topk.users, np.asarray(user_ids))
        topk = TopK(topk.users[keep], topk.items[keep], topk.scores[keep])
    ctx = EvalContext(
        topk,
        truth,
        k,
        train,
        item_vectors,
        item_category,
        category_names,
        item_brand,
        category_sets=getattr(item_table, "category_sets", None),
    )

    values: dict[str, float | None] = {}
    per_user: dict[str, np.ndarray] = {}
    for metric in accuracy_metrics(k):
        per = metric.calc_per_user(ctx)
        per_user[metric.name] = per
        values[metric.name] = nan_mean(per)
    for catalog_metric in catalog_metrics(k):
        values[catalog_metric.key] = catalog_metric.calc(ctx)
    for metric in (Novelty(k), Diversity(k), CategoryDiversity(k), BrandDiversity(k)):
        per_user[metric.key] = metric.calc_per_user(ctx)
        values[metric.key] = nan_mean(per_user[metric.key])
    per_user["avg_popularity"] = AvgPopularity(k).calc_per_user(ctx)
    values["avg_popularity"] = nan_mean(per_user["avg_popularity"])
    per_user["serendipity"] = Serendipity(k).calc_per_user(ctx)
    values["serendipity"] = nan_mean(per_user["serendipity"])
    if predictions is not None and targets is not None:
        values["rmse"] = RMSE().calc(predictions, targets)
        values["mae"] = MAE().calc(predictions, targets)
    else:
        values["rmse"] = values["mae"] = None

    extra: dict[str, float] = {
        "n_users": float(len(ctx.users)),
        "n_evaluated": float(ctx.evaluated.sum()),
    }
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
            row[c] = nan_mean(per_user[c][mask])
        it = ctx.items[mask]
        shown = np.bincount(it[it >= 0], minlength=ctx.n_items)
        row["coverage"] = float((shown > 0).sum() / max(ctx.n_items, 1))
        rows.append(row)
    return pd.DataFrame(rows)
