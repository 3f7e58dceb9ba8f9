"""Holdout splits of a ``Dataset`` into train and test parts that share the id maps.

Methods (all seeded, all vectorised with ``groupby``/``cumcount``, no per-user loop):

``temporal`` (default)
    Per-user holdout of each user's *latest* pairs (by the pair's first-event ``timestamp``).
    A user with ``n`` pairs gives ``floor(f n)`` pairs plus one more with probability
    ``f n - floor(f n)`` (seeded stochastic rounding: the expected test share is exactly ``f``
    even when most users have only a few pairs), capped at ``n - 1``. Ties in time are broken
    at random. Without timestamps the order is random, and ``info["order"]`` says so.
``random``
    The same per-user (user-stratified) holdout, in random order.
``leave_last``
    Each user's last ``n_last`` pairs (at most ``n - 1``).
``time_cutoff``
    A global cut: pairs whose timestamp is ``>= cutoff`` are test. The default cut-off is the
    ``1 - test_fraction`` quantile of the pair timestamps. Users first seen after the cut-off
    and items first bought after it are *cold-start* cases: they are kept in the test part,
    counted in ``info`` and listed in ``Split.cold_users`` / ``Split.cold_items``.

Rule: except in ``time_cutoff``, a user needs at least 2 pairs to contribute test pairs
(a user's only pair stays in train), so every test user of a per-user split has history.
Pairs without a timestamp always stay in train in ``time_cutoff``.

The test part is never touched by tuning: ``Split.validation()`` / ``validation_split`` carve a
validation part out of the *train* part with the same method.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from recsys.data.dataset import Dataset
from recsys.data.schema import Col
from recsys.errors import ConfigError

#: Split methods and a one-line description each (for the UI).
SPLIT_METHODS: dict[str, str] = {
    "temporal": "each user's latest share of interactions is held out",
    "random": "a random share of each user's interactions is held out",
    "leave_last": "each user's last N interactions are held out",
    "time_cutoff": "everything after a date is held out (new users/items are cold-start cases)",
}


@dataclass(frozen=True)
class Split:
    """Result of a split.

    Attributes
    ----------
    train, test : datasets with the parent's id maps and catalog.
    info : method, parameters and sizes; see ``split``.
    cold_users : (u,) int32 users with test pairs and no train pair.
    cold_items : (i,) int32 items with test pairs and no train pair.
    """

    train: Dataset
    test: Dataset
    info: dict[str, Any]
    cold_users: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    cold_items: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))

    def validation(self, **overrides: Any) -> Split:
        """Split ``train`` again the same way (for tuning); the test part is left alone."""
        return validation_split(self, **overrides)

    def test_users(self) -> np.ndarray:
        """(u,) int32 users with at least one test pair."""
        return self.test.active_users()


def split(
    dataset: Dataset,
    method: str = "temporal",
    test_fraction: float = 0.2,
    n_last: int = 1,
    cutoff: float | str | pd.Timestamp | None = None,
    seed: int = 0,
) -> Split:
    """Split ``dataset`` into train and test.

    Parameters
    ----------
    dataset : the full dataset.
    method : ``temporal`` | ``random`` | ``leave_last`` | ``time_cutoff`` (see module docstring).
    test_fraction : share of pairs held out (``temporal``, ``random``, default ``time_cutoff``).
    n_last : pairs per user held out by ``leave_last``.
    cutoff : ``time_cutoff`` only: unix seconds, or anything ``pd.Timestamp`` accepts.
    seed : seeds tie-breaking, random order and stochastic rounding.

    Returns
    -------
    Split with ``info`` keys ``method, test_fraction, n_last, cutoff, seed, order, note``,
    ``train_pairs, train_users, train_items, test_pairs, test_users, test_items``,
    ``test_users_cold, test_items_cold, test_pairs_cold_user, test_pairs_cold_item``.
    """
    if method not in SPLIT_METHODS:
        raise ConfigError(
            f"unknown split method '{method}'; use one of: {', '.join(SPLIT_METHODS)}."
        )
    if not 0.0 < float(test_fraction) < 1.0:
        raise ConfigError("the test share must be between 0 and 1 (for example 0.2).")
    df = dataset.interactions
    rng = np.random.default_rng(seed)
    users = df[Col.USER_IDX].to_numpy()
    ts = df[Col.TIMESTAMP].to_numpy(dtype=np.float64)
    has_ts = bool(dataset.has_timestamps and np.isfinite(ts).any())
    note = ""
    order = "timestamp"
    cutoff_value: float | None = None

    if method == "time_cutoff":
        if not has_ts:
            raise ConfigError(
                "a time cut-off split needs timestamps; this data has none: use 'random' instead."
            )
        if cutoff is None:
            cutoff_value = float(np.nanquantile(ts, 1.0 - float(test_fraction)))
        else:
            cutoff_value = _to_unix(cutoff)
        is_test = np.isfinite(ts) & (ts >= cutoff_value)
        if np.isfinite(ts).sum() < len(ts):
            note = "pairs without a timestamp stay in train."
    else:
        # Rank each user's pairs from the end: 0 = latest. Random tie-break (and random order
        # when there is no time, or for the random method).
        tiebreak = rng.random(len(df))
        if method == "random" or not has_ts:
            key = tiebreak
            order = "random"
            if method != "random":
                note = (
                    "the data has no timestamps: each user's pairs were held out in random order."
                )
        else:
            key = np.where(np.isfinite(ts), ts, -np.inf)
        perm = np.lexsort((tiebreak, key, users))  # by user, then time, then tie-break
        sorted_users = users[perm]
        grouped = pd.Series(sorted_users).groupby(sorted_users, sort=False)
        from_end = grouped.cumcount(ascending=False).to_numpy()
        n_user = grouped.transform("size").to_numpy()
        if method == "leave_last":
            n_test = np.minimum(int(n_last), n_user - 1)
        else:
            # one stochastic rounding draw per user, shared by that user's rows
            uniq, inverse = np.unique(sorted_users, return_inverse=True)
            draws = rng.random(len(uniq))[inverse]
            expected = float(test_fraction) * n_user
            n_test = np.floor(expected) + (draws < expected - np.floor(expected))
            n_test = np.minimum(n_test, n_user - 1)
        sorted_test = from_end < n_test
        is_test = np.zeros(len(df), dtype=bool)
        is_test[perm] = sorted_test

    return _make_split(
        dataset,
        is_test,
        {
            "method": method,
            "test_fraction": float(test_fraction),
            "n_last": int(n_last),
            "cutoff": cutoff_value,
            "seed": int(seed),
            "order": order if method != "time_cutoff" else "timestamp",
            "note": note,
        },
    )


def validation_split(split_or_train: Split | Dataset, **overrides: Any) -> Split:
    """Carve a validation part out of a training set with the same method.

    Parameters
    ----------
    split_or_train : a ``Split`` (its ``train`` is split with its own method and parameters)
        or a training ``Dataset`` (split with ``split``'s defaults).
    overrides : any ``split`` keyword (``method``, ``test_fraction``, ``n_last``, ``seed``,
        ``cutoff``); for ``time_cutoff`` the default cut-off is recomputed on the train part.

    Returns
    -------
    Split whose ``train`` is the fitting part and whose ``test`` is the validation part.
    """
    if isinstance(split_or_train, Split):
        info = split_or_train.info
        params = {
            "method": info["method"],
            "test_fraction": info["test_fraction"],
            "n_last": info["n_last"],
            "seed": info["seed"] + 1,
        }
        train = split_or_train.train
    else:
        params = {}
        train = split_or_train
    params.update(overrides)
    out = split(train, **params)
    out.info["part"] = "validation"
    return out


# ---------------------------------------------------------------------------- helpers
def _to_unix(value: float | str | pd.Timestamp) -> float:
    if isinstance(value, int | float | np.integer | np.floating):
        return float(value)
    stamp = pd.Timestamp(value)
    if stamp.tzinfo is not None:
        stamp = stamp.tz_localize(None)
    return stamp.value / 1e9


def _make_split(dataset: Dataset, is_test: np.ndarray, info: dict[str, Any]) -> Split:
    df = dataset.interactions
    train_df = df.loc[~is_test]
    test_df = df.loc[is_test]
    train_users = np.unique(train_df[Col.USER_IDX].to_numpy())
    train_items = np.unique(train_df[Col.ITEM_IDX].to_numpy())
    test_users = np.unique(test_df[Col.USER_IDX].to_numpy())
    test_items = np.unique(test_df[Col.ITEM_IDX].to_numpy())
    cold_users = np.setdiff1d(test_users, train_users, assume_unique=True).astype(np.int32)
    cold_items = np.setdiff1d(test_items, train_items, assume_unique=True).astype(np.int32)
    info.update(
        {
            "train_pairs": len(train_df),
            "train_users": len(train_users),
            "train_items": len(train_items),
            "test_pairs": len(test_df),
            "test_users": len(test_users),
            "test_items": len(test_items),
            "test_share": len(test_df) / max(len(df), 1),
            "test_users_cold": len(cold_users),
            "test_items_cold": len(cold_items),
            "test_pairs_cold_user": int(
                np.isin(test_df[Col.USER_IDX].to_numpy(), cold_users).sum()
            ),
            "test_pairs_cold_item": int(
                np.isin(test_df[Col.ITEM_IDX].to_numpy(), cold_items).sum()
            ),
        }
    )
    name = dataset.name
    return Split(
        train=dataset.with_interactions(train_df, name=f"{name} (train)"),
        test=dataset.with_interactions(test_df, name=f"{name} (test)"),
        info=info,
        cold_users=cold_users,
        cold_items=cold_items,
    )
