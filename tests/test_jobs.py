"""The training queue (``recsys.service.jobs``): job states, places, cancel, a crashed worker,
a server that went away, and a real training in a worker process (tiny data)."""

from __future__ import annotations

import json
import os
import time

import job_faults
import pandas as pd
import pytest

from recsys.data.ingest import load_dataset
from recsys.errors import ConfigError, MemoryBudgetError
from recsys.service import jobs
from recsys.service.jobs import TrainingQueue
from recsys.service.preset import Preset
from recsys.service.workspace import Workspace

PRESET = Preset(models={"popularity": {}})


@pytest.fixture
def shop(tmp_path):
    events = pd.DataFrame(
        {
            "user_id": [f"u{u}" for u in range(40) for _ in range(5)],
            "item_id": [f"i{(u * 3 + j) % 17}" for u in range(40) for j in range(5)],
        }
    )
    loaded = load_dataset(events.to_csv(index=False).encode(), name="shop")
    ws = Workspace(tmp_path / "ws")
    ds_id = ws.save_dataset("shop", loaded.events, loaded.catalog, {})
    return ws, ds_id, ws.load_dataset(ds_id)


def _wait(queue: TrainingQueue, job_id: str, timeout: float = 120.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        job = queue.job(job_id)
        if job is not None and not job.active:
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} still {queue.job(job_id)}")


def _wait_state(queue: TrainingQueue, job_id: str, state: str, timeout: float = 60.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        job = queue.job(job_id)
        if job is not None and job.state == state:
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} is {queue.job(job_id)}, not {state}")


def test_a_training_runs_in_a_worker_and_saves_the_run(shop):
    ws, ds_id, dataset = shop
    queue = TrainingQueue(ws.root, workers=1, niceness=0)
    try:
        job_id = queue.submit(dataset, ds_id, PRESET, saved_by="ana", estimate_seconds=2)
        assert queue.job(job_id).state in ("queued", "running")
        job = _wait(queue, job_id)
        assert job.state == "done", job.error
        assert job.run_id in {r["run_id"] for r in ws.list_runs(ds_id)}
        assert ws.run_manifest(job.run_id)["saved_by"] == "ana"
        # the job belongs to the workspace, not to the queue object: another one reads it
        other = TrainingQueue(ws.root, workers=1)
        try:
            assert other.job(job_id).state == "done"
        finally:
            other.close()
    finally:
        queue.close()


def test_queued_jobs_show_their_place_and_can_be_cancelled(shop):
    ws, ds_id, dataset = shop
    queue = TrainingQueue(ws.root, workers=1, worker=job_faults.slow)
    try:
        first, second, third = (
            queue.submit(dataset, ds_id, PRESET, estimate_seconds=10) for _ in range(3)
        )
        running = _wait_state(queue, first, "running")
        assert running.place == 0
        waiting = {j.id: j for j in queue.jobs(ds_id)}
        assert (waiting[second].place, waiting[third].place) == (1, 2)
        assert waiting[second].wait_seconds > 0  # the running job's seconds left
        assert waiting[third].wait_seconds >= waiting[second].wait_seconds + 10
        assert queue.cancel(second)  # queued: out of the queue at once
        assert queue.job(second).state == "cancelled"
        assert queue.job(third).place == 1
        assert queue.cancel(first)  # running: the worker is stopped
        assert _wait(queue, first, 30).state == "cancelled"
        assert _wait_state(queue, third, "running").place == 0
        assert not queue.cancel(first)  # over already
    finally:
        queue.close()
    assert queue.job(third).state == "stopped"


def test_a_crashed_worker_is_reported_plainly(shop):
    ws, ds_id, dataset = shop
    queue = TrainingQueue(ws.root, workers=1, worker=job_faults.crash)
    try:
        job = _wait(queue, queue.submit(dataset, ds_id, PRESET))
    finally:
        queue.close()
    assert job.state == "failed"
    assert job.error["code"] == "train.job_crashed"
    assert job.error["text"] == (
        "the training process stopped unexpectedly (exit 3); no run was saved."
    )
    assert ws.list_runs(ds_id) == []


def test_a_failure_in_the_worker_keeps_its_message(shop):
    ws, ds_id, dataset = shop
    queue = TrainingQueue(ws.root, workers=1, worker=job_faults.disk_full, niceness=0)
    try:
        job = _wait(queue, queue.submit(dataset, ds_id, PRESET))
    finally:
        queue.close()
    assert job.state == "failed"
    assert job.error["code"] == "workspace.disk_full"
    assert "disk is full" in job.error["text"]
    assert ws.list_runs(ds_id) == []


def test_a_job_outlives_the_page_and_a_dead_server_stops_it(shop):
    ws, ds_id, dataset = shop
    queue = TrainingQueue(ws.root, workers=1, worker=job_faults.slow)
    job_id = queue.submit(dataset, ds_id, PRESET)
    _wait_state(queue, job_id, "running")
    # a refresh is a new session: it finds the job by its dataset, still running
    assert [j.id for j in TrainingQueue.jobs(queue, ds_id)] == [job_id]
    # a server killed outright leaves the job "running" on disk, owned by a dead process
    state = ws.root / "jobs" / job_id / "state.json"
    doc = json.loads(state.read_text())
    queue.close()
    doc.update(state="running", server_pid=2**22 + 1, server="gone")
    state.write_text(json.dumps(doc))
    leftover = ws.root / "runs" / ".tmp-run-x-1234"
    (leftover / "models").mkdir(parents=True)
    os.utime(leftover / "models", (time.time() - 600,) * 2)
    os.utime(leftover, (time.time() - 600,) * 2)
    restarted = TrainingQueue(ws.root, workers=1)
    try:
        job = restarted.job(job_id)
        assert job.state == "stopped"
        assert job.error["code"] == "train.job_stopped"
        assert not leftover.exists()
    finally:
        restarted.close()


def test_the_memory_guard_applies_before_queueing(shop, monkeypatch):
    ws, ds_id, dataset = shop
    monkeypatch.setattr("recsys.service.memory.available_memory", lambda: 1000)
    queue = TrainingQueue(ws.root, workers=1, worker=job_faults.crash)
    try:
        with pytest.raises(MemoryBudgetError):
            queue.submit(dataset, ds_id, PRESET)
        assert queue.jobs() == []
    finally:
        queue.close()


def test_the_number_of_workers_is_a_setting(monkeypatch):
    monkeypatch.setenv(jobs.WORKERS_ENV, "3")
    assert jobs.default_workers() == 3
    monkeypatch.setenv(jobs.WORKERS_ENV, "none")
    with pytest.raises(ConfigError, match="whole number"):
        jobs.default_workers()
    monkeypatch.delenv(jobs.WORKERS_ENV)
    assert jobs.default_workers() == max(1, (os.cpu_count() or 1) - 1)


def test_a_run_saved_just_before_the_server_died_counts(shop):
    ws, ds_id, dataset = shop
    queue = TrainingQueue(ws.root, workers=1, worker=job_faults.slow)
    job_id = queue.submit(dataset, ds_id, PRESET)
    _wait_state(queue, job_id, "running")
    queue.close()
    folder = ws.root / "jobs" / job_id
    doc = json.loads((folder / "state.json").read_text())
    doc.update(state="running", server_pid=2**22 + 1, server="gone")
    (folder / "state.json").write_text(json.dumps(doc))
    (folder / "result.json").write_text(json.dumps({"state": "done", "run_id": "run-x"}))
    restarted = TrainingQueue(ws.root, workers=1)
    try:
        job = restarted.job(job_id)
        assert (job.state, job.run_id) == ("done", "run-x")
    finally:
        restarted.close()


def test_a_full_disk_refuses_a_training_plainly_and_leaves_no_job(shop, monkeypatch):
    import errno

    from recsys.errors import WorkspaceError

    ws, ds_id, dataset = shop
    queue = TrainingQueue(ws.root, workers=1, niceness=0)

    def full(path, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    try:
        monkeypatch.setattr(jobs, "atomic_write_json", full)
        with pytest.raises(WorkspaceError, match="disk is full") as caught:
            queue.submit(dataset, ds_id, PRESET)
        assert caught.value.code == "workspace.disk_full"
        assert queue.jobs() == []
        assert list((ws.root / "jobs").iterdir()) == []  # no half-made job folder
    finally:
        queue.close()
