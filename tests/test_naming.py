"""Ids and names that cannot collide: short ids, free suffixes, same-name lookups, the URL state."""

from __future__ import annotations

import pytest

from recsys.service.entries import new_id, same_name, short_id, unique_name
from ui.session import decode_lab, encode_lab


def test_short_ids_tell_entries_of_one_name_apart():
    ids = {new_id("Demo store") for _ in range(50)}
    assert len({short_id(i) for i in ids}) == 50
    assert short_id("run-20261201-010203-9f8e7d6c") == "9f8e7d"
    assert short_id("default") == "default"


def test_unique_name_and_same_name():
    taken = ["Demo store", "demo store (2)", "Other"]
    assert unique_name("Demo store", taken) == "Demo store (3)"
    assert unique_name("New", taken) == "New"
    entries = [{"id": "a", "name": "Demo store"}, {"id": "b", "name": " DEMO STORE "}]
    assert [e["id"] for e in same_name(entries, "demo store")] == ["a", "b"]
    assert same_name(entries, "Demo") == []


def test_lab_settings_round_trip_through_the_url():
    fusion = {"method": "rrf", "normalization": "rank", "weights": {"svd": 0.3}, "params": {}}
    rerank = {"k": 10, "mmr_lambda": 0.7, "rules": []}
    source = {"id": "p-1a2b3c4d", "name": "Spring"}
    text = encode_lab(fusion, rerank, source)
    assert text.isascii() and "=" not in text and "/" not in text and "+" not in text
    assert decode_lab(text) == {"fusion": fusion, "rerank": rerank, "source": source}


@pytest.mark.parametrize(
    "text",
    ["", "not base64 at all!", "eJzLSM3JyQcABiwCFQ", encode_lab({"method": "nope"}, {}, None)],
)
def test_bad_lab_settings_in_a_url_are_ignored(text):
    assert decode_lab(text) is None
