"""Personalised search: BM25 over character n-grams finds planted items for English, Chinese
and misspelt queries; personalisation moves a shopper's preferred brand up; the CLI twin."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recsys.cli import main as cli_main
from recsys.data.dataset import Dataset
from recsys.ranking.search import SearchIndex, blend_search
from recsys.service.preset import Preset
from recsys.service.searching import search_for_user
from recsys.service.training import train_run
from tests.fixtures_data import T0, make_catalog, make_events

PLANTED = {
    "item_id": "I999",
    "title": "Zenith Aurora Noise-Cancelling Headphones",
    "title_zh": "泽尼斯极光降噪耳机",
    "category": "headphones",
    "brand": "Zenith",
    "price": 199.0,
}


@pytest.fixture(scope="module")
def shop():
    catalog = pd.concat([make_catalog(30), pd.DataFrame([PLANTED])], ignore_index=True)
    events = make_events(40, 30, seed=2)
    # FAN buys Nova items only (phones, chargers, headphones: no case)
    nova = catalog.loc[(catalog["brand"] == "Nova") & (catalog["category"] != "case"), "item_id"]
    fan = pd.DataFrame(
        {
            "user_id": "FAN",
            "item_id": nova.to_numpy(),
            "event": "purchase",
            "weight": np.float32(5.0),
            "rating": np.float32(5.0),
            "timestamp": T0 + pd.to_timedelta(np.arange(len(nova)), unit="D"),
        }
    )
    return Dataset.construct(pd.concat([events, fan], ignore_index=True), catalog)


@pytest.mark.parametrize("query", ["aurora", "极光", "auroa headphone", "泽尼斯"])
def test_search_finds_the_planted_item(shop, query):
    scores = SearchIndex.build(shop).scores(query)
    top = int(np.argmax(scores))
    assert shop.item_ids.external_ids[top] == "I999", query
    assert scores[top] > 0


def test_a_query_with_no_shared_ngram_matches_nothing(shop):
    assert (SearchIndex.build(shop).scores("qqxxzz") == 0).all()
    assert blend_search(np.zeros(shop.n_items), np.zeros(shop.n_items), 0.5).empty


def test_blend_by_hand():
    text = np.array([3.0, 2.0, 1.0, 0.0])
    affinity = np.array([0.0, 0.5, 1.0, 1.0])
    plain = blend_search(text, affinity, 0.0, k=3, min_share=0.0)
    assert plain["plain_rank"].tolist() == plain["personal_rank"].tolist() == [1.0, 2.0, 3.0]
    mixed = blend_search(text, affinity, 0.75, k=3, min_share=0.0).set_index("item")
    # item 2: 0.25 * 0 + 0.75 * 1 = 0.75; item 1: 0.25 * 0.5 + 0.75 * 0.5 = 0.5; item 0: 0.25
    assert mixed.loc[2, "personal_rank"] == 1 and mixed.loc[2, "moved"] == 2
    assert 3 not in mixed.index  # no text match: never a result
    # by default a match needs half the best text score: item 2 (1 < 1.5) is not a result
    assert set(blend_search(text, affinity, 0.75, k=3)["item"]) == {0, 1}


def test_personalisation_moves_the_preferred_brand_up(shop):
    run = train_run(shop, Preset(models={"content_tfidf": {}, "item_knn": {}}), stages=("full",))
    plain = search_for_user(run, "FAN", "phone case", 0.0, k=8).set_index("item_id")
    personal = search_for_user(run, "FAN", "phone case", 0.5, k=8).set_index("item_id")
    assert (plain["moved"] == 0).all()  # weight 0: the text order
    nova = [i for i in personal.index if personal.loc[i, "brand"] == "Nova"]
    assert set(nova) == {"I009", "I021"}  # FAN's brand: two cases match the query
    assert personal.loc["I021", "personal_rank"] < plain.loc["I021", "personal_rank"]
    assert personal.loc["I021", "moved"] > 0
    mean = lambda t: t.loc[nova, "personal_rank"].mean()  # noqa: E731
    assert mean(personal) < mean(plain)


def test_cli_search(tmp_path, shop, capsys):
    events = tmp_path / "events.csv"
    catalog = tmp_path / "catalog.csv"
    shop.interactions.head(0)  # the CLI reads files, as an upload
    frame = make_events(40, 30, seed=2)
    frame.to_csv(events, index=False)
    pd.concat([make_catalog(30), pd.DataFrame([PLANTED])]).to_csv(catalog, index=False)
    preset = tmp_path / "p.json"
    preset.write_text('{"models": {"popularity": {}, "content_tfidf": {}}}', encoding="utf-8")
    code = cli_main(
        ["search", "--interactions", str(events), "--catalog", str(catalog), "--preset",
         str(preset), "--user", "U001", "--query", "极光", "--quiet"]
    )  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0 and out.splitlines()[1].split()[0] == "I999"
    code = cli_main(
        ["search", "--interactions", str(events), "--catalog", str(catalog), "--preset",
         str(preset), "--user", "NOBODY", "--query", "case", "--quiet"]
    )  # fmt: skip
    assert code == 2 and "NOBODY" in capsys.readouterr().err
