"""Every page in both languages shows text, never a raw locale key (``AppTest``, fast mode).

Walks all pages on the demo store with a trained run, in English and in Chinese, collects every
string the app sends to the browser (labels, values, options, help, captions, table column
titles, chart titles), and fails on any that is a locale key or looks like one. A missing key
is also logged by ``t()``, which this test catches too.

The same walk checks the metric glossary: every metric the pages show (metric tiles, table
columns, chart titles) comes from ``recsys.evaluation.metrics.glossary``, under its readable
name, never as a raw key such as ``distributional_coverage``.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import pytest
from app_training import train
from google.protobuf.text_format import MessageToString
from streamlit.testing.v1 import AppTest

from recsys.evaluation.metrics.glossary import METRICS, is_metric
from ui import labels
from ui.nav import PAGE_FILES

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app.py"
KEYS = set(json.loads((ROOT / "locales" / "en.json").read_text("utf-8")))
NAMESPACES = sorted({k.split(".", 1)[0] for k in KEYS})
#: A token shaped like a key of one of our namespaces (``lab.kind.pin``), not a file name.
KEY_LIKE = re.compile(
    r"(?<![\w.@/-])(?:" + "|".join(NAMESPACES) + r")\.[a-z0-9_]+(?:\.[a-z0-9_]+)*(?![\w(])"
)
FILE_SUFFIXES = (".csv", ".tsv", ".txt", ".json", ".md", ".parquet", ".png")


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A workspace with the demo store and a trained run (saved, so new sessions load it)."""
    mp = pytest.MonkeyPatch()
    mp.setenv("FUSION_STUDIO_WORKSPACE", str(tmp_path_factory.mktemp("i18n_ws")))
    mp.setenv("FUSION_STUDIO_FAST", "1")
    at = _session("en")
    at.switch_page(PAGE_FILES["train"]).run()
    train(at)
    assert not at.exception and not at.error, [e.value for e in (*at.exception, *at.error)]
    assert at.session_state["run_id"]
    yield
    mp.undo()


def _session(language: str) -> AppTest:
    """A new browser session in ``language`` (switching languages within one session makes
    AppTest replay translated option labels that the new language no longer has)."""
    at = AppTest.from_file(str(APP), default_timeout=300)
    at.run()
    if language != "en":
        at.segmented_control(key="lang").set_value(language).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _texts(at: AppTest) -> list[str]:
    """Every string in the element protos of the last run (main area and sidebar)."""
    out: list[str] = []

    def walk(node) -> None:
        proto = getattr(node, "proto", None)
        if proto is not None:
            text = MessageToString(proto, as_utf8=True)
            out.extend(re.findall(r'"((?:[^"\\]|\\.)*)"', text))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return out


def _raw_keys(texts: list[str]) -> list[str]:
    found = []
    for text in texts:
        if text in KEYS:
            found.append(text)
            continue
        for token in KEY_LIKE.findall(text):
            if token in KEYS or not token.endswith(FILE_SUFFIXES):
                found.append(token)
    return found


def _metric_problems(at: AppTest, texts: list[str]) -> list[str]:
    """Metrics shown without their glossary name: raw keys as text, tile labels or table
    columns (a metric column must carry a readable label and a "?" help)."""
    out = [text for text in texts if text in METRICS or re.fullmatch(r"[a-z_]+@\d+", text)]
    out += [m.label for m in at.metric if is_metric(m.label)]
    for frame in at.dataframe:
        config = json.loads(frame.proto.columns or "{}")
        for column in frame.value.columns:
            if isinstance(column, str) and is_metric(column):
                shown = config.get(column, {})
                if not shown.get("label") or shown["label"] == column or not shown.get("help"):
                    out.append(f"table column {column}")
    return out


@pytest.mark.parametrize("language", ["en", "zh"])
def test_no_page_shows_a_raw_key(trained, language, caplog):
    """No raw locale key, and no metric outside the glossary (or shown by its raw key)."""
    at = _session(language)
    labels.UNKNOWN_METRICS.clear()
    with caplog.at_level(logging.WARNING, logger="ui.i18n"):
        for page in PAGE_FILES.values():
            at.switch_page(page).run()
            assert not at.exception, (page, [e.value for e in at.exception])
            assert not at.error, (page, [e.value for e in at.error])
            assert at.title[0].value, page
            texts = _texts(at)
            raw = _raw_keys(texts)
            assert not raw, (page, language, sorted(set(raw)))
            unexplained = _metric_problems(at, texts)
            assert not unexplained, (page, language, unexplained)
    missing = [r.getMessage() for r in caplog.records if r.name == "ui.i18n"]
    assert not missing, missing
    assert not labels.UNKNOWN_METRICS, sorted(labels.UNKNOWN_METRICS)
    if language == "zh":
        assert at.title[0].value == "导出"


def test_the_glossary_check_would_catch_an_unknown_metric():
    labels.UNKNOWN_METRICS.clear()
    assert labels.metric_label("made_up_score@10") == "made_up_score@10"
    assert labels.UNKNOWN_METRICS == {"made_up_score@10"}
    labels.UNKNOWN_METRICS.clear()


def test_the_check_would_catch_a_raw_key():
    assert _raw_keys(["lab.kind.pin"]) == ["lab.kind.pin"]
    assert _raw_keys(["Rule: lab.kind.teleport"]) == ["lab.kind.teleport"]
    assert _raw_keys(["demo_interactions.csv", "ndcg@10", "data.csv", "Apple iPhone 15"]) == []


def test_a_bug_in_the_fusion_lab_shows_an_id(trained, monkeypatch, caplog):
    """The lab runs in an st.fragment, whose reruns skip app.py: its own boundary logs the bug."""
    at = _session("en")

    def broken(*args, **kwargs):
        raise RuntimeError("evaluation bug")

    monkeypatch.setattr("ui.lab_results.eval_cached", broken)
    with caplog.at_level(logging.ERROR, logger="ui"):
        at.switch_page(PAGE_FILES["fusion"]).run()
    assert not at.exception
    (shown,) = [e.value for e in at.error]
    error_id = re.search(r"error id ([0-9a-f]{8})", shown).group(1)
    assert any(error_id in r.getMessage() and r.exc_info for r in caplog.records)
    assert at.slider(key="lab_w_popularity")  # the rest of the lab is still there
