"""A fixed, stratified sample of held-out users, and confidence intervals of per-user means.

The fusion lab answers a slider in milliseconds at any store size by re-fusing and scoring a
sample of the held-out users instead of all of them. The sample is drawn once per run (seeded),
proportionally from each user segment, with a floor per segment so that cold, regular and heavy
users are all represented. Per-user metrics are then reported as a mean with a 95 % interval.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Users the lab evaluates at most (all of them when there are fewer).
LAB_SAMPLE_USERS = 5_000
#: Each segment gets at least this many sampled users (or all it has).
SEGMENT_FLOOR = 200
#: Two-sided normal quantile of a 95 % interval.
Z95 = 1.959963984540054


def stratified_sample(
    labels: np.ndarray, max_users: int = LAB_SAMPLE_USERS, seed: int = 0
) -> np.ndarray:
    """Sorted positions of a seeded sample of ``labels`` (n,), stratified by label.

    Every position is kept when ``n <= max_users``. Otherwise each label gets a share
    proportional to its size, at least ``min(SEGMENT_FLOOR, its size)``; the total may exceed
    ``max_users`` by the floors (a few hundred at most).
    """
    labels = np.asarray(labels)
    n = len(labels)
    if n <= max_users:
        return np.arange(n)
    rng = np.random.default_rng(seed)
    names, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
    quota = np.maximum(np.round(counts / n * max_users), np.minimum(counts, SEGMENT_FLOOR))
    picked = [
        rng.choice(np.flatnonzero(inverse == g), int(min(quota[g], counts[g])), replace=False)
        for g in range(len(names))
    ]
    return np.sort(np.concatenate(picked))


@dataclass(frozen=True)
class Interval:
    """A mean with its 95 % confidence interval and the number of values behind it."""

    mean: float
    low: float
    high: float
    n: int

    @property
    def half_width(self) -> float:
        """Half the width of the interval (the ``±`` figure)."""
        return (self.high - self.low) / 2


def mean_interval(values: np.ndarray) -> Interval:
    """Normal-approximation 95 % interval of the mean of the finite ``values`` (NaN ignored)."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if len(v) == 0:
        return Interval(float("nan"), float("nan"), float("nan"), 0)
    mean = float(v.mean())
    if len(v) == 1:
        return Interval(mean, float("nan"), float("nan"), 1)
    half = Z95 * float(v.std(ddof=1)) / np.sqrt(len(v))
    return Interval(mean, mean - half, mean + half, len(v))
