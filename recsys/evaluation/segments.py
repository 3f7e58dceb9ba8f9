"""User segments by activity: the one rule the engine, metrics, Export, audiences and pin rules use.

A user's *activity* is their number of training interactions (distinct items). Segments:

* ``new``: no interaction;
* ``cold``: fewer than ``cold_below`` (5);
* ``heavy``: at least ``heavy_from``, the 90th percentile of active users' activity (never
  below ``cold_below``), so roughly the top decile;
* ``regular``: everyone else.

The serving strategy (``serving_strategy``) is a different cut: it says which models can serve a
user (warm: all; cold: history-based ones; new: popularity-like fallbacks), with the preset's
``cold_threshold``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Users with fewer training interactions than this are ``cold``.
COLD_BELOW = 5
#: Users at or above this quantile of active users' activity are ``heavy``.
HEAVY_QUANTILE = 0.9
#: Segment labels, from least to most active.
SEGMENTS: tuple[str, ...] = ("new", "cold", "regular", "heavy")


@dataclass(frozen=True)
class SegmentRule:
    """Thresholds that label users ``new | cold | regular | heavy`` by activity.

    Build it from the training activity with ``SegmentRule.from_activity``; ``labels`` then
    applies it to any users, so every page and report uses the same cut.
    """

    heavy_from: float
    cold_below: int = COLD_BELOW
    heavy_quantile: float = HEAVY_QUANTILE

    @classmethod
    def from_activity(
        cls,
        activity: np.ndarray,
        *,
        cold_below: int = COLD_BELOW,
        heavy_quantile: float = HEAVY_QUANTILE,
    ) -> SegmentRule:
        """The rule for a population: ``activity`` (n_users,) training interactions per user."""
        act = np.asarray(activity)
        act = act[act > 0]
        cut = np.quantile(act, heavy_quantile) if len(act) else 0.0
        return cls(float(max(cut, cold_below)), int(cold_below), float(heavy_quantile))

    def labels(self, activity: np.ndarray) -> np.ndarray:
        """(n,) object array of segment labels for ``activity`` (n,)."""
        act = np.asarray(activity)
        out = np.full(act.shape, "regular", dtype=object)
        out[act >= self.heavy_from] = "heavy"
        out[act < self.cold_below] = "cold"
        out[act == 0] = "new"
        return out

    def describe(self) -> dict[str, str]:
        """Segment -> the rule in words (for tables and tooltips)."""
        return {
            "new": "no train interactions",
            "cold": f"fewer than {self.cold_below} train interactions",
            "regular": f"{self.cold_below} to {self.heavy_from:g} train interactions (exclusive)",
            "heavy": (
                f"at least {self.heavy_from:g} train interactions "
                f"(top {100 * (1 - self.heavy_quantile):g} %)"
            ),
        }


def serving_strategy(activity: np.ndarray, cold_threshold: int) -> np.ndarray:
    """How a user is served: ``warm`` (all models), ``cold`` (history-based), ``new`` (fallbacks)."""
    act = np.asarray(activity)
    out = np.full(act.shape, "warm", dtype=object)
    out[act < cold_threshold] = "cold"
    out[act == 0] = "new"
    return out
