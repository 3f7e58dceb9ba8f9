"""Speed benchmark: ``python -m recsys bench``. Prints figures; asserts nothing.

For generated stores of several sizes (and optionally a CSV dataset) it measures, per model:
fit time; time to score every user and take the top-20 (vectorised, blocks of 512 users, one
worker thread per core with BLAS held to one thread); the same top-20 through the naive
per-pair ``predict`` loop that tutorials use, timed on a sample of users and extrapolated; the
candidate pool build, a re-fuse + re-rank of every user after a weight change, the ingest of
the store's interaction log written as CSV, and peak memory.

The reference is a bare numpy product (users x 64 @ 64 x items) + ``argpartition`` top-20 of
the same shapes and blocking. It is timed **interleaved** with each model (reference, model,
reference, model ...) so that both see the same machine load; a ratio is only ever taken
between figures of the same run. Every timing is given as wall time and as CPU time (user +
system, all threads of the process, from ``getrusage``), with the system share and the minor
page faults: on a shared machine CPU time is the steadier figure.
"""

from __future__ import annotations

import os
import resource
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from recsys.data.dataset import Dataset
from recsys.data.schema import DEFAULT_EVENT_WEIGHTS, Col
from recsys.evaluation.metrics import evaluate_lists
from recsys.evaluation.sampling import stratified_sample
from recsys.evaluation.segments import SegmentRule
from recsys.models import DEFAULT_MODELS, make_model
from recsys.ranking.candidates import CandidatePool, build_pool
from recsys.ranking.fusion import FusionConfig, fuse
from recsys.ranking.rerank import ItemTable, RerankConfig, rerank
from recsys.service.run_base import item_table

SIZES: dict[str, tuple[int, int, int]] = {
    "default": (2_000, 500, 50_000),
    "medium": (50_000, 5_000, 2_000_000),
    "large": (100_000, 10_000, 4_000_000),
}
#: The models timed: the default preset's.
BENCH_MODELS = DEFAULT_MODELS
#: The settings timed here (the models' defaults train longer; see the README's table).
TIMED_PARAMS = {
    "svd": {"n_epochs": 10, "n_factors": 64},
    "lightfm_warp": {"epochs": 5, "no_components": 64, "num_threads": 2},
}
K = 20
#: Worker threads for top-k and the pool: one per core this process may use.
N_JOBS = max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1)


def _stdout(text: str) -> None:
    """The default ``write``: one line on stdout (the CLI passes its own)."""
    sys.stdout.write(text + "\n")


def _now() -> float:
    return time.perf_counter()


@dataclass(frozen=True)
class Timing:
    """One measured call.

    Attributes
    ----------
    wall : elapsed seconds.
    cpu : user + system CPU seconds of the whole process (every thread).
    sys : the system part of ``cpu`` (page faults, allocation).
    faults : minor page faults during the call.
    """

    wall: float
    cpu: float
    sys: float
    faults: int

    def __str__(self) -> str:
        return f"{self.wall:7.3f} s wall / {self.cpu:7.3f} s CPU ({self.sys / max(self.cpu, 1e-9):3.0%} sys)"


def measure(fn: Callable[[], object]) -> Timing:
    """Wall and CPU time (``getrusage``: every thread of this process) of one call of ``fn``."""
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = _now()
    fn()
    wall = _now() - t0
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    sys_s = r1.ru_stime - r0.ru_stime
    return Timing(wall, r1.ru_utime - r0.ru_utime + sys_s, sys_s, r1.ru_minflt - r0.ru_minflt)


def fastest(timings: Sequence[Timing]) -> Timing:
    """Per field, the smallest of several repeats (each field on its own)."""
    return Timing(
        min(t.wall for t in timings),
        min(t.cpu for t in timings),
        min(t.sys for t in timings),
        min(t.faults for t in timings),
    )


def best_of(fn, repeats: int) -> float:
    """Fastest wall time of ``repeats`` calls of ``fn``."""
    return fastest([measure(fn) for _ in range(repeats)]).wall


def peak_memory_mb() -> float:
    """Peak resident memory of this process so far, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def demo_frames(
    n_users: int, n_items: int, n_events: int, seed: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The generated store as a raw export: ``(catalog, events)`` with string ids."""
    from recsys.data.demo import generate_store

    catalog, events = generate_store(n_users=n_users, n_items=n_items, n_events=n_events, seed=seed)
    return catalog, events


def demo_dataset(n_users: int, n_items: int, n_events: int, seed: int = 0) -> tuple[Dataset, float]:
    """Generate a store and turn it into a Dataset; returns it and the seconds taken."""
    t0 = _now()
    catalog, events = demo_frames(n_users, n_items, n_events, seed)
    return _frames_dataset(catalog, events, f"demo {n_users}x{n_items}"), _now() - t0


def _frames_dataset(catalog: pd.DataFrame, events: pd.DataFrame, name: str) -> Dataset:
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
    return Dataset.construct(frame, cat, name=name)


def csv_dataset(interactions: str, catalog: str | None) -> tuple[Dataset, float]:
    """Load a CSV log (and catalog) as the app would; returns the Dataset and the seconds taken."""
    from recsys.data.ingest import load_dataset

    t0 = _now()
    result = load_dataset(interactions, catalog)
    return result.dataset, _now() - t0


def ingest_timing(events: pd.DataFrame) -> tuple[Timing, int, float]:
    """Write ``events`` as a UTF-8 CSV (not timed) and time ``load_dataset`` on it.

    Returns the timing, the rows and the file size in MB.
    """
    from recsys.data.ingest import load_dataset

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "interactions.csv"
        events.to_csv(path, index=False, encoding="utf-8")
        size_mb = path.stat().st_size / 2**20
        timing = measure(lambda: load_dataset(path))
    return timing, len(events), size_mb


def reference_product_topk(
    n_users: int, n_items: int, factors: int, k: int = K, n_jobs: int = N_JOBS
) -> Callable[[], None]:
    """A call doing a bare float32 (users x f) @ (f x items) + argpartition top-k, same blocking.

    The factors are drawn once, outside the returned call, so that only the product and the
    selection are timed.
    """
    rng = np.random.default_rng(0)
    p = rng.standard_normal((n_users, factors), dtype=np.float32)
    q = rng.standard_normal((n_items, factors), dtype=np.float32)
    k = min(k, n_items)

    def block(start: int) -> None:
        s = p[start : start + 512] @ q.T
        part = np.argpartition(s, n_items - k, axis=1)[:, n_items - k :]
        vals = np.take_along_axis(s, part, axis=1)
        np.take_along_axis(part, np.argsort(-vals, axis=1), axis=1)

    def run() -> None:
        with threadpool_limits(1, user_api="blas"), ThreadPoolExecutor(n_jobs) as ex:
            list(ex.map(block, range(0, n_users, 512)))

    return run


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
    label: str,
    ds: Dataset,
    prep_seconds: float,
    models: Sequence[str],
    naive: bool = True,
    events: pd.DataFrame | None = None,
    write: Callable[[str], None] = _stdout,
) -> list[dict]:
    """Run every measurement on one dataset and ``write`` a table, line by line; returns the rows.

    ``events`` (the raw log of a generated store) adds an ingest timing of that log as CSV.
    """
    write(
        f"\n== {label}: {ds.n_users:,} users x {ds.n_items:,} items, {len(ds.interactions):,} pairs "
        f"(prepared in {prep_seconds:.1f} s) | {N_JOBS} worker thread(s)"
    )
    users = np.arange(ds.n_users, dtype=np.int32)
    exclude = ds.matrix("ones")
    # best of 3 on small data, of 2 on larger: single timings on a shared machine are noisy
    repeats = 3 if ds.n_users <= 20_000 else 2
    reference = reference_product_topk(ds.n_users, ds.n_items, 64)
    rows, fitted = [], {}
    for name in models:
        model = make_model(name, **TIMED_PARAMS.get(name, {}))
        fit = measure(partial(model.fit, ds))
        # one warm-up block each: a compiled kernel's first call loads it from numba's disk
        # cache (a fixed ~0.3 s, not a cost per user), and first touches of memory are paid once
        reference_product_topk(512, ds.n_items, 64)()
        model.recommend(users[:512], K, exclude=exclude[:512], n_jobs=N_JOBS)
        # reference and model alternate, so both see the same load on a shared machine
        ref_runs, topk_runs = [], []
        for _ in range(repeats):
            ref_runs.append(measure(reference))
            topk_runs.append(
                measure(partial(model.recommend, users, K, exclude=exclude, n_jobs=N_JOBS))
            )
        ref, topk = fastest(ref_runs), fastest(topk_runs)
        naive_s, how = naive_loop_seconds(name, ds, model) if naive else (float("nan"), "skipped")
        fitted[name] = model
        row = {
            "model": name,
            "fit_s": round(fit.wall, 2),
            "fit_cpu_s": round(fit.cpu, 2),
            "top20_all_users_s": round(topk.wall, 3),
            "top20_cpu_s": round(topk.cpu, 3),
            "reference_s": round(ref.wall, 3),
            "reference_cpu_s": round(ref.cpu, 3),
            "vs_reference_cpu": round(topk.cpu / max(ref.cpu, 1e-9), 2),
            "vs_reference_wall": round(topk.wall / max(ref.wall, 1e-9), 2),
            "users_per_s": int(ds.n_users / topk.wall),
            "naive_loop_s (extrapolated)": round(naive_s, 1),
            "speedup_vs_naive": round(naive_s / topk.wall, 0) if np.isfinite(naive_s) else None,
        }
        rows.append(row)
        write(
            f"  {name:<14} fit {fit.wall:7.2f} s wall / {fit.cpu:7.2f} s CPU"
            f" | top-{K} all users {topk} ({row['users_per_s']:,} users/s)"
            f" | reference {ref}"
            f" | x{row['vs_reference_cpu']:.2f} CPU, x{row['vs_reference_wall']:.2f} wall"
        )
        if np.isfinite(naive_s):
            write(f"  {'':<14} naive loop {naive_s:9.1f} s ({how}) | x{row['speedup_vs_naive']}")
    write(
        f"  (reference: bare numpy {ds.n_users}x64 @ 64x{ds.n_items} + argpartition top-{K}, "
        "timed between the model's runs)"
    )

    scorers = {name: m.score_items for name, m in fitted.items()}
    box: dict = {}
    pool_t = measure(
        lambda: box.setdefault(
            "pool", build_pool(scorers, users, per_model=min(100, ds.n_items), exclude=exclude)
        )
    )
    pool = box.pop("pool")
    ref_pool = measure(reference)
    items = item_table(ds)
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
    write(
        f"  candidate pool (union of top-100 per model, {pool.items.shape[1]} columns): {pool_t}, "
        f"{pool_t.faults:,} minor faults | {pool_t.cpu / max(ref_pool.cpu, 1e-9):.1f}x the "
        f"reference's CPU ({ref_pool.cpu:.3f} s, timed right after)"
    )
    write(
        f"  re-fuse + re-rank every user after a weight change: {refuse_s * 1000:.1f} ms "
        f"(with MMR + category cap + novelty: {refuse_div_s * 1000:.1f} ms)"
    )
    plain_ms, knobs_ms, n_sample = slider_path_ms(ds, pool, items, cfg, new_cfg)
    write(
        f"  slider path on the lab's sample ({n_sample:,} users: re-fuse + re-rank + every "
        f"metric), median of 5: {plain_ms:.1f} ms (with MMR + category cap + novelty: "
        f"{knobs_ms:.1f} ms)"
    )
    if events is not None:
        del pool, fused
        ingest, n_rows, size_mb = ingest_timing(events)
        write(f"  ingest of the log as CSV ({n_rows:,} rows, {size_mb:,.0f} MB): {ingest}")
    write(f"  peak memory so far: {peak_memory_mb():,.0f} MB")
    return rows


def slider_path_ms(
    ds: Dataset,
    pool: CandidatePool,
    items: ItemTable,
    cfg: FusionConfig,
    new_cfg: FusionConfig,
    repeats: int = 5,
) -> tuple[float, float, int]:
    """What the Fusion lab does on a weight change, timed on its fixed stratified sample.

    Re-fuse, re-rank and compute every metric of ``evaluate_lists`` for the sampled users
    (``LAB_SAMPLE_USERS`` at most). The truth is each sampled user's training items (any sparse
    truth costs the same). Returns ``(plain ms, with MMR + cap + novelty ms, sample size)``,
    each the median of ``repeats`` timings (a stray slow run on a busy machine does not count).
    """
    activity = ds.user_activity()
    rows = stratified_sample(SegmentRule.from_activity(activity).labels(activity[pool.users]))
    sample = pool.subset(rows) if len(rows) < len(pool) else pool
    truth = ds.matrix("ones")
    fuse(sample, cfg)  # the lab's sample pool keeps its normalised scores, as in the app
    out = []
    for knobs in ({}, {"mmr_lambda": 0.7, "category_cap": 4, "novelty": 0.1}):
        rr = RerankConfig(k=10, **knobs)  # type: ignore[arg-type]
        times = []
        for _ in range(repeats):
            t0 = _now()
            ranked = rerank(sample, fuse(sample, new_cfg), rr, items)
            evaluate_lists(
                ranked.topk,
                truth,
                k=10,
                train=truth,
                item_vectors=items.vectors,
                item_category=items.category,
            )
            times.append((_now() - t0) * 1000)
        out.append(float(np.median(times)))
    return out[0], out[1], len(sample)


def main(
    sizes: Sequence[str] = ("default", "medium"),
    models: Sequence[str] = BENCH_MODELS,
    interactions: str | None = None,
    catalog: str | None = None,
    naive: bool = True,
    write: Callable[[str], None] = _stdout,
) -> int:
    """Print the speed benchmark for the generated ``sizes`` and an optional CSV log; returns 0."""
    write(
        f"Fusion Studio benchmark | cores: {os.cpu_count()} (using {N_JOBS}) | "
        f"numpy {np.__version__} | load average {os.getloadavg()[0]:.2f}"
    )
    for size in sizes:
        n_users, n_items, n_events = SIZES[size]
        t0 = _now()
        catalog_frame, events = demo_frames(n_users, n_items, n_events)
        ds = _frames_dataset(catalog_frame, events, f"demo {n_users}x{n_items}")
        prep = _now() - t0
        del catalog_frame
        bench_dataset(
            f"generated store '{size}'", ds, prep, models, naive=naive, events=events, write=write
        )
        del ds, events
    if interactions:
        ds, prep = csv_dataset(interactions, catalog)
        bench_dataset(f"CSV {interactions}", ds, prep, models, naive=naive, write=write)
    write(f"load average at the end: {os.getloadavg()[0]:.2f}")
    return 0
