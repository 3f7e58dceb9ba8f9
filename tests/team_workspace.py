"""A small shared workspace for the team tests (AppTest and browser): two people's work on two
datasets, built with the library (no app, no training in the browser).

* ``demo``: the fast demo store (600 users), ``source = demo``, saved by alice, with two runs
  of the same models (so only their short ids and times tell them apart);
* ``movielens``: ratings and movies with genres (no brand, no price), with one run;
* ``shop_a``, ``shop_b``: two uploads that were both saved as "Shop" (made before names were
  checked), each with its own size;
* presets: "Anker week" (a ``brand == Anker`` boost, by alice) and two presets both named
  "Spring" (weighted sum and reciprocal rank fusion).
"""

from __future__ import annotations

import time
from pathlib import Path

from recsys.data.demo import generate_store
from recsys.data.ingest import load_dataset
from recsys.ranking.fusion import FusionConfig
from recsys.ranking.rerank import RerankConfig, Rule
from recsys.service.persistence import save_run
from recsys.service.preset import Preset
from recsys.service.training import train_run
from recsys.service.workspace import Workspace

MODELS = {"popularity": {}, "item_knn": {}}


def _save(ws: Workspace, result, name: str, source: str, by: str) -> str:
    meta = {"source": source, "report": result.report.to_dict(), "saved_by": by}
    return ws.save_dataset(name, result.events, result.catalog, meta, users=result.users)


def _movielens_bytes(n_users: int = 60, n_movies: int = 40) -> tuple[bytes, bytes]:
    ratings = "userId,movieId,rating,timestamp\n" + "\n".join(
        f"{u},{(u * 7 + 3 * j) % n_movies},{1 + (u + j) % 5},{1_600_000_000 + 3600 * (u + j)}"
        for u in range(n_users)
        for j in range(8)
    )
    movies = "movieId,title,genres\n" + "\n".join(
        f"{i},Movie {i} ({1990 + i}),{'Comedy|Drama' if i % 2 else 'Action'}"
        for i in range(n_movies)
    )
    return ratings.encode(), movies.encode()


def _shop_bytes(n_users: int) -> bytes:
    rows = [f"c{u},p{(u * 3 + j) % 9},view" for u in range(n_users) for j in range(4)]
    return ("customer,sku,action\n" + "\n".join(rows)).encode()


def build(root: Path) -> dict[str, str]:
    """Fill ``root`` and return the ids: datasets, runs and presets by role."""
    ws = Workspace(root)
    catalog, events, users = generate_store(
        n_users=600, n_items=200, n_events=12_000, with_users=True
    )
    demo = load_dataset(
        events.to_csv(index=False).encode(),
        catalog.to_csv(index=False).encode(),
        interactions_name="demo_interactions.csv",
        catalog_name="demo_catalog.csv",
        users=users.to_csv(index=False).encode(),
        users_name="demo_users.csv",
        name="Demo store",
    )
    ratings, movies = _movielens_bytes()
    movielens = load_dataset(
        ratings, movies, interactions_name="ratings.csv", catalog_name="movies.csv", name="ml"
    )
    ids = {
        "shop_a": _save(ws, load_dataset(_shop_bytes(12), name="Shop"), "Shop", "upload", "bob"),
        "shop_b": _save(ws, load_dataset(_shop_bytes(15), name="Shop"), "Shop", "upload", "bob"),
        "movielens": _save(ws, movielens, "MovieLens", "upload", "bob"),
        "demo": _save(ws, demo, "Demo store", "demo", "alice"),
    }
    preset = Preset(name="Quick", models=MODELS)
    for key, ds_key, result, by in (
        ("movielens_run", "movielens", movielens, "bob"),
        ("demo_run_1", "demo", demo, "alice"),
        ("demo_run_2", "demo", demo, "bob"),
    ):
        run = train_run(result.dataset, preset)
        time.sleep(1.0 - time.time() % 1.0)  # runs are dated to the second: keep their order
        ids[key] = save_run(run, ws, ids[ds_key], saved_by=by)
    anker = Preset(
        name="Anker week",
        models=MODELS,
        rerank=RerankConfig(rules=[Rule(kind="boost", column="brand", value="Anker", factor=2.0)]),
    )
    ids["anker"] = ws.save_preset(anker, as_new=True, saved_by="alice")
    for key, method in (("spring_weighted", "weighted"), ("spring_rrf", "rrf")):
        spring = Preset(name="Spring", models=MODELS, fusion=FusionConfig(method=method))
        ids[key] = ws.save_preset(spring, as_new=True, saved_by="bob")
    return ids
