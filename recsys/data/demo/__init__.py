"""A seeded phone-and-accessories store: a bilingual catalog and a view → cart → purchase log.

The generator plants the structure real stores have, so every model family has something
to learn and fusion has something to gain:

* **collaborative signal** – users belong to latent segments (gamers, photographers, budget
  students, business, fitness, family); each segment owns a few *taste clusters* of items that
  are drawn at random, independent of the item text, so only co-occurrence reveals them;
* **content signal** – brand loyalty, a price band per user and an *ecosystem*: whoever owns a
  Galaxy S24 browses S24 cases and protectors, Samsung earbuds and watches, chargers;
* **popularity** – a Zipf-like long tail;
* **funnels over time** – sessions of one or more views, sometimes a cart, sometimes a purchase
  later, over six months ending 2024-06-30; accessories follow the phone purchase.

Everything is vectorised with numpy (no per-user or per-event Python loop), so the default
store (2,000 users, 500 items, 50,000 events) takes a fraction of a second and benchmark sizes
(1M users, 20k items, 20M events) remain feasible.

The frames look like a raw export: string ids (item ids are zero-padded digits such as
``00042`` – a classic ingest trap – user ids look like ``U000123``), ISO timestamps as strings,
English and Chinese text (``title``/``title_zh`` and a bilingual ``description``).
"""

from __future__ import annotations

from pathlib import Path

from recsys.data.demo.store import generate_store
from recsys.data.demo.tables import CATEGORIES, DEMO_SEED


def write_demo(
    out_dir: str | Path,
    n_users: int = 2000,
    n_items: int = 500,
    n_events: int = 50_000,
    seed: int = 0,
) -> tuple[Path, Path]:
    """Write ``catalog.csv``, ``interactions.csv`` and ``users.csv`` (UTF-8) into ``out_dir``.

    Returns the two paths ``(catalog_path, interactions_path)``; ``users.csv`` (the user
    attribute table) sits next to them.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    catalog, interactions, users = generate_store(n_users, n_items, n_events, seed, with_users=True)
    catalog_path = out / "catalog.csv"
    interactions_path = out / "interactions.csv"
    catalog.to_csv(catalog_path, index=False, encoding="utf-8")
    interactions.to_csv(interactions_path, index=False, encoding="utf-8")
    users.to_csv(out / "users.csv", index=False, encoding="utf-8")
    return catalog_path, interactions_path


__all__ = ["CATEGORIES", "DEMO_SEED", "generate_store", "write_demo"]
