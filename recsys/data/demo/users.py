"""The demo user attribute table: age band, city tier, membership."""

from __future__ import annotations

import numpy as np
import pandas as pd

from recsys.data.demo.strings import str_take

#: P(age band | segment), columns ``AGE_BANDS``.
AGE_BANDS: tuple[str, ...] = ("18-24", "25-34", "35-44", "45-54", "55+")
_SEGMENT_AGE = np.array(
    [
        [0.55, 0.35, 0.07, 0.02, 0.01],  # gamers
        [0.10, 0.40, 0.30, 0.15, 0.05],  # photographers
        [0.85, 0.13, 0.01, 0.01, 0.00],  # budget students
        [0.02, 0.30, 0.40, 0.22, 0.06],  # business
        [0.20, 0.45, 0.25, 0.08, 0.02],  # fitness
        [0.02, 0.20, 0.45, 0.23, 0.10],  # family
    ]
)
CITY_TIERS: tuple[str, ...] = ("tier 1", "tier 2", "tier 3")
#: P(city tier | price band), budget / mid / premium.
_BAND_CITY = np.array([[0.15, 0.35, 0.50], [0.35, 0.40, 0.25], [0.65, 0.28, 0.07]])
MEMBERSHIPS: tuple[str, ...] = ("none", "silver", "gold")
#: P(membership | price band).
_BAND_MEMBER = np.array([[0.75, 0.20, 0.05], [0.50, 0.35, 0.15], [0.30, 0.35, 0.35]])


def make_users(user_ids: list[str], seg: np.ndarray, band: np.ndarray, seed: int) -> pd.DataFrame:
    """User attribute table drawn from (segment, price band); own random stream."""
    rng = np.random.default_rng([seed, 1_000_003])

    def draw(probs: np.ndarray) -> np.ndarray:  # one categorical draw per row of probs
        cdf = np.cumsum(probs, axis=1)
        return (rng.random(len(probs))[:, None] > cdf).sum(axis=1).clip(0, probs.shape[1] - 1)

    return pd.DataFrame(
        {
            "user_id": user_ids,
            "age_band": str_take(list(AGE_BANDS), draw(_SEGMENT_AGE[seg])),
            "city_tier": str_take(list(CITY_TIERS), draw(_BAND_CITY[band])),
            "membership": str_take(list(MEMBERSHIPS), draw(_BAND_MEMBER[band])),
        }
    )
