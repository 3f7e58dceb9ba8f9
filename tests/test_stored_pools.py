"""Runs stored with their candidate pools (``recsys.service.stored_pools``): loading one scores
nothing, the pools read back equal freshly built ones, altered pool files are refused and runs
saved before pools were stored still load."""

from __future__ import annotations

import json

import numpy as np
import pytest

from recsys.errors import InvalidRunError
from recsys.service import training
from recsys.service.persistence import load_run, save_run
from recsys.service.preset import default_preset
from recsys.service.stored_pools import PARTS
from recsys.service.training import train_run
from recsys.service.workspace import Workspace

MODELS = ("popularity", "item_knn", "content_tfidf")


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """``(workspace, dataset_id, run_id, trained run)`` on a small demo store."""
    from recsys.data.demo import generate_store
    from recsys.data.ingest import load_dataset

    root = tmp_path_factory.mktemp("ws")
    catalog, events = generate_store(n_users=150, n_items=60, n_events=3_000, seed=1)
    result = load_dataset(
        events.to_csv(index=False).encode(), catalog.to_csv(index=False).encode(), name="s"
    )
    ws = Workspace(root)
    ds_id = ws.save_dataset("s", result.events, result.catalog)
    run = train_run(ws.load_dataset(ds_id), default_preset(MODELS))
    return ws, ds_id, save_run(run, ws, ds_id), run


def _copy_run(ws: Workspace, run_id: str, new_id: str) -> str:
    """A copy of a stored run under another id (to alter it without touching the original)."""
    import shutil

    src, dst = ws.root / "runs" / run_id, ws.root / "runs" / new_id
    shutil.copytree(src, dst)
    manifest = json.loads((dst / "manifest.json").read_text())
    manifest["run_id"] = new_id
    (dst / "manifest.json").write_text(json.dumps(manifest))
    return new_id


def _assert_same_pools(a, b) -> None:
    for stage in ("validation", "test"):
        pa, pb = a.stages[stage].pool, b.stages[stage].pool
        assert pa.model_names == pb.model_names and pa.per_model == pb.per_model
        for part in PARTS:
            np.testing.assert_array_equal(getattr(pa, part), getattr(pb, part))


def test_a_saved_run_loads_without_building_a_pool(saved, monkeypatch):
    ws, ds_id, run_id, trained = saved
    folder = ws.root / "runs" / run_id
    manifest = json.loads((folder / "manifest.json").read_text())
    assert set(manifest["pools"]) == {"validation", "test"}
    assert {f"{n}.npy" for n in manifest["pool_files"]} == {
        p.name for p in (folder / "pools").iterdir()
    }

    def never(*args, **kwargs):
        raise AssertionError("the pool builder was called on load")

    monkeypatch.setattr(training, "strategy_pool", never)
    loaded = load_run(ws, run_id, dataset=ws.load_dataset(ds_id))
    _assert_same_pools(loaded, trained)
    monkeypatch.undo()
    # and equal to pools built afresh from the loaded models
    fresh = training.prepare_run(loaded.dataset, loaded.preset)
    training.install_stages(fresh, {s: st.models for s, st in loaded.stages.items()})
    _assert_same_pools(loaded, fresh)
    ev, ev_trained = loaded.evaluate(), trained.evaluate()
    assert ev.fusion.values == ev_trained.fusion.values
    assert not loaded.stages["test"].pool.scores.flags.writeable  # mapped read-only


def test_a_run_saved_without_pools_still_loads(saved):
    ws, ds_id, run_id, trained = saved
    old = _copy_run(ws, run_id, "run-20260101-000000-0000aaaa")
    folder = ws.root / "runs" / old
    manifest = json.loads((folder / "manifest.json").read_text())
    del manifest["pools"], manifest["pool_files"]
    (folder / "manifest.json").write_text(json.dumps(manifest))
    for file in (folder / "pools").iterdir():
        file.unlink()
    (folder / "pools").rmdir()
    loaded = load_run(ws, old, dataset=ws.load_dataset(ds_id))
    _assert_same_pools(loaded, trained)


def test_an_altered_or_foreign_pool_file_is_refused(saved):
    ws, ds_id, run_id, _ = saved
    dataset = ws.load_dataset(ds_id)
    altered = _copy_run(ws, run_id, "run-20260101-000001-0000bbbb")
    scores = ws.root / "runs" / altered / "pools" / "test.scores.npy"
    data = bytearray(scores.read_bytes())
    data[-1] ^= 0xFF  # one byte of the last score
    scores.write_bytes(bytes(data))
    with pytest.raises(InvalidRunError, match="altered"):
        load_run(ws, altered, dataset=dataset)

    extra = _copy_run(ws, run_id, "run-20260101-000002-0000cccc")
    np.save(ws.root / "runs" / extra / "pools" / "full.items.npy", np.zeros((2, 2), np.int32))
    assert extra not in {m["run_id"] for m in ws.list_runs()}
    assert extra in {r["run_id"] for r in ws.invalid_runs()}

    other = _copy_run(ws, run_id, "run-20260101-000003-0000dddd")
    folder = ws.root / "runs" / other
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["pools"]["test"]["models"] = list(reversed(manifest["pools"]["test"]["models"]))
    (folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(InvalidRunError, match="other models"):
        load_run(ws, other, dataset=dataset)
