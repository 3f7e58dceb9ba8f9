"""Incremental updates: each model carried to a grown training set equals (or approximates, as
documented) a refit; a run is updated end to end, saved, and reported by the CLI."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from recsys.cli import main as cli_main
from recsys.data.dataset import Dataset
from recsys.models import make_model
from recsys.models.update import FullRetrainNeeded, data_delta, update_model
from recsys.service.incremental import refresh, retrain, retrain_gap, timing_table, update_run
from recsys.service.persistence import load_run, save_run
from recsys.service.preset import Preset
from recsys.service.training import train_run
from recsys.service.workspace import Workspace
from tests.fixtures_data import make_frames

N_USERS, N_ITEMS = 60, 30


@pytest.fixture(scope="module")
def frames():
    """(old events, all events, catalog): the last 30 events (and 3 new users) are new."""
    events, catalog = make_frames(N_USERS, N_ITEMS, seed=3)
    events = events.sort_values("timestamp", kind="stable").reset_index(drop=True)
    extra = events.tail(6).copy()
    extra["user_id"] = ["N001", "N001", "N002", "N002", "N003", "N003"]
    extra["timestamp"] = events["timestamp"].max() + pd.to_timedelta(np.arange(1, 7), unit="h")
    return events.iloc[:-30], pd.concat([events, extra], ignore_index=True), catalog


@pytest.fixture(scope="module")
def pair(frames):
    old_events, all_events, catalog = frames
    return Dataset.construct(old_events, catalog), Dataset.construct(all_events, catalog)


def _same_scores(a, b, n_users, atol=1e-5):
    users = np.arange(n_users, dtype=np.int32)
    np.testing.assert_allclose(a.score_items(users), b.score_items(users), atol=atol, rtol=1e-4)


def test_delta_finds_changed_and_new_users(pair):
    old, new = pair
    d = data_delta(old, new)
    assert len(d.new_users) == 3 and len(d.new_items) == 0
    assert set(d.new_users) <= set(d.changed_users)
    assert 0 < len(d.changed_users) < new.n_users
    same = np.setdiff1d(np.arange(new.n_users), d.changed_users)
    x_old = d.remap_matrix(old.matrix("weight"))
    assert (x_old[same] != new.matrix("weight")[same]).nnz == 0
    with pytest.raises(FullRetrainNeeded, match="removed"):
        data_delta(new, old)


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("popularity", {}),
        ("popularity", {"by": "weight"}),
        ("trending", {"half_life_days": 3.0}),
        ("item_knn", {"k_neighbors": N_ITEMS}),
        ("rp3beta", {"topk": N_ITEMS}),
        ("content_tfidf", {}),
    ],
)
def test_exact_updates_equal_a_refit(pair, name, params):
    old, new = pair
    model = make_model(name, **params).fit(old)
    done = update_model(model, old, new)
    assert done.incremental, done.note
    _same_scores(done.model, make_model(name, **params).fit(new), new.n_users)
    # the old model is not changed by the update
    _same_scores(model, make_model(name, **params).fit(old), old.n_users)


def test_item_knn_with_short_lists_keeps_the_touched_rows_exact(pair):
    old, new = pair
    model = make_model("item_knn", k_neighbors=5).fit(old)
    done = update_model(model, old, new)
    refit = make_model("item_knn", k_neighbors=5).fit(new)
    touched = data_delta(old, new).touched_items
    a, b = done.model.similarity_[touched].toarray(), refit.similarity_[touched].toarray()
    np.testing.assert_allclose(a, b, atol=1e-6)


def test_als_fold_in_is_the_exact_user_step(pair):
    old, new = pair
    model = make_model("als", factors=8, iterations=5).fit(old)
    done = update_model(model, old, new)
    d = data_delta(old, new)
    m = done.model
    y = m.item_factors_.astype(np.float64)
    from recsys.models.implicit_models import confidence

    conf = confidence(new.matrix("weight"), model.alpha, model.confidence_scale).toarray()
    lam = float(model.regularization)
    for u in d.changed_users[:5]:  # by hand, one user at a time: (YᵀCᵤY + λI) x = YᵀCᵤpᵤ
        c = conf[u]
        cu = np.where(c > 0, c, 1.0)
        p = (c > 0).astype(np.float64)
        a = (y.T * cu) @ y + lam * np.eye(y.shape[1])
        x = np.linalg.solve(a, (y.T * cu) @ p)
        np.testing.assert_allclose(m.user_factors_[u], x, rtol=1e-3, atol=1e-4)
    same = np.setdiff1d(np.arange(old.n_users), d.changed_users)
    np.testing.assert_array_equal(m.user_factors_[d.user_map[same]], model.user_factors_[same])


@pytest.mark.parametrize("name", ["svd", "svdpp", "lightfm_warp"])
def test_factor_fold_in_matches_scoring_the_history(pair, name):
    old, new = pair
    params = {"n_epochs": 5, "n_factors": 8} if name.startswith("svd") else {"epochs": 3}
    model = make_model(name, **params).fit(old)
    done = update_model(model, old, new)
    assert done.incremental and "fold-in" in done.note
    d = data_delta(old, new)
    x = new.matrix("rating" if getattr(model, "rating_source_", "") == "rating" else "weight")
    for u in d.changed_users[:5]:
        row = x[u]
        expected = model.score_history(row.indices, row.data)  # items keep their indices
        got = done.model.score_items(np.array([u], np.int32))[0]
        np.testing.assert_allclose(got, expected, rtol=1e-3, atol=1e-3)


def test_a_model_without_an_update_is_refitted_and_says_so(pair):
    old, new = pair
    done = update_model(make_model("ease").fit(old), old, new)
    assert not done.incremental and done.note.startswith("full retrain")
    _same_scores(done.model, make_model("ease").fit(new), new.n_users)


PRESET = Preset(
    models={
        "popularity": {},
        "item_knn": {},
        "als": {"factors": 8, "iterations": 5},
        "ease": {},
    }
)


@pytest.fixture(scope="module")
def stored(frames, tmp_path_factory):
    """A workspace with the old events, a run trained on them and the new events as a CSV."""
    old_events, all_events, catalog = frames
    root = tmp_path_factory.mktemp("update")
    ws = Workspace(root / "ws")
    ds_id = ws.save_dataset("shop", old_events, catalog, {})
    run = train_run(ws.load_dataset(ds_id), PRESET)
    run_id = save_run(run, ws, ds_id)
    new = all_events.iloc[len(old_events) :].copy()
    new["timestamp"] = new["timestamp"].dt.strftime("%Y-%m-%d %H:%M:%S")
    path = root / "new.csv"
    new.drop(columns=["weight"]).to_csv(path, index=False)
    return ws, ds_id, run_id, path, len(new)


def test_refresh_appends_updates_and_saves(stored):
    ws, ds_id, run_id, path, n_new = stored
    done = refresh(ws, run_id, path)
    assert done.appended.n_events == n_new and done.appended.new_users == 3
    assert done.appended.parent_id == ds_id and done.appended.dataset_id != ds_id
    assert set(done.report.incremental) == {"popularity", "item_knn", "als"}
    assert done.report.retrained == ["ease"]
    manifest = next(m for m in ws.list_runs() if m["run_id"] == done.run_id)
    assert manifest["update"]["parent_run"] == run_id
    assert manifest["update"]["retrained"] == ["ease"]
    again = load_run(ws, done.run_id)
    users = np.arange(again.dataset.n_users, dtype=np.int32)
    np.testing.assert_allclose(
        again.stages["full"].models["als"].score_items(users),
        done.run.stages["full"].models["als"].score_items(users),
    )
    # the old dataset and run are untouched
    assert load_run(ws, run_id).dataset.n_users == N_USERS
    # the new users are served from the full stage
    recs = done.run.recommend(["N001"]).table()
    assert len(recs) > 0 and set(recs["user_id"]) == {"N001"}


def test_update_is_close_to_a_retrain(stored):
    ws, ds_id, run_id, path, _ = stored
    old = load_run(ws, run_id)
    grown = ws.load_dataset(refresh(ws, run_id, path).appended.dataset_id)
    updated, report = update_run(old, grown)
    full = retrain(updated, grown)
    gap = retrain_gap(updated, full).set_index("strategy")
    # exact models: no gap at all; the blend within a few points of NDCG on 60 users
    for name in ("popularity", "ease"):
        assert gap.loc[name, "ndcg@10 gap"] == pytest.approx(0.0, abs=1e-9)
    assert abs(gap.loc["fusion", "ndcg@10 gap"]) < 0.1
    times = timing_table(report, full)
    assert list(times.columns) == ["model", "incremental", "update_s", "retrain_s", "speed_up"]


def test_cli_update_reports_each_model(stored, tmp_path, capsys):
    ws, _, run_id, path, n_new = stored
    out = tmp_path / "update.json"
    code = cli_main(
        [
            "update",
            "--workspace", str(ws.root),
            "--run", run_id,
            "--events", str(path),
            "--json", str(out),
            "--quiet",
        ]
    )  # fmt: skip
    text = capsys.readouterr().out
    assert code == 0
    assert f"+ {n_new:,} events" in text and "full retrain: ease" in text
    assert "item_knn:" in text and "rows recomputed" in text
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["parent_run"] == run_id and "ease" in report["retrained"]


def test_cli_update_bad_input_is_one_line(stored, tmp_path, capsys):
    ws, _, run_id, _, _ = stored
    bad = tmp_path / "bad.csv"
    bad.write_text("foo,bar\n1,2\n", encoding="utf-8")
    code = cli_main(["update", "--workspace", str(ws.root), "--run", run_id, "--events", str(bad)])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error:") and "Traceback" not in err
    code = cli_main(["update", "--workspace", str(ws.root), "--run", "nope", "--events", str(bad)])
    assert code == 2 and "nope" in capsys.readouterr().err


def test_update_bench_measures_update_and_retrain():
    from recsys.update_bench import format_bench, run_update_bench

    result = run_update_bench(0.02, 200, 60, 3000, models=("popularity", "item_knn", "ease"))
    assert result.n_new == 60 and result.update_s > 0 and result.retrain_s > 0
    assert set(result.models["model"]) == {"popularity", "item_knn", "ease"}
    assert "fusion" in set(result.gap["strategy"])
    assert "faster" in format_bench(result)


def test_update_bench_on_a_given_store_from_the_cli(tmp_path, capsys):
    from recsys.data.demo import write_demo

    catalog, events = write_demo(tmp_path / "store", n_users=150, n_items=50, n_events=2500)
    args = ["bench", "--update", "--fraction", "0.02", "--models", "popularity,item_knn"]
    assert cli_main([*args, "--interactions", str(events), "--catalog", str(catalog)]) == 0
    out = capsys.readouterr().out
    assert "50 new events on 2,450" in out and "item_knn" in out and "faster" in out
    missing = ["--interactions", str(tmp_path / "nope.csv")]
    assert cli_main([*args, *missing]) == 2
    assert "nope.csv" in capsys.readouterr().err
