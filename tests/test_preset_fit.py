"""Presets on datasets they were not saved on: recorded needs, flagged misfits, rules turned off."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from recsys.data.dataset import Dataset
from recsys.ranking.rerank import RerankConfig, Rule
from recsys.service.preset import Preset
from recsys.service.preset_fit import check_fit, fit_preset, fit_to_dataset
from recsys.service.workspace import Workspace, preset_from_record


def _movielens(n_users: int = 30, n_movies: int = 20) -> Dataset:
    """Ratings and movies with genres: no brand, no price (MovieLens-shaped)."""
    rng = np.random.default_rng(0)
    rows = [
        (str(u), str(m)) for u in range(n_users) for m in rng.choice(n_movies, 5, replace=False)
    ]
    events = pd.DataFrame(rows, columns=["user_id", "item_id"])
    events["weight"] = rng.integers(1, 6, len(events)).astype(float)
    catalog = pd.DataFrame(
        {
            "item_id": [str(m) for m in range(n_movies)],
            "title": [f"Movie {m}" for m in range(n_movies)],
            "category": ["Comedy" if m % 2 else "Drama" for m in range(n_movies)],
        }
    )
    return Dataset.construct(events, catalog, name="movielens")


def _store_preset() -> Preset:
    rules = [
        Rule(kind="boost", column="brand", op="==", value="Anker", factor=1.5),
        Rule(kind="filter", column="category", op="!=", value="Horror"),
        Rule(kind="pin", item_id="SKU-1", position=1),
    ]
    return Preset(
        name="Anker week",
        id="anker-week-1a2b3c4d",
        models={"popularity": {}, "item_knn": {}, "svd": {}},
        rerank=RerankConfig(rules=rules, mmr_lambda=0.8),
    )


def test_needs_are_recorded_in_the_json_and_read_back():
    preset = _store_preset()
    data = json.loads(preset.to_json())
    assert data["needs"] == {
        "columns": ["brand", "category"],
        "items": ["SKU-1"],
        "models": ["item_knn", "popularity", "svd"],
    }
    again = Preset.from_dict(data)
    assert again.to_dict() == preset.to_dict()


def test_check_fit_names_what_a_dataset_lacks():
    ds = _movielens()
    fit = check_fit(
        _store_preset().needs(),
        columns=ds.catalog.columns,
        models=["popularity", "item_knn"],
        has_item=ds.item_ids.contains,
    )
    assert not fit.fits
    assert fit.missing_columns == ("brand",)
    assert fit.missing_items == ("SKU-1",)
    assert fit.missing_models == ("svd",)


def test_fit_preset_turns_off_only_the_rules_that_cannot_apply():
    ds = _movielens()
    adapted, fit = fit_preset(
        _store_preset(),
        models={"popularity": {}, "item_knn": {}},
        columns=ds.catalog.columns,
        has_item=ds.item_ids.contains,
    )
    assert fit.dropped_rules == ("boost brand == Anker x1.5", "pin SKU-1 at 1")
    assert [r.column for r in adapted.rerank.rules] == ["category"]
    assert adapted.rerank.mmr_lambda == pytest.approx(0.8)  # the rest of the strategy stays
    assert (adapted.id, adapted.name) == ("anker-week-1a2b3c4d", "Anker week")
    assert set(adapted.models) == {"popularity", "item_knn"}


def test_a_preset_that_fits_is_left_alone():
    ds = _movielens()
    preset = Preset(
        models={"popularity": {}},
        rerank=RerankConfig(rules=[Rule(kind="pin", item_id="3", position=2)]),
    )
    rerank, dropped = fit_to_dataset(preset.rerank, ds)
    assert dropped == () and rerank is preset.rerank


def test_workspace_keeps_who_saved_a_preset(tmp_workspace):
    ws = Workspace(tmp_workspace)
    pid = ws.save_preset(_store_preset(), as_new=True, saved_by="alice")
    record = next(p for p in ws.list_presets() if p["id"] == pid)
    assert record["saved_by"] == "alice" and record["needs"]["columns"] == ["brand", "category"]
    assert preset_from_record(record).name == "Anker week"
    # a colleague renames it: who saved it first stays
    ws.rename_preset(pid, "Anker week v2")
    assert next(p for p in ws.list_presets() if p["id"] == pid)["saved_by"] == "alice"
