"""The one glossary of metrics: name, one-line definition, better direction, plain reading.

Every place that shows a metric (the app's pages, the metrics report, the CLI) reads it here:
``METRICS[base]`` for the facts, ``reading(key, value)`` for the plain-language sentence with
the value filled in. The app shows the same texts through its locale files
(``metric.<base>``, ``metric.<base>.definition``, ``metric.<base>.reading``, with the
placeholders of ``reading_params``); a test keeps the English locale equal to this module.

Keys are bases (``ndcg``) or cut-off keys (``ndcg@10``); ``metric_base`` maps one to the other.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

Level = Literal["list", "catalog", "rating"]
Family = Literal["accuracy", "exposure", "variety", "rating"]


@dataclass(frozen=True)
class MetricInfo:
    """What a metric is.

    Attributes
    ----------
    key : the base key (``ndcg``).
    label : English display name; ``{k}`` is the cut-off of ``@k`` metrics.
    higher_is_better : True / False, or None when it is a matter of taste (popularity).
    definition : one line: what it measures.
    reading : a sentence with the value filled in (placeholders: ``reading_params``).
    level : ``list`` = one value per shopper, averaged (paired tests over shoppers);
        ``catalog`` = one value for all lists together (coverage); ``rating`` = over rated pairs.
    family : the group a table or chart shows it in.
    at_k : the key carries the list length (``ndcg@10``).
    summary : shown in the summary tables (Train, Fusion lab, metrics report).
    headline : one of the few figures the Fusion lab puts on top.
    """

    key: str
    label: str
    higher_is_better: bool | None
    definition: str
    reading: str
    level: Level
    family: Family
    at_k: bool = False
    summary: bool = True
    headline: bool = False


# fmt: off
_ALL = (
    MetricInfo("ndcg", "NDCG@{k}", True,
               "Rank-weighted hits: items the shopper went on to use count more the higher they are listed; 1 is the best possible order.",
               "Lists score {value} out of 1 (1 = every item a shopper went on to use at the very top of their {k}).",
               "list", "accuracy", at_k=True, headline=True),
    MetricInfo("precision", "Precision@{k}", True,
               "Share of the {k} list slots that hold an item the shopper went on to use.",
               "{pct} of the {k} slots hold an item the shopper went on to use.",
               "list", "accuracy", at_k=True),
    MetricInfo("recall", "Recall@{k}", True,
               "Share of the items a shopper went on to use that their list of {k} found.",
               "A shopper finds {pct} of the items they went on to use in their top {k}.",
               "list", "accuracy", at_k=True, headline=True),
    MetricInfo("map", "MAP@{k}", True,
               "Mean average precision: precision at each hit, averaged; hits near the top count most.",
               "{value} out of 1: like precision, but a hit near the top of the {k} counts more.",
               "list", "accuracy", at_k=True),
    MetricInfo("hit_rate", "Hit rate@{k}", True,
               "Share of shoppers with at least one item they went on to use in their list.",
               "{pct} of shoppers get at least one item they went on to use in their top {k}.",
               "list", "accuracy", at_k=True),
    MetricInfo("mrr", "MRR@{k}", True,
               "1 / position of the first item the shopper went on to use (0 when there is none).",
               "The first item a shopper went on to use sits around position {position} (1 = always first).",
               "list", "accuracy", at_k=True, summary=False),
    MetricInfo("f1", "F1@{k}", True,
               "Harmonic mean of precision and recall.",
               "{value} out of 1: the balance of precision and recall.",
               "list", "accuracy", at_k=True, summary=False),
    MetricInfo("coverage", "Catalog coverage", True,
               "Share of the catalog recommended to at least one shopper.",
               "{pct} of the catalog appears in at least one shopper's list.",
               "catalog", "exposure", headline=True),
    MetricInfo("distributional_coverage", "Exposure spread", True,
               "How evenly the slots are spread over the catalog (normalised entropy).",
               "{value} out of 1: 1 = every catalog item shown equally often, 0 = one item everywhere.",
               "catalog", "exposure", summary=False),
    MetricInfo("gini", "Exposure inequality (Gini)", False,
               "How unequally the slots are shared between catalog items.",
               "{value}: 0 = every item shown equally often, 1 = a few items take every slot.",
               "catalog", "exposure", summary=False),
    MetricInfo("personalization", "Personalisation", True,
               "1 − the average overlap between two shoppers' lists.",
               "Two shoppers' lists share {overlap} of their items on average.",
               "catalog", "exposure"),
    MetricInfo("diversity", "Content diversity", True,
               "How different two items of a list are in text and attributes (1 − cosine similarity).",
               "Two items of a list are {pct} different in text and attributes on average.",
               "list", "variety", headline=True),
    MetricInfo("category_diversity", "Category diversity", True,
               "How often two items of a list are in different categories (shared categories count as overlap).",
               "Two items of a list are in different categories {pct} of the time.",
               "list", "variety", headline=True),
    MetricInfo("brand_diversity", "Brand diversity", True,
               "How often two items of a list are of different brands.",
               "Two items of a list are of different brands {pct} of the time.",
               "list", "variety", headline=True),
    MetricInfo("novelty", "Novelty (bits)", True,
               "How unexpected the items shown are: −log2 of the share of shoppers who used them.",
               "A typical recommended item is one that 1 in {one_in} shoppers has used ({value} bits).",
               "list", "variety"),
    MetricInfo("avg_popularity", "Average popularity", None,
               "Average number of training shoppers of the items shown.",
               "A recommended item was used by {count} shoppers on average.",
               "list", "variety", summary=False),
    MetricInfo("serendipity", "Serendipity", True,
               "Hits a plain best-seller list would not have given, per slot.",
               "{pct} of the slots hold an item the shopper went on to use that a best-seller list would not show.",
               "list", "accuracy"),
    MetricInfo("rmse", "RMSE", False,
               "Root mean squared error of predicted ratings (large misses count more).",
               "Predicted ratings are off by {value} (root mean square).",
               "rating", "rating"),
    MetricInfo("mae", "MAE", False,
               "Mean absolute error of predicted ratings.",
               "Predicted ratings are off by {value} on average.",
               "rating", "rating", summary=False),
)
# fmt: on

#: Base key -> MetricInfo, in display order.
METRICS: dict[str, MetricInfo] = {m.key: m for m in _ALL}


def metric_base(key: str) -> str:
    """``"ndcg@10"`` -> ``"ndcg"``."""
    return key.split("@", 1)[0]


def metric_info(key: str) -> MetricInfo:
    """The glossary entry of a key (``KeyError`` naming the key when there is none)."""
    try:
        return METRICS[metric_base(key)]
    except KeyError:
        raise KeyError(f"metric '{key}' has no glossary entry") from None


def is_metric(key: str) -> bool:
    """Whether ``key`` (``ndcg@10``, ``coverage``) has a glossary entry."""
    return metric_base(str(key)) in METRICS


def higher_is_better(key: str) -> bool | None:
    """Direction of a metric key (``None`` when it is a matter of taste, e.g. popularity)."""
    info = METRICS.get(metric_base(key))
    return None if info is None else info.higher_is_better


def metric_key(base: str, k: int) -> str:
    """The key a report uses for ``base``: ``ndcg`` -> ``ndcg@10``; ``coverage`` -> ``coverage``."""
    return f"{base}@{k}" if METRICS[base].at_k else base


def shown_keys(
    k: int,
    available: Iterable[str] | None = None,
    *,
    summary: bool = True,
    headline: bool = False,
    families: Iterable[str] | None = None,
    levels: Iterable[str] | None = None,
) -> list[str]:
    """Report keys in glossary order: the summary ones (or all; or the headline ones).

    Optionally only those of some families / levels, and only those in ``available`` when given.
    """
    fam = set(families) if families is not None else None
    lev = set(levels) if levels is not None else None
    have = set(available) if available is not None else None
    out = []
    for m in _ALL:
        if (summary and not m.summary) or (headline and not m.headline):
            continue
        if (fam is not None and m.family not in fam) or (lev is not None and m.level not in lev):
            continue
        key = metric_key(m.key, k)
        if have is None or key in have:
            out.append(key)
    return out


def _pct(value: float) -> str:
    p = 100.0 * value
    return f"{p:.1f} %" if abs(p) < 10 else f"{p:.0f} %"


def reading_params(key: str, value: float, k: int | None = None) -> dict[str, str]:
    """The placeholders of a reading, formatted.

    ``value``, ``pct``, ``k``, ``position`` (1 / MRR), ``overlap`` (1 − personalisation, as %),
    ``one_in`` (2 ** novelty), ``count``.
    """
    base, _, cut = key.partition("@")
    v = float(value)
    params = {
        "value": f"{v:.4f}" if abs(v) < 10 else f"{v:,.1f}",
        "pct": _pct(v),
        "k": cut or ("" if k is None else str(k)),
        "position": f"{1.0 / v:.1f}" if v > 0 else "—",
        "overlap": _pct(1.0 - v),
        "one_in": f"{2.0**v:,.0f}" if v < 60 else "∞",
        "count": f"{v:,.0f}",
    }
    if base == "novelty":
        params["value"] = f"{v:.2f}"
    return params


def label(key: str) -> str:
    """English display name of a key (``ndcg@10`` -> ``NDCG@10``)."""
    _, _, cut = key.partition("@")
    return metric_info(key).label.format(k=cut or "k")


def definition(key: str) -> str:
    """English one-line definition of a key."""
    _, _, cut = key.partition("@")
    return metric_info(key).definition.format(k=cut or "k")


def reading(key: str, value: float | None, k: int | None = None) -> str:
    """English plain-language reading of ``key`` at ``value`` ("—" when there is no value)."""
    if value is None or value != value:
        return "—"
    return metric_info(key).reading.format(**reading_params(key, value, k))


def describe(values: Mapping[str, float | None]) -> list[tuple[str, str, str]]:
    """(label, value, reading) of every glossary metric in ``values``, in glossary order."""
    out = []
    for m in _ALL:
        for key, value in values.items():
            if metric_base(key) == m.key and value is not None:
                out.append((label(key), f"{float(value):.4f}", reading(key, value)))
    return out
