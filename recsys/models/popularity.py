"""Non-personalised baselines: overall popularity and time-decayed ("trending") popularity."""

from __future__ import annotations

from typing import ClassVar, Literal

import numpy as np

from recsys.data.dataset import Dataset
from recsys.data.schema import Col
from recsys.errors import ConfigError
from recsys.models.base import ParamRange, ProgressCallback, Recommender

_DAY = 86400.0


class Popularity(Recommender):
    """Every user gets the same list of the most popular items.

    Items by number of distinct users (``by="users"``) or by summed interaction weight
    (``by="weight"``).

    Cold users are handled (they get the same list); cold items score 0.

    Parameters
    ----------
    by : ``"users"`` (count of distinct users) or ``"weight"`` (sum of pair weights).
    """

    name: ClassVar[str] = "popularity"
    fit_seconds_per_kpair: ClassVar[float] = 0.0005
    label: ClassVar[str] = "Popularity"
    handles_cold_users: ClassVar[bool] = True
    state_fields: ClassVar[dict[str, str]] = {"item_scores_": "array"}

    @classmethod
    def memory_need(
        cls, n_users: int, n_items: int, n_pairs: int, params: dict | None = None
    ) -> tuple[int, int]:
        """One value per pair while counting; one count per item kept."""
        return 8 * n_pairs + 8 * n_items, 8 * n_items

    def __init__(self, by: Literal["users", "weight"] = "users") -> None:
        self.by = by

    def _pair_values(self, dataset: Dataset) -> np.ndarray:
        if self.by == "users":
            return np.ones(len(dataset.interactions), np.float64)
        if self.by == "weight":
            return dataset.interactions[Col.WEIGHT].to_numpy(np.float64)
        raise ConfigError(f"popularity 'by' must be 'users' or 'weight', not '{self.by}'.")

    def _fit(self, dataset: Dataset, progress: ProgressCallback) -> None:
        values = self._pair_values(dataset) * self._decay(dataset)
        items = dataset.interactions[Col.ITEM_IDX].to_numpy()
        self.item_scores_ = np.bincount(items, weights=values, minlength=dataset.n_items).astype(
            np.float32
        )
        progress(1.0, "counted")

    def _decay(self, dataset: Dataset) -> np.ndarray | float:
        return 1.0

    def _score_items(self, user_idx: np.ndarray) -> np.ndarray:
        return np.tile(self.item_scores_, (len(user_idx), 1))

    def pool_scores(self, user_idx: np.ndarray) -> np.ndarray:
        """The scores row broadcast to every user (read-only, no copy)."""
        self.check_fitted()
        return np.broadcast_to(self.item_scores_, (len(user_idx), len(self.item_scores_)))

    def _score_history(self, item_idx: np.ndarray, weights: np.ndarray) -> np.ndarray:
        return self.item_scores_.copy()


class TrendingPopularity(Popularity):
    r"""Popularity with exponential time decay relative to the latest timestamp ``t_max``.

    .. math:: s_i = \sum_{(u, i)} v_{ui} \, 2^{-(t_{max} - t_{ui}) / h}

    with ``h = half_life_days`` and ``v`` 1 or the pair weight (``by``); ``t_ui`` is the pair's
    first event. Pairs without a timestamp count as the oldest one; without any timestamps
    this is plain popularity.
    """

    name: ClassVar[str] = "trending"
    label: ClassVar[str] = "Trending (time-decayed popularity)"
    param_ranges: ClassVar[dict[str, ParamRange]] = {"half_life_days": ParamRange(0.01, 3650)}

    def __init__(
        self, by: Literal["users", "weight"] = "users", half_life_days: float = 7.0
    ) -> None:
        self.by = by
        self.half_life_days = half_life_days

    def _decay(self, dataset: Dataset) -> np.ndarray | float:
        return time_decay(dataset.interactions[Col.TIMESTAMP].to_numpy(), self.half_life_days)


def time_decay(timestamps: np.ndarray, half_life_days: float | None) -> np.ndarray | float:
    """(n,) weights ``2 ** (-(t_max - t) / half_life)``.

    1 when ``half_life_days`` is None or no timestamp is known; missing timestamps get the
    weight of the oldest known one.
    """
    ts = np.asarray(timestamps, np.float64)
    if half_life_days is None or not np.isfinite(ts).any():
        return 1.0
    if half_life_days <= 0:
        raise ConfigError("half_life_days must be positive.")
    ts = np.where(np.isfinite(ts), ts, np.nanmin(ts))
    age_days = (ts.max() - ts) / _DAY
    return np.exp2(-age_days / float(half_life_days))


__all__ = ["Popularity", "TrendingPopularity", "time_decay"]
