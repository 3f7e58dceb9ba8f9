"""Interface text and the app shell's layout, without running the app.

The two locale files carry the same keys with the same placeholders; every key the code names
literally exists; coded library messages render in English exactly as the library words them,
and in Chinese from the locale file; ``pages/`` holds only page files; no code sets Streamlit's
private pages flag.
"""

from __future__ import annotations

import json
import re
import string
from pathlib import Path

import pytest

from recsys.errors import ConfigError, Message, RecsysError
from recsys.models import MODEL_NAMES, make_model, model_class
from recsys.ranking.fusion import FUSERS
from recsys.ranking.rerank import Rule
from recsys.service.entries import disk_full_error
from recsys.service.run_manifest import invalid, other_data, outdated
from ui.errors import coded_text
from ui.nav import PAGE_FILES

ROOT = Path(__file__).resolve().parents[1]
LOCALES = {
    lang: json.loads((ROOT / "locales" / f"{lang}.json").read_text("utf-8"))
    for lang in ("en", "zh")
}
SOURCES = [
    ROOT / "app.py",
    *sorted((ROOT / "ui").glob("*.py")),
    *sorted((ROOT / "pages").glob("*.py")),
]


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def test_both_languages_have_the_same_keys_and_placeholders():
    en, zh = LOCALES["en"], LOCALES["zh"]
    assert sorted(en) == sorted(zh), set(en) ^ set(zh)
    differ = {k: (_placeholders(en[k]), _placeholders(zh[k])) for k in en}
    differ = {k: v for k, v in differ.items() if v[0] != v[1]}
    assert not differ, differ
    assert all(v.strip() for lang in LOCALES.values() for v in lang.values())


def test_every_literal_key_in_the_code_exists():
    keys = set(LOCALES["en"])
    used = {
        m.group(1)
        for path in SOURCES
        for m in re.finditer(r"\bt\(\s*\"([a-z_]+\.[a-z0-9_.]+)\"", path.read_text("utf-8"))
    }
    assert used, "the scan found no t() call"
    assert used <= keys, sorted(used - keys)


def _coded_errors() -> list[RecsysError]:
    """One error for each coded raise site we can trigger from outside."""
    attempts = [
        lambda: Rule(kind="shout"),
        lambda: Rule(kind="pin"),
        lambda: Rule(kind="pin", item_id="i1", position=0),
        lambda: Rule(kind="pin", item_id="i1", segment="vip"),
        lambda: Rule(kind="boost", factor=2.0),
        lambda: Rule(kind="boost", column="brand", op="~", factor=2.0),
        lambda: Rule(kind="filter", column="price", op="between", value=[1]),
        lambda: Rule(kind="filter", column="brand", op="in", value="Apple"),
        lambda: Rule(kind="boost", column="brand", value="Apple", factor=0.5),
        lambda: Rule(kind="bury", column="brand", value="Apple", factor=2.0),
        lambda: Rule.from_dict({"kind": "filter", "colour": "red"}),
        lambda: Rule.from_dict({"column": "brand"}),
        lambda: model_class("deep_magic"),
        lambda: make_model("popularity", depth=3),
    ]
    out = []
    for attempt in attempts:
        with pytest.raises(ConfigError) as info:
            attempt()
        out.append(info.value)
    return out


def _shown(markdown: str) -> str:
    """What Markdown from ``ui.text.md`` shows: backslash escapes and word joiners removed."""
    return re.sub(r"\\(.)", r"\1", markdown).replace("\u2060", "")


def test_coded_errors_read_the_same_in_english_and_are_translated():
    errors = _coded_errors()
    assert all(err.code for err in errors), [str(e) for e in errors if not e.code]
    for err in errors:
        assert f"err.{err.code}" in LOCALES["en"], err.code
        # the library's wording, exactly (as Markdown shows it: its data escaped)
        assert _shown(coded_text(err, "err", "en")) == str(err)
        zh = coded_text(err, "err", "zh")
        assert zh != str(err) and re.search(r"[\u4e00-\u9fff]", zh), zh


def test_workspace_and_run_errors_read_the_same_in_english_and_are_translated(tmp_path):
    errors = [
        disk_full_error(tmp_path),
        outdated("run-1"),
        invalid("run-1", "it is dated in the future"),
        other_data("run-1"),
    ]
    for err in errors:
        assert f"err.{err.code}" in LOCALES["en"], err.code
        assert _shown(coded_text(err, "err", "en")) == str(err)  # as Markdown shows it
        assert re.search(r"[\u4e00-\u9fff]", coded_text(err, "err", "zh"))


def test_progress_messages_carry_codes():
    message = Message("trained", "progress.trained")
    assert message == "trained" and f"{message}" == "trained"
    assert _shown(coded_text(message, "msg", "en")) == "trained"
    assert coded_text(message, "msg", "zh") == LOCALES["zh"]["msg.progress.trained"]
    assert _shown(coded_text("epoch 3/5", "msg", "zh")) == "epoch 3/5"  # uncoded: as it is


def test_training_reports_coded_progress(tiny_events, csv_bytes):
    from recsys.data.ingest import load_dataset
    from recsys.service.preset import default_preset
    from recsys.service.training import train_run

    ds = load_dataset(csv_bytes(tiny_events), name="tiny").dataset
    lines = []
    train_run(
        ds,
        default_preset(("popularity",)),
        progress=lambda stage, model, fraction, message: lines.append(message),
    )
    codes = {getattr(m, "code", None) for m in lines}
    assert {"progress.trained", "progress.pools", "progress.ready"} <= codes
    for code in codes - {None}:
        assert f"msg.{code}" in LOCALES["zh"], code


def test_errors_refine_the_builtins():
    from recsys import errors

    assert issubclass(errors.ConfigError, ValueError)
    assert issubclass(errors.DataValidationError, ValueError)
    assert issubclass(errors.ColdStartError, ValueError)
    assert issubclass(errors.NotFittedError, ValueError) and issubclass(
        errors.NotFittedError, AttributeError
    )
    assert issubclass(errors.WorkspaceError, OSError)
    err = errors.WorkspaceError("disk full", code="ws.full", params={"n": 1})
    assert str(err) == "disk full" and err.code == "ws.full" and err.params == {"n": 1}
    dv = errors.DataValidationError("bad", file="a.csv", column="user")
    assert str(dv) == "file 'a.csv', column 'user': bad" and dv.code is None


def test_library_labels_match_the_english_locale():
    en = LOCALES["en"]
    for name in MODEL_NAMES:
        if f"model.{name}" in en:
            assert en[f"model.{name}"] == model_class(name).label, name
    for name, method in FUSERS.items():
        for what in ("label", "description"):
            if f"fusion.{name}.{what}" in en:
                assert en[f"fusion.{name}.{what}"] == getattr(method, what), (name, what)


def test_pages_folder_holds_only_pages():
    files = {f"pages/{p.name}" for p in (ROOT / "pages").iterdir() if p.name != "__pycache__"}
    assert files == set(PAGE_FILES.values()), files ^ set(PAGE_FILES.values())


def test_no_code_sets_the_private_pages_flag():
    for path in [*SOURCES, ROOT / "tests" / "test_app.py"]:
        assert "uses_pages_directory" not in path.read_text("utf-8"), path
