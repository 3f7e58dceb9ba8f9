"""Single-model hyper-parameters scored on the validation stage only (never on test).

The split is the one a run uses (``train_run``): per-user temporal 80/20 (seed 0) for test,
then the same again inside the training part (seed 1) for validation. Each setting is fitted
on the validation stage's training part and scored by NDCG@10 / recall@10 on its held-out part
(already-seen items excluded). Fit times are CPU seconds (``time.process_time``).

    PYTHONPATH=. .venv/bin/python docs/experiments/tune_models.py INTERACTIONS.csv CATALOG.csv \\
        MODEL '{"param": [v1, v2], ...}' [--fixed '{"param": v}'] [--threads N]

Every combination of the listed values is tried (a grid); ``--fixed`` applies to all.
"""

from __future__ import annotations

import argparse
import itertools
import json
import time

import numpy as np
from threadpoolctl import threadpool_limits

from recsys.data.ingest import load_dataset
from recsys.data.split import split
from recsys.models import make_model
from recsys.models.base import mask_exclusions
from recsys.ranking.topk import top_k_indices


def validation_scores(model, train, test, k: int = 10) -> dict[str, float]:
    """NDCG@k and recall@k of a fitted model on the held-out users of ``test``."""
    users = test.active_users()
    truth = test.matrix("ones")
    seen = train.matrix("ones")
    discount = 1.0 / np.log2(np.arange(k) + 2.0)
    ideal = np.concatenate([[0.0], np.cumsum(discount)])
    ndcg, recall = [], []
    for start in range(0, len(users), 1024):
        block = users[start : start + 1024]
        s = np.array(model.score_items(block), np.float32)
        mask_exclusions(s, seen[block])
        idx, _ = top_k_indices(s, k)
        t = truth[block].toarray() > 0
        rel = np.take_along_axis(t, np.maximum(idx, 0), 1) & (idx >= 0)
        n_rel = t.sum(1)
        ndcg.append(rel @ discount[: idx.shape[1]] / ideal[np.minimum(n_rel, k)])
        recall.append(rel.sum(1) / n_rel)
    return {
        "ndcg@10": float(np.concatenate(ndcg).mean()),
        "recall@10": float(np.concatenate(recall).mean()),
    }


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("interactions")
    p.add_argument("catalog")
    p.add_argument("model")
    p.add_argument("grid", nargs="?", default="{}")
    p.add_argument("--fixed", default="{}")
    p.add_argument("--threads", type=int, default=None, help="BLAS threads (default: as is)")
    args = p.parse_args()
    ds = load_dataset(args.interactions, args.catalog).dataset
    outer = split(ds, method="temporal", test_fraction=0.2, seed=0)
    inner = split(outer.train, method="temporal", test_fraction=0.2, seed=1)
    grid = json.loads(args.grid)
    fixed = json.loads(args.fixed)
    keys = list(grid)
    with threadpool_limits(args.threads):
        for values in itertools.product(*(grid[k] for k in keys)):
            params = {**fixed, **dict(zip(keys, values, strict=True))}
            model = make_model(args.model, **params)
            cpu, wall = time.process_time(), time.perf_counter()
            model.fit(inner.train)
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            m = validation_scores(model, inner.train, inner.test)
            extra = {k: getattr(model, k) for k in ("l2_", "best_epochs_") if hasattr(model, k)}
            print(
                f"{args.model} {json.dumps(params)} ndcg@10={m['ndcg@10']:.4f} "
                f"recall@10={m['recall@10']:.4f} fit_cpu={cpu:.2f}s wall={wall:.2f}s {extra}",
                flush=True,
            )


if __name__ == "__main__":
    main()
