"""Disk faults and interruptions: plain messages, nothing changed, our leftovers cleaned."""

from __future__ import annotations

import errno
import os
import re
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from recsys.cli.base import write_json
from recsys.errors import WorkspaceError
from recsys.models.popularity import Popularity
from recsys.service import atomic
from recsys.service.export import write_table
from recsys.service.preset import Preset
from recsys.service.workspace import Workspace

ROOT = Path(__file__).resolve().parents[1]
FULL = re.compile(r"^the workspace's disk is full \(\d[\d,]* MB free\); nothing was changed\.$")
EVENTS = pd.DataFrame({"user_id": ["u1", "u1", "u2"], "item_id": ["a", "b", "a"], "weight": 1.0})


def _enospc(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


def _assert_disk_full(err: pytest.ExceptionInfo) -> None:
    assert FULL.match(str(err.value)), str(err.value)
    assert err.value.code == "workspace.disk_full" and err.value.params["free_mb"] >= 0


def test_a_full_disk_on_save_dataset_says_so_and_keeps_the_previous_one(tmp_path, monkeypatch):
    ws = Workspace(tmp_path / "ws")
    first = ws.save_dataset("first", EVENTS, None, {})
    monkeypatch.setattr(pd.DataFrame, "to_parquet", _enospc)
    with pytest.raises(WorkspaceError) as err:
        ws.save_dataset("second", EVENTS, None, {})
    _assert_disk_full(err)
    monkeypatch.undo()
    assert [d.id for d in ws.list_datasets()] == [first]
    assert [p.name for p in (ws.root / "datasets").iterdir()] == [first]  # no half entry
    pd.testing.assert_frame_equal(ws.load_frames(first)[0], EVENTS)


def test_pyarrow_style_messages_count_too(tmp_path, monkeypatch):
    ws = Workspace(tmp_path / "ws")

    def arrow_full(*args, **kwargs):  # pyarrow: an OSError without errno, the reason in words
        raise OSError("IOError: [Errno 28] No space left on device. Detail: [errno 28]")

    monkeypatch.setattr(pd.DataFrame, "to_parquet", arrow_full)
    with pytest.raises(WorkspaceError) as err:
        ws.save_dataset("x", EVENTS, None, {})
    _assert_disk_full(err)


def test_a_full_disk_on_save_run_says_so_and_keeps_the_previous_run(tmp_path, monkeypatch):
    ws = Workspace(tmp_path / "ws")
    ds_id = ws.save_dataset("shop", EVENTS, None, {})
    dataset = ws.load_dataset(ds_id)
    manifest = {"dataset_fingerprint": dataset.fingerprint}
    first = ws.save_run(ds_id, {"full__popularity": Popularity().fit(dataset)}, manifest)
    monkeypatch.setattr(np, "savez", _enospc)
    with pytest.raises(WorkspaceError) as err:
        ws.save_run(ds_id, {"full__popularity": Popularity().fit(dataset)}, manifest)
    _assert_disk_full(err)
    monkeypatch.undo()
    assert [r["run_id"] for r in ws.list_runs()] == [first]
    assert [p.name for p in (ws.root / "runs").iterdir()] == [first]
    models, _, _ = ws.load_run(first)
    assert models["full__popularity"].score_items(np.array([0])).shape == (1, 2)


def test_a_full_disk_when_creating_the_workspace_or_saving_state(tmp_path, monkeypatch):
    monkeypatch.setattr(Path, "mkdir", _enospc)
    with pytest.raises(WorkspaceError) as err:
        Workspace(tmp_path / "fresh")
    _assert_disk_full(err)
    monkeypatch.undo()
    ws = Workspace(tmp_path / "ws")
    ws.set_state(active_dataset="a-12345678")
    pid = ws.save_preset(Preset(name="v1"), as_new=True)
    monkeypatch.setattr(atomic.os, "fsync", _enospc)
    for call in (
        lambda: ws.set_state(active_dataset="b-12345678"),
        lambda: ws.save_preset(Preset(name="v2", id=pid)),
    ):
        with pytest.raises(WorkspaceError) as err:
            call()
        _assert_disk_full(err)
    monkeypatch.undo()
    assert ws.get_state() == {"active_dataset": "a-12345678"}
    assert ws.load_preset(pid).name == "v1"


def test_other_os_errors_keep_their_reason(tmp_path, monkeypatch):
    ws = Workspace(tmp_path / "ws")

    def denied(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(pd.DataFrame, "to_parquet", denied)
    with pytest.raises(WorkspaceError, match="could not save dataset 'x'.*Permission denied"):
        ws.save_dataset("x", EVENTS, None, {})


# ---------------------------------------------------------------------------- leftovers
def _killed_during_replace(code: str, cwd: Path) -> None:
    """Run ``code`` in a child killed (SIGKILL) at the atomic rename, as ``kill -9`` would."""
    prelude = (
        "import os, signal\n"
        "from recsys.service import atomic\n"
        "atomic.os.replace = lambda a, b: os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    proc = subprocess.run([sys.executable, "-c", prelude + code], cwd=cwd, timeout=120)
    assert proc.returncode == -9


def _age(path: Path, seconds: float = 3600) -> None:
    old = time.time() - seconds
    os.utime(path, (old, old))


def test_state_json_leftovers_of_killed_writes_go_when_the_workspace_opens(tmp_path):
    root = tmp_path / "ws"
    Workspace(root).set_state(active_dataset="a-12345678")
    for _ in range(3):
        _killed_during_replace(
            "from recsys.service.workspace import Workspace\n"
            f"Workspace({str(root)!r}).set_state(active_dataset='b-12345678')\n",
            ROOT,
        )
    # each start removed the leftover of the kill before it (the probe had 16 after 30 kills)
    ours = sorted(p.name for p in root.glob(".tmp-state.json.*"))
    assert len(ours) == 1 and re.fullmatch(r"\.tmp-state\.json\.[a-z0-9_]{8}", ours[0])
    foreign = ["notes.tmp-state.json.abcdefgh", ".tmp-statefile.json.abcdefgh", "state.json.bak"]
    for name in foreign:
        (root / name).write_text("not ours")

    ws = Workspace(root)
    assert not list(root.glob(".tmp-state.json*"))
    assert all((root / name).exists() for name in foreign)
    assert ws.get_state() == {"active_dataset": "a-12345678"}  # the killed writes changed nothing


def test_preset_and_export_leftovers_go_once_abandoned(tmp_path):
    root = tmp_path / "ws"
    Workspace(root)
    old = root / "presets" / ".tmp-p-1234abcd.json.k3j_9x0a"
    young = root / "exports" / ".tmp-top10.csv.zz9_8y7x"
    keep = root / "exports" / "top10.csv"
    for p in (old, young, keep):
        p.write_text("x")
    _age(old)
    Workspace(root)
    assert not old.exists() and young.exists() and keep.exists()  # young: maybe being written


def test_a_killed_cli_write_leaves_nothing_once_the_file_is_written_again(tmp_path):
    out = tmp_path / "out" / "recs.csv"
    frame = pd.DataFrame({"user_id": ["u1"], "item_id": ["a"], "rank": [1]})
    write_table(frame, out)
    _killed_during_replace(
        "import pandas as pd\nfrom recsys.service.export import write_table\n"
        f"write_table(pd.DataFrame({{'user_id': ['u2']}}), {str(out)!r})\n",
        ROOT,
    )
    [left] = list(out.parent.glob(".tmp-recs.csv.*"))
    assert pd.read_csv(out, dtype=str)["user_id"].tolist() == ["u1"]  # the old file is intact
    foreign = [out.parent / "recs.csv.keep", out.parent / ".tmp-other.csv.abcd1234"]
    for p in foreign:
        p.write_text("x")
    write_table(frame, out)
    assert not left.exists() and all(p.exists() for p in foreign)


def test_a_killed_cli_json_report_leaves_nothing_once_written_again(tmp_path):
    out = tmp_path / "report.json"
    _killed_during_replace(
        f"from pathlib import Path\nfrom recsys.cli.base import write_json\n"
        f"write_json(Path({str(out)!r}), {{'ok': 1}})\n",
        ROOT,
    )
    assert list(tmp_path.glob(".tmp-report.json.*")) and not out.exists()
    write_json(out, {"ok": 2})
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]


# ---------------------------------------------------------------------------- permissions
def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_exports_reports_and_workspace_files_are_0644_whatever_the_umask(tmp_path, monkeypatch):
    monkeypatch.delenv(atomic.FILE_MODE_ENV, raising=False)
    old = os.umask(0o077)  # mkstemp alone would give 0600: colleagues could not read exports
    try:
        frame = pd.DataFrame({"user_id": ["u1"], "item_id": ["a"]})
        written = [
            write_table(frame, tmp_path / "recs.csv"),
            write_table(frame, tmp_path / "recs.parquet"),
        ]
        write_json(tmp_path / "report.json", {"ok": 1})
        written.append(tmp_path / "report.json")
        ws = Workspace(tmp_path / "ws")
        written.append(ws.save_export("top.csv", b"a,b\r\n"))
        ws.save_preset(Preset(name="p"), as_new=True)
        ws.set_state(active_dataset=None)
        ds_id = ws.save_dataset("shop", EVENTS, None, {})
        dataset = ws.load_dataset(ds_id)
        manifest = {"dataset_fingerprint": dataset.fingerprint}
        ws.save_run(ds_id, {"full__popularity": Popularity().fit(dataset)}, manifest)
    finally:
        os.umask(old)
    written += [p for p in ws.root.rglob("*") if p.is_file() and not p.name.startswith(".")]
    assert len(written) >= 12
    assert {p.name: oct(_mode(p)) for p in written} == {p.name: "0o644" for p in written}
    folders = [p for p in ws.root.rglob("*") if p.is_dir()]
    assert len(folders) >= 7  # datasets, runs, presets, exports, a dataset, a run, its models
    assert {p.name: oct(_mode(p)) for p in folders} == {p.name: "0o755" for p in folders}


def test_the_mode_is_configurable_per_workspace_and_by_environment(tmp_path, monkeypatch):
    ws = Workspace(tmp_path / "ws", file_mode="640")
    assert _mode(ws.save_export("a.csv", b"x")) == 0o640
    monkeypatch.setenv(atomic.FILE_MODE_ENV, "0600")
    assert _mode(write_table(pd.DataFrame({"a": [1]}), tmp_path / "b.csv")) == 0o600
    assert _mode(Workspace(tmp_path / "ws2").save_export("c.csv", b"x")) == 0o600
    for bad in ("777", "0o044", "rw-r--r--", "1644"):
        with pytest.raises(WorkspaceError, match="not valid"):
            Workspace(tmp_path / "ws3", file_mode=bad)
