"""CLI: ``main(argv)`` in-process for most cases, a couple through ``python -m recsys``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from recsys.cli import COMMANDS, main, parse_pairs, parse_weights
from recsys.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]

LOG = "user_id,item_id,event,timestamp\nu1,i1,view,1700000000\nu1,i2,buy,1700000100\nu2,i1,cart,1700000200\n"
CATALOG = "item_id,title,price\ni1,Phone,999\ni2,Case,19\ni3,Cable,5\n"


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    log = tmp_path / "log.csv"
    cat = tmp_path / "cat.csv"
    log.write_text(LOG, encoding="utf-8")
    cat.write_text(CATALOG, encoding="utf-8")
    return log, cat


def test_commands_are_registered():
    assert {"validate", "demo-data"} <= set(COMMANDS)


def test_validate_ok_prints_report_and_writes_json(files, tmp_path, capsys):
    log, cat = files
    out = tmp_path / "out" / "report.json"
    code = main(["validate", "--interactions", str(log), "--catalog", str(cat), "--json", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "Data is usable for training." in captured.out
    assert "Users: 2; items: 3 (2 with interactions, 3 in the catalog)." in captured.out
    assert "Event types: view 1, cart 1, purchase 1." in captured.out
    report = json.loads(out.read_text(encoding="utf-8"))
    assert (
        report["usable"] is True
        and report["n_pairs"] == 3
        and report["items_never_interacted"] == 1
    )


def test_validate_with_map_and_event_weight(tmp_path, capsys):
    log = tmp_path / "x.csv"
    log.write_text("who,what,kind\na,p,view\nb,q,view\nb,p,buy\n", encoding="utf-8")
    out = tmp_path / "r.json"
    code = main([
        "validate", "--interactions", str(log), "--map", "user=who", "--map", "item=what",
        "--map", "event=kind", "--event-weight", "purchase=7", "--json", str(out),
    ])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    report = json.loads(out.read_text())
    assert report["files"][0]["mapping"] == {"user": "who", "item": "what", "event": "kind"}


def test_validate_refusal_exits_2_with_plain_message(tmp_path, capsys):
    bad = tmp_path / "ratings.csv"
    bad.write_text("user,item,rating\nu1,i1,good\nu2,i2,bad\n", encoding="utf-8")
    code = main(["validate", "--interactions", str(bad)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error: file 'ratings.csv', column 'rating', lines 2, 3:")
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (
            ["validate", "--interactions", "/nonexistent/x.csv"],
            "file not found: /nonexistent/x.csv",
        ),
        (["validate"], "give --interactions"),
        (["validate", "--interactions", "LOG", "--map", "user"], "must look like name=value"),
        (["validate", "--interactions", "LOG", "--map", "user=nope"], "no such column"),
        (["validate", "--interactions", "LOG", "--event-weight", "view=abc"], "positive number"),
        (["validate", "--interactions", "DIR"], "folder"),
        (["demo-data", "--out", "DIR", "--users", "0"], "--users must be at least 1"),
    ],
)
def test_errors_are_one_line(files, tmp_path, capsys, argv, needle):
    log, _ = files
    argv = [str(log) if a == "LOG" else str(tmp_path) if a == "DIR" else a for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert needle in err and err.count("\n") == 1 and "Traceback" not in err


def test_png_upload_is_refused(tmp_path, capsys):
    png = tmp_path / "photo.csv"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    assert main(["validate", "--interactions", str(png)]) == 2
    assert "file 'photo.csv': this is a PNG image, not a CSV file." in capsys.readouterr().err


def test_catalog_only_mode(files, capsys):
    _, cat = files
    assert main(["validate", "--catalog", str(cat)]) == 0
    out = capsys.readouterr().out
    assert "Catalog file 'cat.csv'" in out and "catalog only" in out


def test_no_command_and_help(capsys):
    assert main([]) == 2
    assert main(["--help"]) == 0
    assert "validate" in capsys.readouterr().out
    assert main(["nope"]) == 2


def test_parse_helpers():
    assert parse_pairs(["user = CustomerID", "rating="], "--map") == {
        "user": "CustomerID",
        "rating": "",
    }
    assert parse_weights(["purchase=5", "view=0.5"]) == {"purchase": 5.0, "view": 0.5}
    with pytest.raises(ConfigError):
        parse_weights(["view=-1"])
    with pytest.raises(ConfigError):
        parse_pairs(["=x"], "--map")


def test_demo_data_then_validate_in_process(tmp_path, capsys):
    out = tmp_path / "demo"
    code = main(
        ["demo-data", "--out", str(out), "--users", "60", "--items", "40", "--events", "800"]
    )
    assert code == 0, capsys.readouterr().err
    printed = capsys.readouterr().out
    assert "catalog.csv" in printed and "interactions.csv" in printed
    assert (out / "catalog.csv").exists() and (out / "interactions.csv").exists()
    code = main([
        "validate", "--interactions", str(out / "interactions.csv"), "--catalog", str(out / "catalog.csv"),
    ])  # fmt: skip
    assert code == 0, capsys.readouterr().err


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "recsys", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_subprocess_validate(files):
    log, cat = files
    ok = _run("validate", "--interactions", str(log), "--catalog", str(cat))
    assert ok.returncode == 0, ok.stderr
    assert "columns used: user <- 'user_id', item <- 'item_id'" in ok.stdout
    bad = _run("validate", "--interactions", str(log.parent / "missing.csv"))
    assert bad.returncode == 2 and bad.stderr.startswith("error: file not found")
    assert "Traceback" not in bad.stderr


def test_subprocess_demo_data(tmp_path):
    res = _run(
        "demo-data",
        "--out",
        str(tmp_path / "d"),
        "--users",
        "30",
        "--items",
        "20",
        "--events",
        "300",
    )
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "d" / "interactions.csv").stat().st_size > 0
