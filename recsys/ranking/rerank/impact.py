"""What each merchandising rule does to the lists, before it ships: leave-one-out impact.

For every rule of a re-ranking config, the lists are re-ranked once with the rule on and once
with it off, everything else as configured (a rule that is on is left out; a rule that is off
is switched on: what it *would* do). Each re-rank covers every user of the pool at once. From
the two lists per rule:

* ``lists_changed``: share of lists whose top-k differs (an item or the order);
* ``share_before`` / ``share_after``: for filter, boost and bury, the share of filled top-k
  slots holding an item that matches the rule's condition; for a pin, the share of lists with
  the pinned item at its position;
* ``metrics_off`` / ``metrics_on``: the metrics of both lists, from the caller's metric
  function (the same the lab's figures come from); ``cost`` is on minus off.

``moves`` gives one user's list before and after: rank, places moved, and which rules touched
each item (from the re-ranking trace).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from recsys.errors import RecsysError
from recsys.evaluation.metrics.glossary import metric_key
from recsys.ranking.candidates import CandidatePool
from recsys.ranking.rerank.config import RerankConfig
from recsys.ranking.rerank.items import ItemTable
from recsys.ranking.rerank.lists import rerank
from recsys.ranking.rerank.rules import Rule
from recsys.ranking.rerank.trace import RankedLists
from recsys.ranking.topk import TopK

#: Metrics (glossary bases) whose change is a rule's cost: accuracy and catalog coverage.
COST_METRICS: tuple[str, ...] = ("ndcg", "precision", "recall", "coverage")

MetricFn = Callable[[TopK], Mapping[str, float | None]]


@dataclass(frozen=True)
class RuleImpact:
    """The effect of one rule: its lists and metrics with the rule off and on.

    ``error`` holds the reason when the rule cannot be applied (then the figures are None).
    """

    index: int
    label: str
    kind: str
    enabled: bool
    lists_changed: float | None = None
    share_before: float | None = None
    share_after: float | None = None
    metrics_off: dict[str, float | None] = field(default_factory=dict)
    metrics_on: dict[str, float | None] = field(default_factory=dict)
    error: RecsysError | None = None

    def cost(self, key: str) -> float | None:
        """Change of metric ``key`` from switching the rule on (on - off)."""
        on, off = self.metrics_on.get(key), self.metrics_off.get(key)
        if on is None or off is None or not (np.isfinite(on) and np.isfinite(off)):
            return None
        return float(on) - float(off)


@dataclass(frozen=True)
class ImpactReport:
    """Every rule's impact on one pool, plus the lists behind it.

    ``current`` are the lists of the config as given; ``no_rules`` with every rule off;
    ``other[j]`` with rule j toggled (None when it could not be applied).
    """

    rules: tuple[RuleImpact, ...]
    current: RankedLists
    no_rules: RankedLists
    other: tuple[RankedLists | None, ...]
    k: int

    def cost_keys(self) -> list[str]:
        """The report keys of ``COST_METRICS`` at this list length (``ndcg@10`` ...)."""
        return [metric_key(base, self.k) for base in COST_METRICS]

    def off_and_on(self, j: int) -> tuple[RankedLists, RankedLists]:
        """Lists with rule ``j`` off and on (``ValueError`` when it could not be applied)."""
        other = self.other[j]
        if other is None:
            raise ValueError(f"rule {j} could not be applied")
        return (self.current, other) if not self.rules[j].enabled else (other, self.current)


def _toggled(config: RerankConfig, j: int) -> RerankConfig:
    rules = list(config.rules)
    rules[j] = replace(rules[j], enabled=not rules[j].enabled)
    return replace(config, rules=rules)


def lists_changed(a: TopK, b: TopK) -> float:
    """Share of users whose list differs between ``a`` and ``b`` (an item or the order)."""
    if len(a.items) == 0:
        return 0.0
    return float((a.items != b.items).any(axis=1).mean())


def matching_share(topk: TopK, match: np.ndarray) -> float:
    """Share of filled slots of ``topk`` holding an item flagged in ``match`` (n_items,) bool."""
    filled = topk.items >= 0
    n = int(filled.sum())
    if n == 0:
        return 0.0
    hit = match[np.maximum(topk.items, 0)] & filled
    return float(hit.sum() / n)


def pinned_share(topk: TopK, item: int, position: int) -> float:
    """Share of lists with ``item`` at 1-based ``position`` (0 when the lists are shorter)."""
    if len(topk.items) == 0 or position > topk.items.shape[1]:
        return 0.0
    return float((topk.items[:, position - 1] == item).mean())


def _shares(rule, items: ItemTable, off: TopK, on: TopK) -> tuple[float, float]:
    if rule.kind == "pin":
        x = items.item_index(rule.item_id)
        return pinned_share(off, x, rule.position), pinned_share(on, x, rule.position)
    match = rule.mask(items)
    return matching_share(off, match), matching_share(on, match)


def rule_impact(
    pool: CandidatePool,
    fused: np.ndarray,
    config: RerankConfig,
    items: ItemTable,
    metrics: MetricFn,
    *,
    user_segments: np.ndarray | None = None,
    current: RankedLists | None = None,
    current_metrics: Mapping[str, float | None] | None = None,
) -> ImpactReport:
    """Leave-one-out impact of every rule of ``config`` on the lists of ``pool``.

    Parameters
    ----------
    pool, fused, items, user_segments : as for ``rerank``.
    config : the re-ranking config with its rules (on or off).
    metrics : ``TopK -> {metric key: value}``, the caller's metric function.
    current, current_metrics : the lists of ``config`` and their metrics when already
        computed (the lab has them); computed here otherwise.
    """
    if current is None:
        current = rerank(pool, fused, config, items, user_segments=user_segments)
    now = dict(current_metrics) if current_metrics is not None else dict(metrics(current.topk))
    no_rules = rerank(
        pool,
        fused,
        replace(config, rules=[replace(r, enabled=False) for r in config.rules]),
        items,
        user_segments=user_segments,
    )
    rows: list[RuleImpact] = []
    other: list[RankedLists | None] = []
    for j, rule in enumerate(config.rules):
        base = RuleImpact(j, rule.label, rule.kind, rule.enabled)
        try:
            toggled = rerank(pool, fused, _toggled(config, j), items, user_segments=user_segments)
            then = dict(metrics(toggled.topk))
            off, on = (current, toggled) if not rule.enabled else (toggled, current)
            before, after = _shares(rule, items, off.topk, on.topk)
        except RecsysError as err:  # e.g. a switched-off rule on a column the catalog lacks
            rows.append(replace(base, error=err))
            other.append(None)
            continue
        rows.append(
            replace(
                base,
                lists_changed=lists_changed(off.topk, on.topk),
                share_before=before,
                share_after=after,
                metrics_off=then if rule.enabled else now,
                metrics_on=now if rule.enabled else then,
            )
        )
        other.append(toggled)
    return ImpactReport(tuple(rows), current, no_rules, tuple(other), config.k)


def moves(
    before: RankedLists,
    after: RankedLists,
    row: int,
    *,
    rules: Sequence[Rule] = (),
    items: ItemTable | None = None,
) -> pd.DataFrame:
    """One user's list before and after: every item of either list, best first.

    Columns: ``item`` (internal index), ``rank_before`` / ``rank_after`` (1-based, <NA> when
    not in that list), ``moved`` (places up; <NA> for an item that entered or left),
    ``status`` (``same``, ``up``, ``down``, ``new``, ``dropped``) and ``touched_by`` (rules and
    knobs that touched the item: from the trace of ``after``; for an item that left the list,
    those of ``rules``, the rules that differ between the two lists, whose condition it matches).
    """
    a, b = before.topk.items[row], after.topk.items[row]
    a_ok, b_ok = np.flatnonzero(a >= 0), np.flatnonzero(b >= 0)
    dropped = a_ok[~np.isin(a[a_ok], b[b_ok])]
    item = np.concatenate([b[b_ok], a[dropped]]).astype(np.int64)
    rank_after = np.concatenate([b_ok + 1, np.zeros(len(dropped), np.int64)])
    where_before = {int(x): p + 1 for p, x in zip(a_ok, a[a_ok], strict=True)}
    rank_before = np.array([where_before.get(int(x), 0) for x in item], np.int64)
    moved = np.where((rank_before > 0) & (rank_after > 0), rank_before - rank_after, 0)
    status = np.select(
        [rank_before == 0, rank_after == 0, moved > 0, moved < 0],
        ["new", "dropped", "up", "down"],
        "same",
    )
    conditions = [r for r in rules if r.kind != "pin" and items is not None]
    matched = [(r.label, r.mask(items)) for r in conditions] if items is not None else []
    touched = [after.touched_names(row, int(p)) for p in b_ok] + [
        [label for label, m in matched if m[a[p]]] for p in dropped
    ]
    frame = pd.DataFrame(
        {
            "item": item,
            "rank_before": pd.array(np.where(rank_before > 0, rank_before, 0), "Int64"),
            "rank_after": pd.array(rank_after, "Int64"),
            "moved": pd.array(moved, "Int64"),
            "status": status,
            "touched_by": touched,
        }
    )
    frame.loc[frame["rank_before"] == 0, ["rank_before", "moved"]] = pd.NA
    frame.loc[frame["rank_after"] == 0, ["rank_after", "moved"]] = pd.NA
    return frame


__all__ = [
    "COST_METRICS",
    "ImpactReport",
    "RuleImpact",
    "lists_changed",
    "matching_share",
    "moves",
    "pinned_share",
    "rule_impact",
]
