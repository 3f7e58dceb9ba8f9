"""Memory estimates before a run, the refusal when it would not fit, the default at scale."""

from __future__ import annotations

import types

import pytest

from recsys.data.demo import write_demo
from recsys.data.ingest import load_dataset
from recsys.errors import MemoryBudgetError
from recsys.models import DEFAULT_MODELS, model_class
from recsys.models.base import LARGE_CATALOG_ITEMS, LARGE_LOG_PAIRS
from recsys.models.ease import fit_memory_bytes
from recsys.service import memory
from recsys.service.memory import check_memory, pool_bytes, training_memory
from recsys.service.preset import Preset, default_preset, unsuitable_models
from recsys.service.training import train_run


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    catalog, interactions = write_demo(out, n_users=200, n_items=80, n_events=3000, seed=5)
    return load_dataset(interactions, catalog, name="mini").dataset


def test_memory_need_follows_the_model_shape():
    users, items, pairs = 1_000, 500, 20_000
    als = model_class("als")
    fit, kept = als.memory_need(users, items, pairs, {"factors": 10})
    assert kept == 12 * pairs + 4 * (users + items) * 11  # user rows + float32 factors (+bias)
    assert fit == int(als.fit_bytes_per_pair * pairs) + 2 * kept
    knn_fit, knn_kept = model_class("item_knn").memory_need(users, items, pairs, {"k_neighbors": 7})
    assert knn_kept == 12 * pairs + 12 * items * 7
    ease_fit, ease_kept = model_class("ease").memory_need(users, items, pairs)
    assert ease_fit == fit_memory_bytes(items) + 12 * pairs and ease_kept >= 4 * items * items
    # doubling the factors grows the kept factors, not the user rows
    _, more = als.memory_need(users, items, pairs, {"factors": 21})
    assert more - kept == 4 * (users + items) * 11


def test_training_memory_counts_pools_models_and_the_largest_fit(dataset):
    preset = Preset(models={"item_knn": {}, "popularity": {}, "als": {"factors": 8}})
    est = training_memory(dataset, preset)
    labels = dict(est.parts)
    assert {"item_knn", "popularity", "als", "candidate pools"} <= set(labels)
    assert est.total == sum(labels.values())
    assert [b for _, b in est.parts] == sorted((b for _, b in est.parts), reverse=True)
    per_model = min(preset.candidates_per_model, dataset.n_items)
    two_pools = 2 * pool_bytes(dataset.n_users, dataset.n_items, 3, per_model)
    assert labels["candidate pools"] == two_pools  # validation + test; full is never pooled
    fewer = training_memory(dataset, preset, ("validation", "full"))
    assert dict(fewer.parts)["candidate pools"] == two_pools // 2


def test_a_run_that_would_not_fit_is_refused_before_anything_starts(dataset, monkeypatch):
    preset = Preset(models={"item_knn": {}, "popularity": {}})
    need = training_memory(dataset, preset).total
    with pytest.raises(MemoryBudgetError) as err:
        check_memory(training_memory(dataset, preset), "training", available=need // 4)
    text = str(err.value)
    assert "Training would need about" in text and "are available" in text
    assert "candidates per model" in text and "Nothing was started" in text
    check_memory(training_memory(dataset, preset), "training", available=need * 2)  # fits
    monkeypatch.setattr(memory, "available_memory", lambda: need // 4)
    calls = []
    with pytest.raises(MemoryBudgetError):
        train_run(dataset, preset, progress=lambda *a: calls.append(a))
    assert calls == []  # nothing was fitted
    monkeypatch.setattr(memory, "available_memory", lambda: None)  # unknown: never refused
    assert train_run(dataset, preset, stages=("full",)).stages


def test_the_default_preset_leaves_out_slow_models_on_a_large_log():
    big_log = types.SimpleNamespace(
        interactions=range(LARGE_LOG_PAIRS + 1), n_items=LARGE_CATALOG_ITEMS + 1, n_users=10**6
    )
    skipped = unsuitable_models(
        ("svd", "lightfm_warp", "content_tfidf", "item_knn", "als"), big_log
    )
    assert set(skipped) == {"svd", "lightfm_warp", "content_tfidf"}
    assert all(reason for reason in skipped.values())
    small = types.SimpleNamespace(interactions=range(1000), n_items=100, n_users=100)
    assert unsuitable_models(("svd", "lightfm_warp", "content_tfidf"), small) == {}


def test_the_default_preset_keeps_every_default_model_on_the_demo_store(dataset):
    assert tuple(default_preset(dataset=dataset).models) == tuple(DEFAULT_MODELS)
