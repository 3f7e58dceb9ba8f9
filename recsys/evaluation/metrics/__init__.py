"""Offline metrics of ranked lists: accuracy at k and beyond-accuracy.

Every metric is a small value object (RecTools style), e.g. ``NDCG(k=10)``, with
``calc_per_user(ctx) -> (n,)`` and ``calc(ctx) -> float`` (the mean over evaluated users), or
only ``calc`` for catalogue-level metrics. ``ctx`` is an ``EvalContext``: it computes the shared
intermediates (the ``(n, k)`` hit matrix, relevant counts, exposure counts, train popularity)
once and caches them, so the facade ``evaluate_lists`` computes all metrics in a few ms.

Modules: ``context`` (``EvalContext``), ``accuracy``, ``beyond`` (beyond accuracy), ``ratings``
(RMSE, MAE), ``glossary`` (what each key means), ``report`` (``evaluate_lists``).
"""

from recsys.evaluation.metrics.accuracy import (
    F1,
    MAP,
    MRR,
    NDCG,
    AtK,
    HitRate,
    Precision,
    Recall,
    accuracy_metrics,
)
from recsys.evaluation.metrics.beyond import (
    AvgPopularity,
    BrandDiversity,
    CategoryDiversity,
    Coverage,
    DistributionalCoverage,
    Diversity,
    Gini,
    Novelty,
    Personalization,
    Serendipity,
    catalog_metrics,
    gini_index,
    lorenz_curve,
)
from recsys.evaluation.metrics.context import EvalContext, nan_mean
from recsys.evaluation.metrics.glossary import (
    METRICS,
    MetricInfo,
    higher_is_better,
    metric_base,
    metric_info,
)
from recsys.evaluation.metrics.ratings import MAE, RMSE
from recsys.evaluation.metrics.report import MetricReport, evaluate_lists

__all__ = [
    "F1",
    "MAE",
    "MAP",
    "METRICS",
    "MRR",
    "NDCG",
    "RMSE",
    "AtK",
    "AvgPopularity",
    "BrandDiversity",
    "CategoryDiversity",
    "Coverage",
    "DistributionalCoverage",
    "Diversity",
    "EvalContext",
    "Gini",
    "HitRate",
    "MetricInfo",
    "MetricReport",
    "Novelty",
    "Personalization",
    "Precision",
    "Recall",
    "Serendipity",
    "accuracy_metrics",
    "evaluate_lists",
    "catalog_metrics",
    "gini_index",
    "higher_is_better",
    "lorenz_curve",
    "metric_base",
    "metric_info",
    "nan_mean",
]
