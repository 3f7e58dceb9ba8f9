"""The export's time estimate and its advice: what to leave out to meet the time budget."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from recsys.cli import main
from recsys.data.demo import write_demo
from recsys.service import memory
from recsys.service.memory import ModelCost, export_time, time_advice

DEFAULT_AT_SCALE = {"rp3beta": {}, "als": {}, "item_knn": {}, "popularity": {}}
#: A million shoppers, as ``demo-data --users 1000000 --items 100000 --events 20000000``.
MILLION = dict(n_users=1_000_000, n_items=100_000, n_pairs=9_200_000, reading=100.0, cores=2)


@pytest.fixture
def costs(monkeypatch):
    """Made-up costs, so that the decisions below do not move when the measurements do."""
    fake = {
        "popularity": ModelCost(fit=1.0, score=10.0),
        "rp3beta": ModelCost(fit=10.0, score=50.0),
        "item_knn": ModelCost(fit=10.0, score=1500.0),
        "als": ModelCost(fit=10.0, score=50.0, threaded=True),
    }
    monkeypatch.setattr(memory, "EXPORT_COSTS", fake)
    monkeypatch.setattr(memory, "SPLIT_PER_MPAIR", 0.0)
    monkeypatch.setattr(memory, "UNION_PER_MUSER", 0.0)
    monkeypatch.setattr(memory, "FUSE_PER_MUSER", 100.0)
    monkeypatch.setattr(memory, "LTR_PER_MUSER", 100.0)
    monkeypatch.setattr(memory, "VALIDATION_FIXED", 60.0)
    return fake


def test_the_estimate_grows_with_users_and_models_and_shrinks_with_cores(costs):
    base = export_time(models=DEFAULT_AT_SCALE, learning_to_rank=True, **MILLION)
    parts = dict(base.parts)
    assert parts["reading the data"] == 100.0
    # item_knn: 10 s per M pairs on each stage (validation 0.64, full 1 x 9.2M pairs)
    assert parts["fitting item_knn"] == pytest.approx(10.0 * 9.2 * (1 + 0.64))
    assert parts["fitting als"] == pytest.approx(10.0 * 9.2 * 1.64 / 2)  # threaded: 2 cores
    assert parts["candidate pools"] == pytest.approx((10 + 50 + 1500 + 50) / 2)
    assert parts["learning to rank"] == 100.0
    assert base.total == pytest.approx(sum(parts.values()))
    more = export_time(
        models=DEFAULT_AT_SCALE, learning_to_rank=True, **{**MILLION, "n_users": 2_000_000}
    )
    one_core = export_time(
        models=DEFAULT_AT_SCALE, learning_to_rank=True, **{**MILLION, "cores": 1}
    )
    fewer = export_time(models={"popularity": {}}, learning_to_rank=True, **MILLION)
    no_validation = export_time(
        models=DEFAULT_AT_SCALE, learning_to_rank=False, validation=False, **MILLION
    )
    assert more.total > base.total and one_core.total > base.total
    assert fewer.total < base.total and no_validation.total < base.total


def test_no_advice_when_the_run_fits_the_budget(costs):
    small = dict(n_users=2_000, n_items=500, n_pairs=20_000, reading=1.0, cores=2)
    assert time_advice(30, DEFAULT_AT_SCALE, True, **small) is None


def test_the_costliest_model_is_left_out_first(costs):
    # about 26 min with everything; without item_knn 11 min, without rp3beta 23 min, without
    # als or learning to rank 24.3 min
    advice = time_advice(20, DEFAULT_AT_SCALE, True, **MILLION)
    assert advice is not None
    assert advice.drop_models == ("item_knn",) and not advice.drop_learning_to_rank
    assert advice.estimate.minutes <= 20 < advice.needed.minutes
    assert advice.line(20) == (
        f"At this size the default preset needs about {advice.needed.minutes:.1f} min; "
        "for 20 min leave out item_knn: --models rp3beta,als,popularity"
    )
    # when several single cuts are enough, the smallest one (the most work kept)
    advice = time_advice(24, DEFAULT_AT_SCALE, True, **MILLION)
    assert advice is not None and advice.drop_models == ("rp3beta",)
    assert 23 < advice.estimate.minutes <= 24


def test_learning_to_rank_is_named_when_it_is_the_cost(costs, monkeypatch):
    monkeypatch.setattr(memory, "LTR_PER_MUSER", 1500.0)  # 25 min of features and trees
    # 49 min with everything; without learning to rank 24 min, without item_knn 34 min
    advice = time_advice(30, DEFAULT_AT_SCALE, True, **MILLION)
    assert advice is not None and advice.drop_learning_to_rank and advice.drop_models == ()
    assert advice.line(30).endswith(
        "for 30 min leave out learning to rank: --models rp3beta,als,item_knn,popularity "
        "--strategy blend"
    )


def test_when_nothing_fits_the_fastest_choice_is_named(costs):
    advice = time_advice(0.5, DEFAULT_AT_SCALE, True, **MILLION)
    assert advice is not None and advice.models == ("popularity",)
    assert advice.drop_learning_to_rank
    assert "nothing fits 0.5 min" in advice.line(0.5)


def test_the_cli_prints_the_advice_and_fits_the_models_it_names(tmp_path, capsys):
    catalog, interactions = write_demo(tmp_path, n_users=300, n_items=80, n_events=4000, seed=3)
    base = ["export", "--interactions", str(interactions), "--catalog", str(catalog), "--quiet"]
    out = tmp_path / "recs.csv"
    args = [*base, "--models", "popularity,item_knn", "--strategy", "blend", "--out", str(out)]
    assert main([*args, "--time-budget", "0.000001"]) == 0
    err = capsys.readouterr().err
    assert re.search(
        r"At this size this preset needs about [\d.]+ min; nothing fits 1e-06 min, the fastest "
        r"choice \(about [\d.]+ min\) leaves out item_knn: --models popularity\n",
        err,
    )
    table = pd.read_csv(out, dtype=str)
    assert {"score_popularity", "score_item_knn"} <= set(table.columns)
    assert not any(
        c.startswith("score_") and c[6:] not in ("popularity", "item_knn") for c in table
    )
    assert main([*base, "--models", "popularity", "--preset", "p.json", "--out", str(out)]) == 2
    assert "either --models or --preset" in capsys.readouterr().err
    assert main([*base, "--models", "nope", "--out", str(out)]) == 2
    assert "unknown model 'nope'" in capsys.readouterr().err
