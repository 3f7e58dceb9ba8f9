"""How far are validation-tuned fusion weights from weights tuned on the test part itself?

For measurement only (tuning on test is exactly what the product never does):
    PYTHONPATH=. .venv/bin/python docs/experiments/oracle_gap.py INTERACTIONS.csv [CATALOG.csv]
"""

import sys

from recsys.data.ingest import load_dataset
from recsys.evaluation.tuning import tune_weights
from recsys.ranking.fusion import FusionConfig
from recsys.service.preset import default_preset
from recsys.service.training import train_run

result = load_dataset(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None)
run = train_run(result.dataset, default_preset())
tuned = run.autotune()
on_test = run.evaluate(FusionConfig(weights=tuned.best_weights)).fusion.values["ndcg@10"]
oracle = tune_weights(
    lambda w: run.evaluate(FusionConfig(weights=w)).fusion.values,
    run.model_names,
    objective="ndcg@10",
    n_samples=120,
)
best = oracle.best_metrics["ndcg@10"]
print(f"validation-tuned weights on test: NDCG@10 {on_test:.4f}")
print(f"weights tuned on test itself:     NDCG@10 {best:.4f} (gap {best - on_test:.4f})")
