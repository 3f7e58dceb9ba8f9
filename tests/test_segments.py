"""The one user-segment rule, on hand-computed activity."""

from __future__ import annotations

import numpy as np

from recsys.evaluation.segments import SegmentRule, serving_strategy


def test_rule_from_activity_and_labels():
    # active users' activity 1..20 (0 is ignored): 90th percentile = 18.1
    activity = np.array([0, *range(1, 21)])
    rule = SegmentRule.from_activity(activity)
    assert rule.heavy_from == np.quantile(np.arange(1, 21), 0.9) == 18.1
    labels = rule.labels(np.array([0, 1, 4, 5, 18, 19, 20]))
    assert labels.tolist() == ["new", "cold", "cold", "regular", "regular", "heavy", "heavy"]


def test_heavy_never_below_cold():
    rule = SegmentRule.from_activity(np.array([1, 1, 2, 2]))
    assert rule.heavy_from == 5 == rule.cold_below
    assert rule.labels(np.array([4, 5])).tolist() == ["cold", "heavy"]
    assert set(SegmentRule.from_activity(np.zeros(3)).describe()) == {
        "new",
        "cold",
        "regular",
        "heavy",
    }


def test_serving_strategy():
    assert serving_strategy(np.array([0, 1, 2, 3, 9]), 3).tolist() == [
        "new",
        "cold",
        "cold",
        "warm",
        "warm",
    ]
