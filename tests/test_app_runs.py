"""Stored runs in the app (``AppTest``): a planted run never opens and is reported, runs delete.

The probe's attack: a run folder holding a pickle whose unpickling runs a command, with a
manifest dated far in the future so that the sidebar would pick it as the newest run.
"""

from __future__ import annotations

import json
import pickle
import re
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from recsys.data.ingest import load_dataset
from recsys.service.persistence import save_run
from recsys.service.preset import Preset
from recsys.service.training import train_run
from recsys.service.workspace import Workspace

APP = Path(__file__).resolve().parents[1] / "app.py"
TRAIN = "pages/2_train.py"
FUTURE = "2999-12-31T23:59:59+00:00"


class _Payload:
    """Unpickling this creates ``marker`` (the probe's shell command, made harmless)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


@pytest.fixture
def workspace(tmp_path, monkeypatch):
    """A workspace with one dataset and one trained run (popularity), in fast mode."""
    root = tmp_path / "ws"
    monkeypatch.setenv("FUSION_STUDIO_WORKSPACE", str(root))
    monkeypatch.setenv("FUSION_STUDIO_FAST", "1")
    events = pd.DataFrame(
        {
            "user_id": [f"u{u}" for u in range(40) for _ in range(5)],
            "item_id": [f"i{(u * 3 + j) % 17}" for u in range(40) for j in range(5)],
        }
    )
    loaded = load_dataset(events.to_csv(index=False).encode(), name="shop")
    ws = Workspace(root)
    ds_id = ws.save_dataset("shop", loaded.events, loaded.catalog, {})
    dataset = ws.load_dataset(ds_id)
    run = train_run(dataset, Preset(models={"popularity": {}}))
    run_id = save_run(run, ws, ds_id)
    return ws, ds_id, run_id, dataset.fingerprint


def _plant(ws: Workspace, ds_id: str, fingerprint: str, marker: Path, version: int) -> str:
    """A run folder dated in the future whose only model file is a live pickle."""
    run_id = f"run-29991231-235959-0badf00{version}"
    folder = ws.root / "runs" / run_id
    (folder / "models").mkdir(parents=True)
    payload = pickle.dumps(_Payload(marker))
    if version == 1:  # what the pickle-based version wrote
        models: object = ["full__popularity"]
        (folder / "models" / "full__popularity.pkl").write_bytes(payload)
    else:  # the current format's names, the pickle posing as the arrays file
        models = {"full__popularity": "popularity"}
        (folder / "models" / "full__popularity.npz").write_bytes(payload)
        (folder / "models" / "full__popularity.json").write_text("{}")
    manifest = {
        "run_id": run_id,
        "dataset_id": ds_id,
        "created_at": FUTURE,
        "format_version": version,
        "models": models,
        "arrays": [],
        "dataset_fingerprint": fingerprint,
        "preset": {"name": "x", "models": {"popularity": {}}},
    }
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return run_id


def _app() -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=300)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _goto(at: AppTest, page: str) -> AppTest:
    at.switch_page(page)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_the_payload_is_live(tmp_path):
    """The planted bytes really run code when unpickled (so the test below can fail)."""
    marker = tmp_path / "pwned"
    pickle.loads(pickle.dumps(_Payload(marker)))
    assert marker.exists()


def test_a_planted_run_is_never_selected_opened_or_run(workspace, tmp_path):
    ws, ds_id, good, fingerprint = workspace
    marker = tmp_path / "pwned"
    planted = [_plant(ws, ds_id, fingerprint, marker, version) for version in (1, 2)]

    at = _app()
    assert at.session_state["run_id"] == good  # the newest-dated run is not auto-selected
    assert any(f"{good}" in m.value for m in at.sidebar.markdown)
    _goto(at, TRAIN)
    assert at.session_state["run_id"] == good and not at.error
    [picker] = [s for s in at.selectbox if s.key and s.key.startswith("tr_pick_")]
    assert picker.options and all(p not in str(picker.options) for p in planted)
    # reported as unusable, each with its reason
    [report] = [e for e in at.expander if "cannot be used" in e.label]
    assert report.label.startswith("2 saved run(s)")
    # as shown: the library's text is escaped for Markdown (ui.text.md)
    warnings = [re.sub(r"\\(.)", r"\1", w.value).replace("\u2060", "") for w in report.warning]
    assert any(planted[0] in w and "older version" in w for w in warnings), warnings
    assert any(planted[1] in w and "dated in the future" in w for w in warnings), warnings
    assert not marker.exists()  # nothing ran

    # and each can be deleted from there, its size shown
    button = at.button(key=f"tr_del_bad_{planted[1]}")
    assert " MB)" in button.label
    button.click()
    at.run()
    assert not at.exception
    assert not (ws.root / "runs" / planted[1]).exists() and (ws.root / "runs" / planted[0]).exists()
    assert not marker.exists()


def test_a_run_is_deleted_with_its_size_shown(workspace):
    ws, ds_id, good, _ = workspace
    at = _goto(_app(), TRAIN)
    size_mb = ws.run_size(good) / 2**20
    [popover] = [p for p in at.get("popover") if "Delete this run" in p.proto.popover.label]
    assert f"({size_mb:,.1f} MB)" in popover.proto.popover.label
    at.button(key=f"tr_del_{good}").click()
    at.run()
    assert not at.exception and not at.error
    assert ws.list_runs() == [] and not (ws.root / "runs" / good).exists()
    assert at.session_state["run_id"] is None
    assert any("Run deleted" in s.value for s in at.success)
    assert ws.list_datasets()[0].id == ds_id  # the dataset stays


def test_deleting_a_dataset_offers_to_delete_its_runs_with_their_size(workspace):
    ws, ds_id, good, _ = workspace
    at = _app()
    assert at.session_state["dataset_id"] == ds_id
    size_mb = ws.run_size(good) / 2**20
    offer = at.checkbox(key="data_delete_runs")
    assert offer.value and f"its 1 trained run(s) ({size_mb:,.1f} MB)" in offer.label
    offer.uncheck()
    at.run()
    # a run cannot be opened without its dataset: keeping the runs means keeping the dataset
    assert at.button(key="data_delete_yes").disabled
    assert any("keep the dataset" in c.value for c in at.caption)
    at.checkbox(key="data_delete_runs").check()
    at.run()
    at.button(key="data_delete_yes").click()
    at.run()
    assert not at.exception and not at.error
    assert ws.list_datasets() == [] and ws.list_runs() == []  # no orphan run left behind
    assert any("1 run(s) were deleted too" in s.value for s in at.success)


def test_a_dataset_without_runs_is_deleted_without_the_offer(workspace):
    ws, ds_id, good, _ = workspace
    ws.delete_run(good)
    at = _app()
    assert not [c for c in at.checkbox if c.key == "data_delete_runs"]
    at.button(key="data_delete_yes").click()
    at.run()
    assert not at.exception and ws.list_datasets() == []
