"""Slider path at a large store on the lab's 5,000-user sample with every default model.

Usage: ``python docs/experiments/slider_at_scale.py USERS ITEMS EVENTS`` (e.g. 100000 10000 2000000).
Models are fitted with the default parameters except EASE's lambda (fixed instead of searched)
and the LightFM/ALS/SVD epochs (fewer): the slider path reads only the pool, whose shape (5,000 x
the union of the eight top-100 lists) is what matters. Prints the median of 5 timings, three times.
"""

import sys
import time

import numpy as np

from recsys.bench import demo_dataset, slider_path_ms
from recsys.evaluation.sampling import stratified_sample
from recsys.evaluation.segments import SegmentRule
from recsys.models import DEFAULT_MODELS, make_model
from recsys.ranking.candidates import build_pool
from recsys.ranking.fusion import FusionConfig
from recsys.service.run_base import item_table

n_users, n_items, n_events = map(int, sys.argv[1:4])
ds, _ = demo_dataset(n_users, n_items, n_events)
fast = {
    "ease": {"l2": 500.0},
    "lightfm_warp": {"epochs": 3},
    "als": {"iterations": 3},
    "svd": {"n_epochs": 5},
}
models = {}
for m in DEFAULT_MODELS:
    t = time.perf_counter()
    models[m] = make_model(m, **fast.get(m, {})).fit(ds)
    print(f"fit {m} {time.perf_counter() - t:.1f} s", flush=True)
act = ds.user_activity()
rows = stratified_sample(SegmentRule.from_activity(act).labels(act))
users = np.sort(rows.astype(np.int32))
pool = build_pool({m: mod.score_items for m, mod in models.items()}, users, per_model=100)
print(
    f"store {ds.n_users:,} x {ds.n_items:,}, {len(ds.interactions):,} pairs; sample pool {pool.items.shape}, {pool.n_models} models",
    flush=True,
)
items = item_table(ds)
cfg = FusionConfig(weights={m: 1.0 for m in models})
new = FusionConfig(weights={m: (2.0 if m == "als" else 1.0) for m in models})
for _ in range(3):
    plain, knobs, n = slider_path_ms(ds, pool, items, cfg, new)
    print(
        f"slider path (median of 5) on {n:,} users: {plain:.1f} ms; with MMR + cap + novelty {knobs:.1f} ms",
        flush=True,
    )
