"""The metric glossary: every reported metric has an entry, in both languages, with a reading."""

from __future__ import annotations

import json
import string
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from recsys.evaluation.metrics import evaluate_lists
from recsys.evaluation.metrics.glossary import (
    METRICS,
    definition,
    higher_is_better,
    label,
    metric_info,
    reading,
    reading_params,
    shown_keys,
)
from recsys.ranking.topk import TopK

ROOT = Path(__file__).resolve().parents[1]
LOCALES = {
    lang: json.loads((ROOT / "locales" / f"{lang}.json").read_text("utf-8"))
    for lang in ("en", "zh")
}


def _report():
    rng = np.random.default_rng(0)
    items = np.array([rng.choice(30, 5, replace=False) for _ in range(20)], np.int32)
    topk = TopK(np.arange(20, dtype=np.int32), items, np.ones(items.shape, np.float32))
    truth = sp.random(20, 30, density=0.1, format="csr", random_state=1)
    train = sp.random(20, 30, density=0.2, format="csr", random_state=2)
    return evaluate_lists(
        topk,
        truth,
        k=5,
        train=train,
        item_vectors=rng.normal(size=(30, 4)),
        item_category=rng.integers(0, 4, 30),
        item_brand=rng.integers(0, 3, 30),
        predictions=np.array([3.0, 4.0]),
        targets=np.array([3.5, 4.0]),
    )


def test_every_reported_metric_has_a_glossary_entry_and_a_reading():
    rep = _report()
    for key, value in rep.values.items():
        info = metric_info(key)  # KeyError names the key when it is missing
        assert info.definition and info.label
        assert reading(key, value) not in ("", "—"), key
    assert set(rep.values) == {k for k in shown_keys(5, rep.values, summary=False)}


def test_directions_come_from_the_glossary():
    assert higher_is_better("ndcg@10") is True
    assert higher_is_better("rmse") is False and higher_is_better("gini") is False
    assert higher_is_better("avg_popularity") is None
    assert higher_is_better("made_up") is None
    with pytest.raises(KeyError, match="made_up"):
        metric_info("made_up")


def test_readings_fill_in_the_value():
    assert reading("hit_rate@10", 0.24) == (
        "24 % of shoppers get at least one item they went on to use in their top 10."
    )
    assert "position 4.0" in reading("mrr@10", 0.25)
    assert "1 in 1,024 shoppers" in reading("novelty", 10.0)
    assert "share 80 % of their items" in reading("personalization", 0.2)
    assert label("ndcg@20") == "NDCG@20" and "20" in definition("precision@20")
    assert reading("ndcg@10", None) == "—"


def test_diversity_is_reported_three_ways_and_says_what_it_measures():
    for key, word in (
        ("diversity", "text and attributes"),
        ("category_diversity", "categories"),
        ("brand_diversity", "brands"),
    ):
        assert word in METRICS[key].definition and word in METRICS[key].reading


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_both_languages_have_every_glossary_text(lang):
    strings = LOCALES[lang]
    for key, info in METRICS.items():
        for suffix, english in (
            ("", info.label),
            (".definition", info.definition),
            (".reading", info.reading),
        ):
            text = strings[f"metric.{key}{suffix}"]
            assert text.strip()
            assert _fields(text) == _fields(english), (lang, key, suffix)
            if lang == "en":  # the English locale is the glossary, word for word
                assert text == english, (key, suffix)
        params = reading_params(key, 0.5, 10)
        strings[f"metric.{key}.reading"].format(**params)  # every placeholder is known
