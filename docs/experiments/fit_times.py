"""Fit time of each model with its default parameters on one log (one fit on all the data).

CPU seconds (``time.process_time``, summed over threads) are the figure to quote on a shared
machine; wall seconds are printed beside them.

    PYTHONPATH=. .venv/bin/python docs/experiments/fit_times.py INTERACTIONS.csv CATALOG.csv \\
        [MODEL,MODEL,...]
"""

from __future__ import annotations

import sys
import time

from recsys.data.ingest import load_dataset
from recsys.models import make_model

DEFAULT = "popularity,item_knn,content_tfidf,svd,lightfm_warp,ease,rp3beta,als,bpr"


def main() -> None:
    ds = load_dataset(sys.argv[1], sys.argv[2]).dataset
    names = (sys.argv[3] if len(sys.argv) > 3 else DEFAULT).split(",")
    print(f"{ds.name}: {ds.n_users:,} users x {ds.n_items:,} items, {len(ds.interactions):,} pairs")
    print(f"{'model':<14}{'cpu s':>8}{'wall s':>8}")
    for name in names:
        model = make_model(name)
        cpu, wall = time.process_time(), time.perf_counter()
        model.fit(ds)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        print(f"{name:<14}{cpu:>8.2f}{wall:>8.2f}", flush=True)


if __name__ == "__main__":
    main()
