"""Small synthetic shop data for tests: a clustered phone-and-accessories store.

Users belong to a taste cluster (one category each, ``user % n_categories``) and mostly
interact with items of that category (``affinity``), so models that learn anything beat random.
Item ``i`` has category ``CATEGORIES[i % n_categories]``; the last ``n_cold_items`` catalog
items never appear in the events (cold items). Titles exist in English (``title``) and Chinese
(``title_zh``).

Usage::

    from tests.fixtures_data import make_dataset, make_frames
    ds = make_dataset(n_users=40, n_items=30)           # Dataset with catalog
    events, catalog = make_frames(n_users=40, n_items=30)  # the raw frames
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from recsys.data.dataset import Dataset

CATEGORIES = ("phone", "case", "charger", "headphones")
CATEGORY_ZH = {
    "phone": "智能手机",
    "case": "手机保护壳",
    "charger": "快速充电器",
    "headphones": "蓝牙耳机",
}
CATEGORY_EN = {
    "phone": "Smartphone 128GB",
    "case": "Protective Phone Case",
    "charger": "Fast Wall Charger",
    "headphones": "Wireless Bluetooth Headphones",
}
BRANDS = ("Acme", "Zeta", "Nova")
BRAND_ZH = {"Acme": "艾可", "Zeta": "泽塔", "Nova": "诺瓦"}
COLORS = ("black", "white", "blue")
EVENT_WEIGHTS = {"view": 1.0, "cart": 3.0, "purchase": 5.0}
T0 = pd.Timestamp("2024-01-01")


def make_catalog(n_items: int = 30, *, chinese: bool = True, seed: int = 0) -> pd.DataFrame:
    """Catalog with ``item_id, title, [title_zh], category, brand, price, price_band, color, tags``."""
    rng = np.random.default_rng(seed)
    idx = np.arange(n_items)
    cats = [CATEGORIES[i % len(CATEGORIES)] for i in idx]
    brands = [BRANDS[(i // len(CATEGORIES)) % len(BRANDS)] for i in idx]
    base_price = {"phone": 600.0, "case": 20.0, "charger": 30.0, "headphones": 120.0}
    price = np.round([base_price[c] * rng.uniform(0.6, 1.6) for c in cats], 2)
    band = pd.cut(price, [0, 25, 50, 200, np.inf], labels=["budget", "low", "mid", "premium"])
    frame = pd.DataFrame(
        {
            "item_id": [f"I{i:03d}" for i in idx],
            "title": [
                f"{b} {CATEGORY_EN[c]} model {i}"
                for i, (b, c) in enumerate(zip(brands, cats, strict=True))
            ],
            "category": cats,
            "brand": brands,
            "price": price,
            "price_band": band.astype(str),
            "color": [COLORS[i % len(COLORS)] for i in idx],
            "tags": ["sale|new" if i % 5 == 0 else ("new" if i % 2 else "sale") for i in idx],
        }
    )
    if chinese:
        frame.insert(
            2,
            "title_zh",
            [
                f"{BRAND_ZH[b]}{CATEGORY_ZH[c]}{i}号"
                for i, (b, c) in enumerate(zip(brands, cats, strict=True))
            ],
        )
    return frame


def make_events(
    n_users: int = 40,
    n_items: int = 30,
    *,
    n_cold_items: int = 3,
    events_per_user: int = 8,
    affinity: float = 0.85,
    ratings: bool = True,
    timestamps: bool = True,
    seed: int = 0,
) -> pd.DataFrame:
    """Events ``user_id, item_id, event, weight, [rating], [timestamp]`` over the first
    ``n_items - n_cold_items`` items; every user has events and every warm item is touched."""
    rng = np.random.default_rng(seed)
    n_warm = n_items - n_cold_items
    n_cat = len(CATEGORIES)
    warm = np.arange(n_warm)
    users, items = [], []
    for u in range(n_users):
        own = warm[warm % n_cat == u % n_cat]
        n_own = rng.binomial(events_per_user, affinity)
        users += [u] * events_per_user
        items += list(rng.choice(own, n_own)) + list(rng.choice(warm, events_per_user - n_own))
    for i in warm:  # every warm item has at least one event, from a user of its cluster
        users.append(int(rng.choice(np.arange(i % n_cat, n_users, n_cat))))
        items.append(int(i))
    users, items = np.asarray(users), np.asarray(items)
    in_cluster = (items % n_cat) == (users % n_cat)
    kinds = rng.choice(list(EVENT_WEIGHTS), len(users), p=[0.6, 0.25, 0.15])
    frame = pd.DataFrame(
        {
            "user_id": [f"U{u:03d}" for u in users],
            "item_id": [f"I{i:03d}" for i in items],
            "event": kinds,
            "weight": np.asarray([EVENT_WEIGHTS[k] for k in kinds], np.float32),
        }
    )
    if ratings:
        r = np.where(in_cluster, rng.integers(4, 6, len(users)), rng.integers(1, 4, len(users)))
        frame["rating"] = r.astype(np.float32)
    if timestamps:
        frame["timestamp"] = T0 + pd.to_timedelta(rng.uniform(0, 60, len(users)), unit="D")
    return frame


def make_frames(
    n_users: int = 40, n_items: int = 30, *, chinese: bool = True, seed: int = 0, **event_kwargs
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(events, catalog)`` frames (see ``make_events`` / ``make_catalog``)."""
    return (
        make_events(n_users, n_items, seed=seed, **event_kwargs),
        make_catalog(n_items, chinese=chinese, seed=seed),
    )


def make_dataset(
    n_users: int = 40,
    n_items: int = 30,
    *,
    catalog: bool = True,
    chinese: bool = True,
    seed: int = 0,
    name: str = "fixture",
    **event_kwargs,
) -> Dataset:
    """A ``Dataset`` of the clustered store; ``catalog=False`` gives events only (then the
    cold items do not exist at all)."""
    events, cat = make_frames(n_users, n_items, chinese=chinese, seed=seed, **event_kwargs)
    return Dataset.construct(events, cat if catalog else None, name=name)


def cold_items(dataset: Dataset) -> np.ndarray:
    """Internal indices of catalog items without any interaction."""
    return np.flatnonzero(dataset.item_popularity() == 0).astype(np.int32)


__all__ = ["CATEGORIES", "cold_items", "make_catalog", "make_dataset", "make_events", "make_frames"]
