"""What each metric key means: its label, the better direction and a one-line definition."""

from __future__ import annotations

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
