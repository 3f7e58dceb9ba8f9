"""The engine commands of the CLI: export, audience, evaluate, compare (on a tiny generated store)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from recsys.cli import main
from recsys.data.demo import write_demo

FAST = {
    "models": {
        "svd": {"n_epochs": 5, "n_factors": 16},
        "lightfm_warp": {"epochs": 3, "no_components": 16},
        "item_knn": {},
        "popularity": {},
    }
}


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    out = tmp_path_factory.mktemp("store")
    catalog, interactions = write_demo(out, n_users=250, n_items=100, n_events=5000, seed=5)
    preset = out / "fast.json"
    preset.write_text(json.dumps({"id": "fast", "name": "Fast", **FAST}))
    preset_b = out / "rrf.json"
    preset_b.write_text(
        json.dumps({"id": "rrf", "name": "RRF", **FAST, "fusion": {"method": "rrf"}})
    )
    return {
        "catalog": str(catalog),
        "interactions": str(interactions),
        "a": str(preset),
        "b": str(preset_b),
        "dir": out,
    }


def test_export_writes_one_row_per_user_and_rank(store, capsys):
    out = store["dir"] / "recs.csv"
    code = main(
        [
            "export",
            "--interactions",
            store["interactions"],
            "--catalog",
            store["catalog"],
            "--preset",
            store["a"],
            "--k",
            "5",
            "--out",
            str(out),
            "--quiet",
        ]
    )
    assert code == 0, capsys.readouterr().err
    table = pd.read_csv(out, dtype={"user_id": str, "item_id": str})
    assert list(table.columns[:4]) == ["user_id", "rank", "item_id", "score"]
    assert {
        "title",
        "category",
        "brand",
        "strategy",
        "preset_id",
        "score_svd",
        "score_item_knn",
    } <= set(table.columns)
    assert (table.groupby("user_id")["rank"].max() == 5).all()
    assert table["preset_id"].eq("fast").all()
    assert table["item_id"].str.len().eq(5).all()  # "00042" stays "00042"


def test_export_parquet_and_excel_bom(store):
    out = store["dir"] / "recs.parquet"
    assert (
        main(
            [
                "export",
                "--interactions",
                store["interactions"],
                "--preset",
                store["a"],
                "--k",
                "3",
                "--out",
                str(out),
                "--quiet",
            ]
        )
        == 0
    )
    assert len(pd.read_parquet(out)) == 250 * 3
    csv = store["dir"] / "excel.csv"
    assert (
        main(
            [
                "export",
                "--interactions",
                store["interactions"],
                "--catalog",
                store["catalog"],
                "--preset",
                store["a"],
                "--k",
                "2",
                "--out",
                str(csv),
                "--excel",
                "--quiet",
            ]
        )
        == 0
    )
    assert csv.read_bytes().startswith(b"\xef\xbb\xbf")


def test_audience_for_an_item_and_a_brand(store, capsys):
    out = store["dir"] / "aud.csv"
    catalog = pd.read_csv(store["catalog"], dtype=str)
    assert (
        main(
            [
                "audience",
                "--interactions",
                store["interactions"],
                "--catalog",
                store["catalog"],
                "--preset",
                store["a"],
                "--item",
                catalog["item_id"][0],
                "--k",
                "20",
                "--out",
                str(out),
                "--quiet",
            ]
        )
        == 0
    )
    assert len(pd.read_csv(out)) == 20
    brand = catalog["brand"].iloc[0]
    assert (
        main(
            [
                "audience",
                "--interactions",
                store["interactions"],
                "--catalog",
                store["catalog"],
                "--preset",
                store["a"],
                "--brand",
                brand,
                "--k",
                "10",
                "--out",
                str(out),
                "--quiet",
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "audience",
                "--interactions",
                store["interactions"],
                "--preset",
                store["a"],
                "--item",
                "nope",
                "--out",
                str(out),
                "--quiet",
            ]
        )
        == 2
    )
    assert "not in the dataset" in capsys.readouterr().err


def test_evaluate_json_contract(store):
    out = store["dir"] / "eval.json"
    assert (
        main(
            [
                "evaluate",
                "--interactions",
                store["interactions"],
                "--catalog",
                store["catalog"],
                "--preset",
                store["a"],
                "--k",
                "5",
                "--json",
                str(out),
                "--quiet",
            ]
        )
        == 0
    )
    data = json.loads(out.read_text())
    assert set(data) >= {"split", "models", "fusion"}
    assert set(data["models"]) == set(FAST["models"])
    keys = {
        "precision@5",
        "recall@5",
        "f1@5",
        "ndcg@5",
        "map@5",
        "mrr@5",
        "hit_rate@5",
        "coverage",
        "distributional_coverage",
        "gini",
        "novelty",
        "diversity",
        "personalization",
        "avg_popularity",
        "serendipity",
        "rmse",
        "mae",
    }
    assert keys <= set(data["fusion"]) and keys <= set(data["models"]["svd"])
    assert data["fusion"]["method"] == "weighted" and set(data["fusion"]["weights"]) <= set(
        FAST["models"]
    )
    assert data["split"]["method"] == "temporal"


def test_compare_prints_deltas(store, capsys):
    out = store["dir"] / "ab.json"
    assert (
        main(
            [
                "compare",
                "--interactions",
                store["interactions"],
                "--a",
                store["a"],
                "--b",
                store["b"],
                "--json",
                str(out),
                "--quiet",
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert "ndcg@10" in printed and "p_perm" in printed
    assert json.loads(out.read_text())["table"]


def test_bad_preset_is_a_plain_error(store, capsys):
    bad = store["dir"] / "bad.json"
    bad.write_text('{"models": {"svd": {"n_factorz": 3}}}')
    assert (
        main(
            [
                "export",
                "--interactions",
                store["interactions"],
                "--preset",
                str(bad),
                "--out",
                str(store["dir"] / "x.csv"),
                "--quiet",
            ]
        )
        == 2
    )
    err = capsys.readouterr().err
    assert "n_factorz" in err and "Traceback" not in err


def test_shipped_example_preset_is_valid():
    from pathlib import Path

    from recsys.service.preset import Preset

    preset = Preset.read(Path(__file__).parents[1] / "docs" / "presets" / "diverse-blend.json")
    assert preset.rerank.mmr_lambda == 0.8 and len(preset.rerank.rules) == 2


def test_compare_and_export_with_learning_to_rank(store, capsys):
    ltr = store["dir"] / "ltr.json"
    ltr.write_text(json.dumps({"id": "ltr", "name": "LTR", **FAST, "fusion": {"method": "ltr"}}))
    args = ["--interactions", store["interactions"], "--quiet"]
    assert main(["compare", *args, "--a", store["a"], "--b", str(ltr)]) == 0
    assert "ndcg@10" in capsys.readouterr().out
    out = store["dir"] / "ltr.csv"
    code = main(["export", *args, "--preset", str(ltr), "--k", "3", "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    table = pd.read_csv(out, dtype={"user_id": str, "item_id": str})
    assert table.groupby("user_id")["rank"].max().max() == 3
