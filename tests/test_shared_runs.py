"""Runs and datasets loaded once per server (``ui.shared_runs``) and the entry checksums they
are keyed by (``recsys.service.checksums``)."""

from __future__ import annotations

import threading
import time

import pytest

from recsys.errors import WorkspaceError
from recsys.service.checksums import entry_checksum, folder_checksum
from ui.shared_runs import SharedCache


def test_concurrent_misses_load_once():
    cache = SharedCache(2)
    calls = []

    def load():
        calls.append(1)
        time.sleep(0.2)
        return object()

    got = []
    threads = [threading.Thread(target=lambda: got.append(cache.get("k", load))) for _ in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert len(calls) == 1 and cache.loads == 1
    assert len({id(v) for v in got}) == 1


def test_least_recently_used_goes_first_and_failed_loads_are_not_kept():
    cache = SharedCache(2)
    cache.get("a", lambda: 1)
    cache.get("b", lambda: 2)
    cache.get("a", lambda: 0)  # a hit: "a" is now the most recent
    cache.get("c", lambda: 3)
    assert cache.get("a", lambda: -1) == 1 and cache.get("b", lambda: -2) == -2

    def broken():
        raise WorkspaceError("gone")

    with pytest.raises(WorkspaceError):
        cache.get("d", broken)
    assert cache.get("d", lambda: 4) == 4


def test_a_fresh_entry_never_evicts_one_a_live_session_holds():
    cache = SharedCache(2)
    cache.get("lab", lambda: "lab run", holder="lab session")
    for i in range(9):  # nine sessions open their fresh runs
        cache.get(f"fresh {i}", lambda i=i: i, holder=f"session {i}")
    assert cache.get("lab", lambda: "reloaded") == "lab run" and cache.loads == 10
    assert len(cache) == 10 and cache.held() == {"lab"} | {f"fresh {i}" for i in range(9)}
    # a session moving to another run releases its old one, which may then go
    cache.get("other", lambda: "o", holder="session 0")
    assert cache.get("fresh 0", lambda: "again") == "again"


def test_unheld_entries_go_beyond_the_limit_or_when_memory_is_short():
    memory = [10 * 2**30]
    cache = SharedCache(2, hold_seconds=60, low_memory=2**30, memory=lambda: memory[0])
    cache.get("held", lambda: 0, holder="s")
    for key in ("a", "b", "c"):
        cache.get(key, lambda: 1)
    assert set(cache._items) == {"held", "c"}  # two in all; the held one stays
    memory[0] = 2**20  # the machine runs short: no unheld entry is kept
    cache.get("d", lambda: 1)
    assert set(cache._items) == {"held"}
    cache.hold_seconds = 0  # the session went away (its tab closed): it holds nothing now
    time.sleep(0.01)
    memory[0] = 10 * 2**30
    cache.get("e", lambda: 1)
    cache.get("f", lambda: 1)
    assert set(cache._items) == {"e", "f"} and cache.held() == set()


def test_checksum_follows_the_files(tmp_path):
    folder = tmp_path / "runs" / "run-1"
    (folder / "models").mkdir(parents=True)
    (folder / "manifest.json").write_text("{}")
    (folder / "models" / "a.bin").write_bytes(b"\x00" * 10)
    first = entry_checksum(tmp_path, "runs", "run-1")
    assert first == folder_checksum(folder)
    (folder / "models" / "a.bin").write_bytes(b"\x01" * 10)  # same size, new content
    assert entry_checksum(tmp_path, "runs", "run-1") != first
    with pytest.raises(WorkspaceError):
        entry_checksum(tmp_path, "runs", "run-2")
    with pytest.raises(WorkspaceError):
        entry_checksum(tmp_path, "runs", "../runs")


def test_a_run_is_loaded_once_and_reloaded_when_its_files_change(tmp_path, csv_bytes):
    from recsys.data.demo import generate_store
    from recsys.data.ingest import load_dataset
    from recsys.service.persistence import save_run
    from recsys.service.preset import default_preset
    from recsys.service.training import train_run
    from recsys.service.workspace import Workspace
    from ui import shared_runs

    ws = Workspace(tmp_path)
    catalog, events = generate_store(n_users=120, n_items=40, n_events=2_000, seed=0)
    result = load_dataset(csv_bytes(events), csv_bytes(catalog), name="tiny")
    ds_id = ws.save_dataset("tiny", result.events, result.catalog)
    run_id = save_run(train_run(result.dataset, default_preset(("popularity",))), ws, ds_id)

    first = shared_runs.run(ws, run_id, ds_id)
    assert shared_runs.run(ws, run_id, ds_id) is first  # a refresh, a new tab, Compare
    assert first.dataset is shared_runs.dataset(ws, ds_id)  # one copy of the data too
    manifest = tmp_path / "runs" / run_id / "manifest.json"
    manifest.write_text(manifest.read_text() + " ")
    assert shared_runs.run(ws, run_id, ds_id) is not first  # rewritten files: loaded again
    ws.delete_dataset(ds_id, with_runs=True)
    shared_runs.forget(ws, run_id)
    with pytest.raises(WorkspaceError):
        shared_runs.run(ws, run_id, ds_id)
