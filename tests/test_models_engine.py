"""The new single models (EASE, RP3beta, ALS, BPR) through the engine: train, evaluate,
serve cold users from a history, save and load."""

from __future__ import annotations

import numpy as np
import pytest

from recsys.data.demo import write_demo
from recsys.data.ingest import load_dataset
from recsys.ranking.fusion import FusionConfig
from recsys.service.persistence import load_run, save_run
from recsys.service.preset import Preset
from recsys.service.training import train_run
from recsys.service.workspace import Workspace

NEW_MODELS = {
    "ease": {},
    "rp3beta": {},
    "als": {"factors": 16, "iterations": 5},
    "bpr": {"factors": 16, "iterations": 10},
}


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    catalog, interactions = write_demo(out, n_users=300, n_items=120, n_events=6000, seed=4)
    return load_dataset(interactions, catalog, name="mini demo")


@pytest.fixture(scope="module")
def run(loaded):
    return train_run(loaded.dataset, Preset(models=NEW_MODELS))


def test_every_new_model_is_evaluated_on_held_out_data(run):
    ev = run.evaluate(FusionConfig(weights={m: 1.0 for m in NEW_MODELS}))
    for name in NEW_MODELS:
        values = ev.models[name].values
        assert 0 < values["ndcg@10"] <= 1 and 0 < values["coverage"] <= 1, (name, values)
    assert run.timings.keys() >= {f"{s}/{m}" for s in ("validation", "test") for m in NEW_MODELS}


def test_cold_history_uses_models_that_fold_in(run):
    item = run.dataset.item_ids.external_ids[0]
    recs = run.recommend_history([(item, "purchase")])
    scores = recs.pool.scores[:, 0, :]
    names = list(recs.pool.model_names)
    assert np.isnan(scores[names.index("bpr")]).all()  # BPR declares it cannot fold in
    for name in ("ease", "rp3beta", "als"):
        assert np.isfinite(scores[names.index(name)]).any(), name


def test_save_and_load_keeps_the_scores(run, loaded, tmp_path):
    ws = Workspace(tmp_path)
    dataset_id = ws.save_dataset("mini", loaded.events, loaded.catalog, {})
    run_id = save_run(run, ws, dataset_id)
    again = load_run(ws, run_id, dataset=ws.load_dataset(dataset_id))
    users = np.arange(5, dtype=np.int32)
    for name in NEW_MODELS:
        np.testing.assert_array_equal(
            again.stages["full"].models[name].score_items(users),
            run.stages["full"].models[name].score_items(users),
        )
