"""Speed benchmark: ``python -m recsys bench``. Prints figures; asserts nothing.

For generated stores of several sizes (and optionally a CSV dataset) it measures, per model:
fit time; time to score every user and take the top-20 (vectorised, blocks of 512 users, two
worker threads with BLAS held to one thread); the same top-20 through the naive per-pair
``predict`` loop that tutorials use, timed on a sample of users and extrapolated; then the
reference cost of a bare numpy product + ``argpartition`` of the same shapes, the candidate
pool build, a re-fuse + re-rank of every user after a weight change, and peak memory.
"""

from __future__ import annotations

import resource
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from recsys.data.dataset import Dataset
from recsys.data.features import item_dense_vectors, item_label_codes
from recsys.data.schema import DEFAULT_EVENT_WEIGHTS, Col
from recsys.models import make_model
from recsys.ranking.candidates import build_pool
from recsys.ranking.fusion import FusionConfig, fuse
from recsys.ranking.rerank import ItemTable, RerankConfig, rerank

SIZES: dict[str, tuple[int, int, int]] = {
    "default": (2_000, 500, 50_000),
    "medium": (50_000, 5_000, 2_000_000),
    "large": (100_000, 10_000, 4_000_000),
}
BENCH_MODELS = ("svd", "lightfm_warp", "item_knn", "content_tfidf", "popularity")
FAST_PARAMS = {
    "svd": {"n_epochs": 10, "n_factors": 64},
    "lightfm_warp": {"epochs": 5, "no_components": 64, "num_threads": 2},
}
K = 20


def _now() -> float:
    return time.perf_counter()


def best_of(fn, repeats: int) -> float:
    """Fastest wall time of ``repeats`` calls of ``fn``."""
    times = []
    for _ in range(repeats):
        t0 = _now()
        fn()
        times.append(_now() - t0)
    return min(times)


def peak_memory_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def demo_dataset(n_users: int, n_items: int, n_events: int, seed: int = 0) -> tuple[Dataset, float]:
    """Generate a store and turn it into a Dataset; returns it and the seconds taken."""
    from recsys.data.demo import generate_store

    t0 = _now()
    catalog, events = generate_store(n_users=n_users, n_items=n_items, n_events=n_events, seed=seed)
    frame = pd.DataFrame(
        {
            Col.USER: events["user_id"].astype(str),
            Col.ITEM: events["item_id"].astype(str),
            Col.WEIGHT: events["event"].map(DEFAULT_EVENT_WEIGHTS).fillna(1.0).astype(np.float32),
            Col.EVENT: events["event"].astype(str),
            Col.TIMESTAMP: pd.to_datetime(events["timestamp"]),
        }
    )
    cat = catalog.rename(columns={"item_id": Col.ITEM}).astype({Col.ITEM: str})
    cat[Col.PRICE] = pd.to_numeric(cat.get(Col.PRICE), errors="coerce")
    ds = Dataset.construct(frame, cat, name=f"demo {n_users}x{n_items}")
    return ds, _now() - t0


def csv_dataset(interactions: str, catalog: str | None) -> tuple[Dataset, float]:
    from recsys.data.ingest import load_dataset

    t0 = _now()
    result = load_dataset(interactions, catalog)
    return result.dataset, _now() - t0


def reference_product_topk(
    n_users: int, n_items: int, factors: int, k: int = K, n_jobs: int = 2
) -> float:
    """Seconds for a bare float32 (users x f) @ (f x items) + argpartition top-k, same blocking."""
    rng = np.random.default_rng(0)
    p = rng.standard_normal((n_users, factors), dtype=np.float32)
    q = rng.standard_normal((n_items, factors), dtype=np.float32)

    def block(start: int) -> None:
        s = p[start : start + 512] @ q.T
        part = np.argpartition(s, n_items - k, axis=1)[:, n_items - k :]
        vals = np.take_along_axis(s, part, axis=1)
        np.take_along_axis(part, np.argsort(-vals, axis=1), axis=1)

    t0 = _now()
    with threadpool_limits(1, user_api="blas"), ThreadPoolExecutor(n_jobs) as ex:
        list(ex.map(block, range(0, n_users, 512)))
    return _now() - t0


def naive_loop_seconds(name: str, ds: Dataset, model, sample_users: int = 5) -> tuple[float, str]:
    """Per-pair prediction as tutorials do it, timed on a few users, extrapolated to all users."""
    users = np.arange(min(sample_users, ds.n_users))
    if name.startswith("lightfm"):
        lf = model.model_ if hasattr(model, "model_") else None
        if lf is None:
            return float("nan"), "n/a"
        item_features = getattr(model, "item_features_", None)
        t0 = _now()
        for u in users:
            for i in range(ds.n_items):
                lf.predict(
                    np.array([u], np.int32), np.array([i], np.int32), item_features=item_features
                )
        per_user = (_now() - t0) / len(users)
        return per_user * ds.n_users, "LightFM.predict per (user, item)"
    if name in {
        "svd",
        "svdpp",
        "nmf",
        "baseline_only",
        "knn_baseline",
        "slope_one",
        "coclustering",
    }:
        from surprise import SVD, Reader
        from surprise import Dataset as SDataset

        df = ds.interactions
        r = np.clip(
            1 + 4 * np.log1p(df[Col.WEIGHT]) / np.log1p(df[Col.WEIGHT].quantile(0.95)), 1, 5
        )
        frame = pd.DataFrame({"u": df[Col.USER_IDX], "i": df[Col.ITEM_IDX], "r": r})
        algo = SVD(n_epochs=1, n_factors=64, random_state=0)
        algo.fit(SDataset.load_from_df(frame, Reader(rating_scale=(1, 5))).build_full_trainset())
        t0 = _now()
        for u in users:
            for i in range(ds.n_items):
                algo.predict(int(u), int(i))
        per_user = (_now() - t0) / len(users)
        return per_user * ds.n_users, "surprise algo.predict per (user, item)"
    return float("nan"), "n/a"


def bench_dataset(
    label: str, ds: Dataset, prep_seconds: float, models: Sequence[str], naive: bool = True
) -> list[dict]:
    """Run every measurement on one dataset and print a table; returns the rows."""
    print(
        f"\n== {label}: {ds.n_users:,} users x {ds.n_items:,} items, {len(ds.interactions):,} pairs "
        f"(prepared in {prep_seconds:.1f} s)"
    )
    users = np.arange(ds.n_users, dtype=np.int32)
    exclude = ds.matrix("ones")
    repeats = 3 if ds.n_users <= 20_000 else 1  # best of 3 on small data: timings there are noisy
    rows, fitted = [], {}
    for name in models:
        model = make_model(name, **FAST_PARAMS.get(name, {}))
        t0 = _now()
        model.fit(ds)
        fit_s = _now() - t0
        topk_s = best_of(lambda m=model: m.recommend(users, K, exclude=exclude, n_jobs=2), repeats)
        naive_s, how = naive_loop_seconds(name, ds, model) if naive else (float("nan"), "skipped")
        fitted[name] = model
        row = {
            "model": name,
            "fit_s": round(fit_s, 2),
            "top20_all_users_s": round(topk_s, 3),
            "users_per_s": int(ds.n_users / topk_s),
            "naive_loop_s (extrapolated)": round(naive_s, 1),
            "speedup_vs_naive": round(naive_s / topk_s, 0) if np.isfinite(naive_s) else None,
        }
        rows.append(row)
        print(
            f"  {name:<14} fit {fit_s:7.2f} s | top-{K} all users {topk_s:7.3f} s ({row['users_per_s']:,} users/s)"
            f" | naive loop {naive_s:9.1f} s ({how}) | x{row['speedup_vs_naive']}"
        )
    ref = min(reference_product_topk(ds.n_users, ds.n_items, 64) for _ in range(repeats))
    print(
        f"  reference: bare numpy {ds.n_users}x64 @ 64x{ds.n_items} + argpartition top-{K}: {ref:.3f} s"
    )
    for row in rows:
        if row["model"] in {"svd", "lightfm_warp"}:
            print(f"    {row['model']}: {row['top20_all_users_s'] / ref:.2f}x the reference")

    scorers = {name: m.score_items for name, m in fitted.items()}
    t0 = _now()
    pool = build_pool(scorers, users, per_model=min(100, ds.n_items), exclude=exclude)
    pool_s = _now() - t0
    items = ItemTable.from_arrays(
        category=item_label_codes(ds, Col.CATEGORY),
        brand=item_label_codes(ds, Col.BRAND),
        popularity=ds.item_popularity(),
        vectors=item_dense_vectors(ds),
        catalog=ds.catalog,
    )
    cfg = FusionConfig(weights={n: 1.0 for n in fitted})
    fuse(pool, cfg)  # warm the normalisation cache, as the app does once per pool
    new_cfg = FusionConfig(weights={n: (2.0 if i == 0 else 1.0) for i, n in enumerate(fitted)})
    t0 = _now()
    fused = fuse(pool, new_cfg)
    rerank(pool, fused, RerankConfig(k=10), items)
    refuse_s = _now() - t0
    t0 = _now()
    fused = fuse(pool, new_cfg)
    rerank(pool, fused, RerankConfig(k=10, mmr_lambda=0.7, category_cap=4, novelty=0.1), items)
    refuse_div_s = _now() - t0
    print(
        f"  candidate pool (union of top-100 per model, {pool.items.shape[1]} columns): {pool_s:.2f} s"
    )
    print(
        f"  re-fuse + re-rank every user after a weight change: {refuse_s * 1000:.1f} ms "
        f"(with MMR + category cap + novelty: {refuse_div_s * 1000:.1f} ms)"
    )
    print(f"  peak memory so far: {peak_memory_mb():,.0f} MB")
    return rows


def main(
    sizes: Sequence[str] = ("default", "medium"),
    models: Sequence[str] = BENCH_MODELS,
    interactions: str | None = None,
    catalog: str | None = None,
    naive: bool = True,
) -> int:
    import os

    print(f"Fusion Studio benchmark | cores: {os.cpu_count()} | numpy {np.__version__}")
    for size in sizes:
        n_users, n_items, n_events = SIZES[size]
        ds, prep = demo_dataset(n_users, n_items, n_events)
        bench_dataset(f"generated store '{size}'", ds, prep, models, naive=naive)
    if interactions:
        ds, prep = csv_dataset(interactions, catalog)
        bench_dataset(f"CSV {interactions}", ds, prep, models, naive=naive)
    return 0
