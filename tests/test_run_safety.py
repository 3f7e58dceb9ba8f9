"""Nothing in a run folder runs code: planted pickles are reported, never unpickled."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from recsys.errors import InvalidRunError, WorkspaceError
from recsys.models import storage
from recsys.models.popularity import Popularity
from recsys.service.persistence import load_run
from recsys.service.workspace import Workspace


class _Payload:
    """Unpickling this creates ``marker``: the probe's shell command, made harmless."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def _malicious(marker: Path) -> bytes:
    return pickle.dumps(_Payload(marker))


@pytest.fixture
def ws(tmp_path):
    ws = Workspace(tmp_path / "ws")
    events = pd.DataFrame(
        {"user_id": ["u1", "u1", "u2", "u3"], "item_id": ["a", "b", "a", "c"], "weight": 1.0}
    )
    ws.ds_id = ws.save_dataset("shop", events, None, {})  # type: ignore[attr-defined]
    return ws


def _plant(ws: Workspace, run_id: str, manifest: dict, files: dict[str, bytes]) -> Path:
    folder = ws.root / "runs" / run_id
    (folder / "models").mkdir(parents=True)
    for name, data in files.items():
        (folder / "models" / name).write_bytes(data)
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder


def test_the_payload_is_live(tmp_path):
    """The planted bytes really do run code when unpickled (so the tests below can fail)."""
    marker = tmp_path / "pwned"
    pickle.loads(_malicious(marker))
    assert marker.exists()


def test_old_pickled_run_dated_in_the_future_is_reported_never_run(ws, tmp_path):
    marker = tmp_path / "pwned"
    old_manifest = {  # what the pickle-based version wrote, dated far in the future
        "run_id": "run-29991231-235959-deadbeef",
        "dataset_id": ws.ds_id,
        "created_at": "2999-12-31T23:59:59+00:00",
        "format_version": 1,
        "models": ["full__popularity"],
        "arrays": [],
        "dataset_fingerprint": ws.load_dataset(ws.ds_id).fingerprint,
        "preset": {"name": "x", "models": {"popularity": {}}},
    }
    _plant(ws, old_manifest["run_id"], old_manifest, {"full__popularity.pkl": _malicious(marker)})

    assert ws.list_runs() == [] and ws.list_runs(ws.ds_id) == []  # never auto-selected
    [bad] = ws.invalid_runs()
    assert bad["run_id"] == old_manifest["run_id"] and bad["code"] == "run.outdated"
    assert "older version" in bad["problem"] and "train again" in bad["problem"]
    with pytest.raises(InvalidRunError, match="older version"):
        ws.load_run(old_manifest["run_id"])
    with pytest.raises(InvalidRunError, match="older version"):
        load_run(ws, old_manifest["run_id"])
    assert not marker.exists()
    ws.delete_run(old_manifest["run_id"])  # and it can be removed
    assert ws.invalid_runs() == []


def _current_manifest(ws: Workspace, folder: str, **changes) -> dict:
    manifest = {
        "run_id": folder,
        "dataset_id": ws.ds_id,
        "created_at": "2024-06-30T12:00:00+00:00",
        "format_version": 2,
        "models": {"full__popularity": "popularity"},
        "arrays": [],
        "dataset_fingerprint": ws.load_dataset(ws.ds_id).fingerprint,
        "preset": {"name": "x", "models": {"popularity": {}}},
    }
    manifest.update(changes)
    return manifest


def _model_json() -> bytes:
    doc = {"format": storage.MODEL_FORMAT, "model": "popularity", "params": {"by": "users"},
           "state": {"n_users_": 3, "n_items_": 3}}  # fmt: skip
    return json.dumps(doc).encode()


def _object_npz(marker: Path) -> bytes:
    import io

    buf = io.BytesIO()
    np.savez(buf, item_scores_=np.array([_Payload(marker)], dtype=object), allow_pickle=True)
    return buf.getvalue()


@pytest.mark.parametrize("kind", ["raw pickle as npz", "object array in npz"])
def test_pickles_in_current_format_files_are_refused(ws, tmp_path, kind):
    marker = tmp_path / "pwned"
    run_id = "run-20240630-120000-0badf00d"
    npz = _malicious(marker) if kind == "raw pickle as npz" else _object_npz(marker)
    files = {"full__popularity.json": _model_json(), "full__popularity.npz": npz}
    _plant(ws, run_id, _current_manifest(ws, run_id), files)
    with pytest.raises(InvalidRunError, match="cannot be read"):
        ws.load_run(run_id)
    with pytest.raises(InvalidRunError):
        load_run(ws, run_id)
    assert not marker.exists()


@pytest.mark.parametrize(
    ("changes", "files", "reason"),
    [
        ({"created_at": "2999-01-01T00:00:00+00:00"}, None, "dated in the future"),
        ({"models": {"full__popularity": "os.system"}}, None, "does not know"),
        ({"run_id": "run-other-00000000"}, None, "another run"),
        ({"format_version": 3}, None, "newer version"),
        ({"exec": "import os"}, None, "unknown entries"),
        ({"dataset_fingerprint": 7}, None, "wrong type"),
        ({}, {"full__popularity.json": b"{}", "evil.pkl": b"x"}, "files"),
    ],
)
def test_manifests_failing_the_schema_are_invalid(ws, tmp_path, changes, files, reason):
    run_id = "run-20240630-120000-0badf00d"
    planted = files or {"full__popularity.json": _model_json(), "full__popularity.npz": b"x"}
    _plant(ws, run_id, _current_manifest(ws, run_id, **changes), planted)
    assert ws.list_runs() == []
    [bad] = ws.invalid_runs()
    assert reason in bad["problem"] and bad["code"] == "run.invalid"
    with pytest.raises(InvalidRunError, match=reason):
        ws.load_run(run_id)


def test_the_fingerprint_is_checked_before_any_model_file_is_read(ws, monkeypatch):
    dataset = ws.load_dataset(ws.ds_id)
    manifest = {
        "dataset_fingerprint": dataset.fingerprint,
        "preset": {"models": {"popularity": {}}},
    }
    run_id = ws.save_run(ws.ds_id, {"full__popularity": Popularity().fit(dataset)}, manifest)

    def never(*args, **kwargs):
        raise AssertionError("a model file was read")

    monkeypatch.setattr(storage, "load_model", never)
    monkeypatch.setattr("recsys.service.run_files.load_model", never)
    with pytest.raises(InvalidRunError, match="different data"):
        ws.load_run(run_id, fingerprint="0" * 16)
    other = dataset.with_interactions(dataset.interactions.head(2), name="other")
    with pytest.raises(InvalidRunError, match="different data"):
        load_run(ws, run_id, dataset=other)


def test_a_run_has_a_size_and_deletes_alone(ws):
    dataset = ws.load_dataset(ws.ds_id)
    manifest = {"dataset_fingerprint": dataset.fingerprint}
    keep, drop = (
        ws.save_run(ws.ds_id, {"full__popularity": Popularity().fit(dataset)}, manifest)
        for _ in range(2)
    )
    folder = ws.root / "runs" / drop
    files = [p for p in folder.rglob("*") if p.is_file()]
    assert len(files) == 3  # manifest, model .npz + .json
    assert ws.run_size(drop) == sum(p.stat().st_size for p in files) > 0
    ws.delete_run(drop)
    assert [r["run_id"] for r in ws.list_runs()] == [keep] and not folder.exists()
    with pytest.raises(WorkspaceError, match="not in the workspace"):
        ws.run_size(drop)
    with pytest.raises(WorkspaceError, match="not a valid run id"):
        ws.run_size("../datasets")


def test_a_folder_no_run_of_ours_can_be_named_is_neither_listed_nor_read(ws, tmp_path):
    marker = tmp_path / "pwned"
    name = "![x](y.png) `Run`"
    _plant(ws, name, _current_manifest(ws, name), {"full__popularity.npz": _malicious(marker)})
    assert ws.list_runs() == [] and ws.invalid_runs() == []
    assert not marker.exists()
