"""End-to-end engine checks on a small generated store: train, evaluate, recommend, explain,
what-if, audience, tune, compare, save/load."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recsys.data.demo import write_demo
from recsys.data.ingest import load_dataset
from recsys.errors import RecsysError
from recsys.ranking.fusion import FusionConfig
from recsys.ranking.rerank import RerankConfig, Rule
from recsys.service.persistence import load_run, save_run
from recsys.service.preset import Preset
from recsys.service.training import train_run
from recsys.service.workspace import Workspace

FAST_MODELS = {
    "svd": {"n_epochs": 5, "n_factors": 16},
    "lightfm_warp": {"epochs": 3, "no_components": 16},
    "item_knn": {},
    "content_tfidf": {},
    "popularity": {},
}


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    catalog, interactions = write_demo(out, n_users=300, n_items=120, n_events=6000, seed=3)
    return load_dataset(interactions, catalog, name="mini demo")


@pytest.fixture(scope="module")
def run(loaded):
    return train_run(loaded.dataset, Preset(models=FAST_MODELS))


def test_run_trains_every_stage_and_reports_progress(loaded):
    seen = []
    r = train_run(
        loaded.dataset,
        Preset(models={"popularity": {}, "item_knn": {}}),
        progress=lambda stage, model, fraction, msg: seen.append((stage, model, fraction)),
    )
    assert set(r.stages) == {"validation", "test", "full"}
    assert ("full", "item_knn", 1.0) in seen
    assert r.stages["test"].pool is not None and r.stages["full"].pool is None  # full pool is lazy


def test_evaluate_gives_every_metric_for_fusion_and_each_model(run):
    ev = run.evaluate()
    table = ev.table()
    assert list(table.index) == ["fusion", *FAST_MODELS]
    for key in (
        "precision@10",
        "recall@10",
        "ndcg@10",
        "coverage",
        "novelty",
        "diversity",
        "personalization",
    ):
        assert key in table.columns
        assert np.isfinite(table.loc["fusion", key])
    assert 0 < table.loc["fusion", "ndcg@10"] <= 1


def test_changing_weights_changes_lists_without_rescoring(run, monkeypatch):
    calls = []
    for model in run.stages["test"].models.values():
        monkeypatch.setattr(model, "score_items", lambda *a, **k: calls.append(1))
    a = run.evaluate(
        FusionConfig(
            weights={
                "popularity": 1.0,
                "item_knn": 0.0,
                "svd": 0.0,
                "lightfm_warp": 0.0,
                "content_tfidf": 0.0,
            }
        )
    )
    b = run.evaluate(
        FusionConfig(
            weights={
                "popularity": 0.0,
                "item_knn": 1.0,
                "svd": 0.0,
                "lightfm_warp": 0.0,
                "content_tfidf": 0.0,
            }
        )
    )
    assert calls == []
    assert not np.array_equal(a.ranked.topk.items, b.ranked.topk.items)
    # a one-hot weight vector on a tie-free model reproduces that model's own ranking quality
    only_lightfm = {name: float(name == "lightfm_warp") for name in FAST_MODELS}
    c = run.evaluate(FusionConfig(weights=only_lightfm))
    assert c.fusion.values["ndcg@10"] == pytest.approx(
        c.models["lightfm_warp"].values["ndcg@10"], abs=1e-9
    )


def test_recommend_table_has_ids_scores_and_provenance(run, loaded):
    table = run.recommend().table()
    ds = loaded.dataset
    assert table["user_id"].nunique() == ds.n_users
    assert {"user_id", "rank", "item_id", "score", "strategy", "title", "category", "brand"} <= set(
        table.columns
    )
    assert {f"score_{m}" for m in FAST_MODELS} <= set(table.columns)
    assert table.groupby("user_id")["rank"].max().max() == 10
    # never recommends an item the user already interacted with (default exclude = seen)
    seen = set(
        zip(
            ds.user_ids.to_external(ds.interactions["user_idx"]),
            ds.item_ids.to_external(ds.interactions["item_idx"]),
            strict=False,
        )
    )
    assert not any((u, i) in seen for u, i in zip(table["user_id"], table["item_id"], strict=False))
    assert table["item_id"].str.fullmatch(r"\d{5}").all()  # zero-padded ids kept as strings


def test_rules_filter_and_pin_apply_to_final_lists(run, loaded):
    catalog = loaded.dataset.catalog
    phone_brand = catalog["brand"].dropna().iloc[0]
    pinned = catalog["item_id"].iloc[5]
    rr = RerankConfig(
        k=10,
        rules=[
            Rule(kind="filter", column="brand", op="==", value=phone_brand),
            Rule(kind="pin", item_id=pinned, position=1),
        ],
    )
    table = run.recommend(fusion=None, rerank_cfg=rr).table()
    first = table[table["rank"] == 1]
    assert (first["item_id"] == pinned).mean() > 0.9  # pinned unless the user already has it
    rest = table[table["item_id"] != pinned]
    assert (rest["brand"] == phone_brand).all()


def test_explain_breaks_down_scores_and_names_an_anchor(run, loaded):
    user = loaded.dataset.user_ids.external_ids[0]
    frame = run.explain(user)
    assert len(frame) == 10
    contrib = frame[[c for c in frame.columns if c.startswith("contrib_")]]
    assert contrib.shape[1] == len(FAST_MODELS)
    np.testing.assert_allclose(contrib.sum(axis=1), frame["fused_score"], atol=1e-4)
    assert frame["anchor_item_idx"].ge(0).all()


def test_what_if_history_changes_the_list_and_cold_user_gets_fallback(run, loaded):
    catalog = loaded.dataset.catalog
    phones = catalog[catalog["category"] == "phone"]["item_id"].tolist()
    new_user = run.recommend_history([])
    assert new_user.strategy[0] == "new" and len(new_user.table()) == 10
    with_phone = run.recommend_history([(phones[0], "purchase")]).table()
    assert phones[0] not in set(with_phone["item_id"])
    assert not with_phone["item_id"].equals(new_user.table()["item_id"])


def test_audience_ranks_users_who_do_not_have_the_item(run, loaded):
    ds = loaded.dataset
    item = ds.item_ids.external_ids[int(np.argmax(ds.item_popularity()))]
    audience = run.audience(item_id=item, k=50)
    assert len(audience) == 50 and audience["rank"].tolist() == list(range(1, 51))
    owners = set(
        ds.user_ids.to_external(ds.matrix("ones")[:, ds.item_ids.to_internal([item])].nonzero()[0])
    )
    assert not owners & set(audience["user_id"])
    assert audience["score"].is_monotonic_decreasing
    # a rank share, not a probability: rank / users who could be targeted
    eligible = ds.n_users - len(owners)
    np.testing.assert_allclose(audience["top_share"], np.arange(1, 51) / eligible)
    with pytest.raises(RecsysError):
        run.audience(item_id="no-such-item")


def test_audience_keeps_the_user_attributes(tmp_path):
    catalog, interactions = write_demo(tmp_path, n_users=200, n_items=80, n_events=3000, seed=4)
    ds = load_dataset(
        interactions, catalog, users=(tmp_path / "users.csv").read_bytes(), name="with users"
    ).dataset
    assert ds.user_attribute_columns
    run = train_run(ds, Preset(models={"popularity": {}, "item_knn": {}}), stages=("full",))
    audience = run.audience(item_id=str(ds.item_ids.external_ids[0]), k=30)
    users = ds.user_ids.to_internal(audience["user_id"].to_numpy())
    for column in ds.user_attribute_columns:  # what a marketer filters on, row by row
        assert audience[column].tolist() == ds.users[column].iloc[users].tolist()


def test_autotune_uses_validation_and_finds_weights(run):
    result = run.autotune(n_samples=30)
    assert set(result.best_weights) == set(FAST_MODELS)
    assert len(result.trials) >= 30
    tuned = run.evaluate(FusionConfig(weights=result.best_weights))
    assert tuned.fusion.values["ndcg@10"] > 0


def test_the_blend_is_scored_out_of_fold_on_weights_tuned_without_each_fold(run, monkeypatch):
    tuned_on: list[set[int]] = []
    autotune = run.autotune

    def spy(*args, **kwargs):
        tuned_on.append(set(kwargs["pool"].users.tolist()))
        return autotune(*args, **{**kwargs, "n_samples": 10})

    monkeypatch.setattr(run, "autotune", spy)
    report = run.blend_out_of_fold(folds=3)
    everyone = set(run.stages["validation"].sample_pool.users.tolist())
    assert len(tuned_on) == 3
    held_out = [everyone - users for users in tuned_on]
    assert all(held_out) and set().union(*held_out) == everyone  # each user left out once
    assert sum(len(h) for h in held_out) == len(everyone)
    assert 0 < report.values["ndcg@10"] <= 1
    assert report.values["ndcg@10"] == run.blend_out_of_fold(folds=3).values["ndcg@10"]


def test_compare_two_presets(run):
    a = Preset(models=FAST_MODELS)
    b = Preset(models=FAST_MODELS, fusion=FusionConfig(method="rrf"))
    result = run.compare(a, b)
    assert "ndcg@10" in set(result.table["metric"])


def test_save_and_load_round_trip(run, loaded, tmp_path):
    ws = Workspace(tmp_path)
    dataset_id = ws.save_dataset("mini", loaded.events, loaded.catalog, {})
    ds = ws.load_dataset(dataset_id)
    assert ds.fingerprint == loaded.dataset.fingerprint
    run_id = save_run(run, ws, dataset_id)
    back = load_run(ws, run_id, dataset=ds)
    a = run.evaluate().fusion.values
    b = back.evaluate().fusion.values
    assert a["ndcg@10"] == pytest.approx(b["ndcg@10"])
    pd.testing.assert_frame_equal(run.recommend().table(), back.recommend().table())


def test_stacking_is_learned_on_validation_on_demand(run):
    run.trained_fusers.clear()
    ev = run.evaluate(FusionConfig(method="stacking"))
    assert "stacking" in run.trained_fusers
    assert ev.fusion.values["ndcg@10"] > 0


def test_rerank_knobs_are_tuned_on_validation(run):
    result = run.tune_rerank(space={"mmr_lambda": (0.5, 1.0), "novelty": (0.0, 0.3)}, n_samples=8)
    assert 0.5 <= result.best_weights["mmr_lambda"] <= 1.0
    assert 0.0 <= result.best_weights["novelty"] <= 0.3
    assert len(result.trials) >= 8


def test_train_run_can_start_from_weights_tuned_on_validation(loaded):
    preset = Preset(models={"popularity": {}, "item_knn": {}, "content_tfidf": {}})
    tuned = train_run(loaded.dataset, preset, tune=True)
    weights = tuned.preset.fusion.weights
    assert set(weights) == set(preset.models) and abs(sum(weights.values()) - 1) < 1e-6
    assert preset.fusion.weights == {}  # the caller's preset is not modified
    assert tuned.weights_tuned


def test_the_default_strategy_is_chosen_on_validation(loaded, tmp_path):
    preset = Preset(models={"popularity": {}, "item_knn": {}, "content_tfidf": {}})
    run = train_run(loaded.dataset, preset, tune=True)
    choice = run.strategy_choice
    assert choice is not None and choice.objective == "ndcg@10"
    assert {"blend", "ltr", choice.best_model} == set(choice.scores)
    assert choice.winner == max(choice.scores, key=choice.scores.get)
    assert choice.margin >= 0 and choice.n_users == len(run.stages["validation"].pool)
    method = run.preset.fusion.method
    expected = {"blend": "weighted", "ltr": "ltr"}.get(choice.winner, "weighted")
    assert method == expected
    if choice.winner not in ("blend", "ltr"):  # a single model: only its weight is on
        assert run.preset.fusion.weights[choice.winner] == 1.0
    assert np.isfinite(run.evaluate().fusion.values["ndcg@10"])  # the winner serves the test
    ws = Workspace(tmp_path)
    ds_id = ws.save_dataset("mini", loaded.events, loaded.catalog, {})
    back = load_run(ws, save_run(run, ws, ds_id), dataset=ws.load_dataset(ds_id))
    assert back.strategy_choice == choice


def test_what_if_keeps_the_users_real_history_and_adds_events(run, loaded):
    """A what-if purchase becomes history and moves a personal model's list.

    The fusion is pinned to item kNN: the run's own strategy choice may pick popularity,
    whose list no added event can change (CI once chose it)."""
    ds = loaded.dataset
    activity = ds.user_activity()
    user = ds.user_ids.external_ids[int(np.argmin(np.where(activity > 0, activity, np.inf)))]
    own = set(
        ds.item_ids.to_external(ds.matrix("ones")[ds.user_ids.to_internal([user])[0]].indices)
    )
    knn_only = FusionConfig(weights={name: 0.0 for name in FAST_MODELS} | {"item_knn": 1.0})
    before = run.recommend_what_if(user, [], fusion=knn_only).table()
    unseen = next(
        i for i in ds.item_ids.external_ids if i not in own and i not in set(before["item_id"])
    )
    after = run.recommend_what_if(user, [(unseen, "purchase")], fusion=knn_only).table()
    assert not own & set(before["item_id"])  # history excluded, as for the user's normal list
    assert unseen not in set(after["item_id"])  # the new purchase is now history too
    assert not before["item_id"].equals(after["item_id"])  # its neighbours moved up


def test_one_segment_rule_for_export_explorer_audience_and_metrics(run):
    """Export's segment lists, the User explorer's label, audiences and the metrics' segment
    table all use the full/test stage's ``SegmentRule`` (a second copy once disagreed)."""
    full = run.stages["full"]
    heavy = run.users_in_segment("heavy")
    act = full.activity
    expected = run.dataset.user_ids.to_external(np.flatnonzero(act >= full.segment_rule.heavy_from))
    assert sorted(heavy) == sorted(expected) and len(heavy) > 0
    assert 0.05 <= len(heavy) / (act > 0).sum() <= 0.2  # about the top decile
    for user in heavy[:5]:
        assert run.user_profile(user)["segment"] == "heavy"
    regular = run.users_in_segment("regular")
    assert run.user_profile(regular[0])["segment"] == "regular"
    aud = run.audience(item_id=str(run.dataset.item_ids.external_ids[0]), k=50)
    by_user = dict(zip(aud["user_id"], aud["segment"], strict=True))
    for user, label in by_user.items():
        assert (label == "heavy") == (user in set(heavy))
    ev = run.evaluate()
    assert ev.fusion.extra["heavy_threshold"] == run.stages["test"].segment_rule.heavy_from


def test_a_saved_preset_applies_to_a_run_with_other_models(run):
    saved = Preset.from_dict(
        {
            "name": "other models",
            "models": {"svd": {}, "popularity": {}},
            "fusion": {"method": "weighted", "weights": {"svd": 0.2, "popularity": 0.8}},
            "rerank": {"k": 5, "mmr_lambda": 0.7},
        }
    )
    applied = saved.restricted_to(run.preset.models)
    assert applied.models == run.preset.models
    assert applied.fusion.weights == {"svd": 0.2, "popularity": 0.8}
    assert applied.rerank.k == 5 and applied.rerank.mmr_lambda == 0.7
    assert run.evaluate(applied.fusion, applied.rerank).fusion.k == 5
    only_knn = saved.restricted_to({"item_knn": {}})
    assert only_knn.fusion.weights == {} and list(only_knn.models) == ["item_knn"]


def test_the_lab_scores_a_stratified_sample_with_intervals(loaded, monkeypatch):
    monkeypatch.setattr("recsys.service.stage.LAB_SAMPLE_USERS", 60)
    monkeypatch.setattr("recsys.evaluation.sampling.SEGMENT_FLOOR", 5)
    r = train_run(loaded.dataset, Preset(models={"popularity": {}, "item_knn": {}}))
    full, sample = r.evaluate(), r.evaluate(sample=True)
    assert not full.sampled and full.n_users == full.population
    assert sample.sampled and 60 <= sample.n_users <= 75 and sample.population == full.n_users
    labels = r.segments("test", sample.fusion.users)
    assert {"cold", "regular", "heavy"} <= set(labels)  # every segment represented
    iv = sample.interval("ndcg@10")
    assert iv.low < iv.mean < iv.high and iv.n == sample.fusion.extra["n_evaluated"]
    assert r.stages["test"].sample_pool is r.stages["test"].sample_pool  # fixed once
    assert set(sample.models) == set(full.models)


def test_default_preset_leaves_out_models_the_data_is_too_large_for(loaded, monkeypatch):
    from recsys.models import DEFAULT_MODELS
    from recsys.service.preset import default_preset, unsuitable_models

    assert "ease" in default_preset(dataset=loaded.dataset).models
    monkeypatch.setattr("recsys.models.ease.MAX_ITEMS", 10)
    reasons = unsuitable_models(DEFAULT_MODELS, loaded.dataset)
    assert list(reasons) == ["ease"] and "rp3beta or item_knn" in reasons["ease"]
    models = default_preset(dataset=loaded.dataset).models
    assert "ease" not in models and "rp3beta" in models


def test_learning_to_rank_explains_each_item_exactly(run):
    user = str(run.dataset.user_ids.external_ids[0])
    frame = run.explain(user, FusionConfig("ltr"))
    parts = [c for c in frame.columns if c.startswith("contrib_")]
    assert {"contrib_context", "contrib_base"} <= set(parts)
    assert {f"contrib_{m}" for m in run.model_names} <= set(parts)
    np.testing.assert_allclose(frame[parts].sum(axis=1), frame["fused_score"], atol=1e-4)


def test_prepare_lab_computes_what_no_setting_changes(run):
    from recsys.ranking.fusion import FUSERS

    run.prepare_lab()
    assert set(run.trained_fusers) == {m for m in FUSERS if FUSERS[m].needs_training}
    pool = run.stages["test"].sample_pool
    cached = len(pool._cache)
    run.prepare_lab()  # a second call finds it all done
    assert len(pool._cache) == cached and cached > 0
    assert run.stages["test"].single_reports  # the single models, on the lab sample
