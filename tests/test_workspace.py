"""Workspace: round-trips, crash safety, path traversal, restart."""

from __future__ import annotations

import os
import time

import numpy as np
import pandas as pd
import pytest

from recsys.errors import InvalidRunError, WorkspaceError
from recsys.models.popularity import Popularity
from recsys.ranking.fusion import FusionConfig
from recsys.service import atomic
from recsys.service.preset import Preset
from recsys.service.workspace import ENV_VAR, Workspace, slugify


def _model(dataset, by: str = "users") -> Popularity:
    """A registered model, fast to fit: enough to check storage through the workspace."""
    return Popularity(by=by).fit(dataset)


def _manifest(ws: Workspace, ds_id: str, **extra) -> dict:
    return {"dataset_fingerprint": ws.load_dataset(ds_id).fingerprint, **extra}


def _frames():
    events = pd.DataFrame(
        {
            "user_id": ["00123", "00123", "U2", "U3"],
            "item_id": ["00042", "00007", "00042", "A-1"],
            "weight": np.array([1.0, 5.0, 3.0, 1.0], dtype=np.float32),
            "event": ["view", "purchase", "cart", "view"],
            "timestamp": pd.to_datetime(
                ["2024-01-02 03:04:05.123456789", "2024-02-01", "2024-03-01 12:00", "2024-03-02"],
                format="ISO8601",
            ),
        }
    )
    catalog = pd.DataFrame(
        {
            "item_id": ["00042", "00007", "A-1", "09999"],
            "title": ["小米 14 Pro 5G 手机 / Xiaomi 14 Pro", "Case", "Cable", "Watch"],
            "price": [3999.0, np.nan, 19.0, np.nan],
            "in_stock": [True, False, True, True],
        }
    )
    return events, catalog


@pytest.fixture
def ws(tmp_path) -> Workspace:
    return Workspace(tmp_path / "ws")


def test_dataset_round_trip_exact(ws):
    events, catalog = _frames()
    meta = {
        "source": ["交易.csv", "catalog.csv"],
        "mapping": {"user": "uid"},
        "weights": {"view": 1},
    }
    ds_id = ws.save_dataset("商店 demo ../../etc", events, catalog, meta)
    assert ds_id.startswith("demo-etc-") and "/" not in ds_id
    back_events, back_catalog = ws.load_frames(ds_id)
    pd.testing.assert_frame_equal(back_events, events)
    pd.testing.assert_frame_equal(back_catalog, catalog)
    assert back_events["timestamp"].dtype == events["timestamp"].dtype
    assert back_events["user_id"].tolist()[0] == "00123"

    m = ws.dataset_meta(ds_id)
    assert m["name"] == "商店 demo ../../etc" and m["source"] == ["交易.csv", "catalog.csv"]
    assert (m["n_users"], m["n_items"], m["n_interactions"]) == (3, 4, 4)
    [info] = ws.list_datasets()
    assert (info.id, info.n_users, info.n_items, info.n_interactions) == (ds_id, 3, 4, 4)

    ds = ws.load_dataset(ds_id)
    assert ds.name == "商店 demo ../../etc"
    assert ds.n_users == 3 and ds.n_items == 4
    assert ds.item_ids.contains("00042") and ds.user_ids.contains("00123")
    assert ds.catalog.set_index("item_id").loc["00042", "title"].startswith("小米")


def test_dataset_without_catalog_and_mixed_object_column(ws):
    events, _ = _frames()
    events["note"] = pd.Series(["a", 1, None, 2.5], dtype=object)
    ds_id = ws.save_dataset("plain", events, None, {})
    back, catalog = ws.load_frames(ds_id)
    assert catalog is None
    assert back["note"].tolist()[:2] == ["a", "1"] and pd.isna(back["note"][2])


def test_run_round_trip(ws):
    events, catalog = _frames()
    ds_id = ws.save_dataset("shop", events, catalog, {})
    dataset = ws.load_dataset(ds_id)
    models = {"full__popularity": _model(dataset), "test__popularity": _model(dataset, "weight")}
    arrays = {"test_users": np.array([0, 2], dtype=np.int32), "scores": np.eye(3, dtype=np.float32)}
    manifest = _manifest(ws, ds_id, preset={"name": "默认"}, timings={"fit": 1.5})
    run_id = ws.save_run(ds_id, models, manifest, arrays)
    files = sorted(p.name for p in (ws.root / "runs" / run_id / "models").iterdir())
    assert files == [f"{k}.{x}" for k in sorted(models) for x in ("json", "npz")]  # no .pkl

    loaded, manifest, back = ws.load_run(run_id, fingerprint=dataset.fingerprint)
    assert set(loaded) == set(models)
    for key, model in models.items():
        assert type(loaded[key]) is Popularity and loaded[key].by == model.by
        np.testing.assert_array_equal(
            loaded[key].score_items(np.array([1])), model.score_items(np.array([1]))
        )
    assert manifest["dataset_id"] == ds_id and manifest["preset"]["name"] == "默认"
    assert manifest["models"] == {
        "full__popularity": "popularity",
        "test__popularity": "popularity",
    }
    np.testing.assert_array_equal(back["scores"], np.eye(3))
    assert back["test_users"].dtype == np.int32
    assert [r["run_id"] for r in ws.list_runs(ds_id)] == [run_id]
    assert ws.list_runs("other-12345678") == [] and ws.invalid_runs() == []
    with pytest.raises(InvalidRunError, match="different data"):
        ws.load_run(run_id, fingerprint="0123456789abcdef")

    ws.delete_run(run_id)
    assert ws.list_runs() == []
    with pytest.raises(WorkspaceError):
        ws.load_run(run_id)


def test_run_rejects_bad_names_unknown_models_and_non_numeric_arrays(ws):
    events, catalog = _frames()
    ds_id = ws.save_dataset("shop", events, catalog, {})
    model, manifest = _model(ws.load_dataset(ds_id)), _manifest(ws, ds_id)
    with pytest.raises(WorkspaceError):
        ws.save_run(ds_id, {"../evil": model}, manifest)
    with pytest.raises(WorkspaceError):
        ws.save_run(ds_id, {"ok": model}, manifest, {"ids": np.array(["a", None], dtype=object)})
    with pytest.raises(WorkspaceError):
        ws.save_run(ds_id, {"ok": model}, manifest, {"ids": np.array(["a", "b"])})
    with pytest.raises(WorkspaceError, match="unknown entries"):
        ws.save_run(ds_id, {"ok": model}, {**manifest, "seconds": 1.5})

    class Unregistered(Popularity):
        name = "fake"

    with pytest.raises(WorkspaceError, match="registered"):
        ws.save_run(ds_id, {"ok": Unregistered().fit(ws.load_dataset(ds_id))}, manifest)
    assert ws.list_runs() == []


def test_delete_dataset_removes_its_runs_and_active_state(ws):
    events, catalog = _frames()
    ds_id = ws.save_dataset("shop", events, catalog, {})
    keep = ws.save_dataset("other", events, catalog, {})
    ws.save_run(ds_id, {"m": _model(ws.load_dataset(ds_id))}, _manifest(ws, ds_id))
    ws.set_state(active_dataset=ds_id)
    ws.delete_dataset(ds_id)
    assert [d.id for d in ws.list_datasets()] == [keep]
    assert ws.list_runs() == [] and ws.get_state()["active_dataset"] is None
    with pytest.raises(WorkspaceError):
        ws.load_dataset(ds_id)


def test_presets_create_update_rename_delete(ws):
    holiday = Preset.from_dict(
        {"name": "Holiday 双十一", "fusion": {"method": "rrf", "weights": {"svd": 0.5}}}
    )
    a = ws.save_preset(holiday, as_new=True)
    b = ws.save_preset(Preset(name="another"), as_new=True)
    assert a != b and a.startswith("holiday-")
    assert [p["name"] for p in ws.list_presets()] == ["another", "Holiday 双十一"]
    p = ws.load_preset(a)
    assert isinstance(p, Preset) and p.id == a and p.fusion.weights == {"svd": 0.5}
    created = ws.list_presets()[1]["created_at"]
    p = p.with_fusion(FusionConfig("weighted", weights={"svd": 0.5}))
    assert ws.save_preset(p) == a  # same id -> update
    ws.rename_preset(a, "Zeta")
    p2 = ws.load_preset(a)
    assert p2.name == "Zeta" and p2.fusion.method == "weighted"
    assert ws.list_presets()[1]["created_at"] == created
    with pytest.raises(WorkspaceError):
        ws.rename_preset(a, "  ")
    ws.delete_preset(a)
    assert [p["id"] for p in ws.list_presets()] == [b]
    with pytest.raises(WorkspaceError):
        ws.load_preset(a)


def test_exports_and_state(ws):
    path = ws.save_export("../../推荐 top10.csv", b"user_id,item_id\n00123,00042\n")
    assert path.parent == ws.root / "exports" and path.name == "top10.csv"
    assert path.read_text() == "user_id,item_id\n00123,00042\n"
    assert ws.list_exports() == [path]
    assert ws.get_state() == {}
    ws.set_state(active_dataset="shop-1234abcd", lang="zh")
    ws.set_state(lang="en")
    assert ws.get_state() == {"active_dataset": "shop-1234abcd", "lang": "en"}


@pytest.mark.parametrize(
    "bad", ["../../etc", "..", "/etc/passwd", "a/b", "", "UPPER", ".hidden", "x" * 200, "a\x00b"]
)
def test_path_traversal_is_refused(ws, bad):
    for call in (ws.load_dataset, ws.dataset_meta, ws.delete_dataset, ws.load_run, ws.delete_run,
                 ws.load_preset, ws.delete_preset):  # fmt: skip
        with pytest.raises(WorkspaceError):
            call(bad)
    with pytest.raises(WorkspaceError):
        ws.save_preset(Preset(name="x", id=bad))
    assert not (ws.root.parent / "etc").exists()


def test_slugify():
    assert slugify("Shop 商店 v2!") == "shop-v2"
    assert slugify("商店") == "item" and slugify("../../etc") == "etc"
    assert slugify("Café Déjà") == "cafe-deja"


def test_interrupted_dataset_save_leaves_previous_state(ws, monkeypatch):
    events, catalog = _frames()
    first = ws.save_dataset("first", events, catalog, {})
    real = pd.DataFrame.to_parquet
    calls = {"n": 0}

    def crash_on_second(self, *args, **kwargs):  # events written, catalog crashes half-way
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError("disk full")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(pd.DataFrame, "to_parquet", crash_on_second)
    with pytest.raises(WorkspaceError, match="disk full"):
        ws.save_dataset("second", events, catalog, {})
    monkeypatch.undo()
    assert [d.id for d in ws.list_datasets()] == [first]
    assert [p.name for p in (ws.root / "datasets").iterdir()] == [first]  # temp dir removed
    pd.testing.assert_frame_equal(ws.load_frames(first)[0], events)


def test_crash_mid_rename_is_ignored_then_cleaned(tmp_path, monkeypatch):
    ws = Workspace(tmp_path / "ws", stale_after=3600)
    events, catalog = _frames()
    ds_id = ws.save_dataset("shop", events, catalog, {})

    # a process killed before the final rename leaves a complete-looking temp dir behind
    def killed(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr(atomic.os, "rename", killed)
    monkeypatch.setattr(atomic.shutil, "rmtree", lambda *a, **k: None)  # the kill skips cleanup
    with pytest.raises(KeyboardInterrupt):
        ws.save_run(ds_id, {"m": _model(ws.load_dataset(ds_id))}, _manifest(ws, ds_id))
    monkeypatch.undo()
    leftovers = [p for p in (ws.root / "runs").iterdir()]
    assert len(leftovers) == 1 and leftovers[0].name.startswith(atomic.TMP_PREFIX)
    # a half-written entry without its marker (e.g. copied by hand) is ignored too
    (ws.root / "runs" / "run-partial-00000000" / "models").mkdir(parents=True)
    assert ws.list_runs() == []
    assert len(list((ws.root / "runs").iterdir())) == 2  # young: maybe another session's save
    old = time.time() - 7200
    for p in (ws.root / "runs").iterdir():
        os.utime(p, (old, old))
    assert Workspace(ws.root).list_runs() == []
    assert list((ws.root / "runs").iterdir()) == []  # stale leftovers cleaned


def test_interrupted_overwrite_keeps_previous_version(ws, monkeypatch):
    pid = ws.save_preset(Preset(name="v1"), as_new=True)
    ws.set_state(active_dataset="a-12345678")

    def boom(src, dst):
        raise OSError("power cut")

    monkeypatch.setattr(atomic.os, "replace", boom)
    with pytest.raises(WorkspaceError):
        ws.save_preset(Preset(name="v2", id=pid))
    with pytest.raises(WorkspaceError):
        ws.set_state(active_dataset="b-12345678")
    monkeypatch.undo()
    assert ws.load_preset(pid).name == "v1"
    assert ws.get_state()["active_dataset"] == "a-12345678"
    assert not [p for p in (ws.root / "presets").iterdir() if p.name.startswith(".tmp-")]


def test_survives_restart_and_env_root(tmp_path, monkeypatch):
    root = tmp_path / "persist"
    monkeypatch.setenv(ENV_VAR, str(root))
    ws = Workspace()
    assert ws.root == root.resolve()
    events, catalog = _frames()
    ds_id = ws.save_dataset("shop", events, catalog, {"report": {"ok": True}})
    manifest = _manifest(ws, ds_id, timings={"k": 10})
    run_id = ws.save_run(ds_id, {"m": _model(ws.load_dataset(ds_id), "weight")}, manifest)
    pid = ws.save_preset(Preset(name="p"), as_new=True)
    ws.save_export("x.csv", b"a\n")
    ws.set_state(active_dataset=ds_id, last_run=run_id)
    del ws

    again = Workspace(root)
    assert [d.id for d in again.list_datasets()] == [ds_id]
    assert again.dataset_meta(ds_id)["report"] == {"ok": True}
    models, manifest, arrays = again.load_run(run_id)
    assert manifest["timings"] == {"k": 10} and arrays == {} and models["m"].by == "weight"
    assert again.load_preset(pid).name == "p"
    assert [p.name for p in again.list_exports()] == ["x.csv"]
    assert again.get_state() == {"active_dataset": ds_id, "last_run": run_id}


def test_two_sessions_saving_at_once_get_distinct_entries(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    root = tmp_path / "ws"
    events, catalog = _frames()

    def save(i):
        w = Workspace(root)  # one instance per session, as in Streamlit
        w.set_state(**{f"k{i}": i})
        return w.save_dataset("same name", events, catalog, {"i": i})

    with ThreadPoolExecutor(4) as pool:
        ids = list(pool.map(save, range(8)))
    assert len(set(ids)) == 8
    ws = Workspace(root)
    assert sorted(d.id for d in ws.list_datasets()) == sorted(ids)
    assert ws.get_state() == {f"k{i}": i for i in range(8)}


def test_runs_of_one_second_list_in_creation_order_and_old_ones_still_sort(ws, monkeypatch):
    import json

    from recsys.service import entries, run_files

    ds_id = ws.save_dataset("d", *_frames())
    model = _model(ws.load_dataset(ds_id))
    # runs saved within one second: newest first, whatever their random suffixes say
    same = []
    for micro in (100_000, 200_000, 300_000, 400_000, 500_000):
        stamp = f"2026-12-01T07:00:01.{micro:06d}+00:00"
        monkeypatch.setattr(run_files, "utc_now", lambda s=stamp: s)
        same.append(ws.save_run(ds_id, {"m": model}, _manifest(ws, ds_id)))
    listed = [m["run_id"] for m in ws.list_runs(ds_id)]
    assert listed == same[::-1], listed
    assert (
        ".300000"
        in json.loads((ws.root / "runs" / same[2] / "manifest.json").read_text())["created_at"]
    )
    # a run of an older version, dated to the second, sorts by its time among them
    old = ws.root / "runs" / same[4]
    manifest = json.loads((old / "manifest.json").read_text())
    manifest["created_at"] = "2026-12-01T07:00:01+00:00"  # still the oldest, by time
    (old / "manifest.json").write_text(json.dumps(manifest))
    listed = [m["run_id"] for m in ws.list_runs(ds_id)]
    assert listed == [same[3], same[2], same[1], same[0], same[4]]
    assert entries.created_order("2026-12-01T07:00:01") == entries.created_order(
        "2026-12-01T07:00:01+00:00"
    )
    assert entries.utc_now().count(".") == 1  # sub-second by default
