"""The accuracy benchmark runs end to end and reports every strategy (a small store, fast models)."""

from __future__ import annotations

import numpy as np

from recsys import quality_bench
from recsys.service.preset import Preset


def test_quality_benchmark_reports_every_strategy(monkeypatch):
    fast = Preset(models={"popularity": {}, "item_knn": {}, "content_tfidf": {}})
    monkeypatch.setattr(quality_bench, "default_preset", lambda: fast)
    ds = quality_bench.demo_source(n_users=300, n_items=120, n_events=6000)
    result = quality_bench.run_quality(ds, "tiny")
    rows = set(result.table.index)
    assert {"default", "blend (weighted, tuned)", "learning to rank"} <= rows
    assert {"popularity", "item_knn", "content_tfidf"} <= rows
    assert result.best_model in fast.models
    best = result.table.loc[result.best_model, "ndcg@10"]
    assert np.isclose(result.ratio, result.table.loc["default", "ndcg@10"] / best)
    assert 0 < result.p_value <= 1
    assert result.default in (*result.choice["scores"],)
    text = quality_bench.format_result(result)
    assert "chosen on validation" in text and "model fits" in text
    assert quality_bench.result_dict(result)["shape"]["users"] == ds.n_users
