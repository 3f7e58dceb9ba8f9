"""Trainings in the app (``AppTest``, fast mode): they run in the queue's worker processes, a
failure's reason is shown above the page, a crashed worker is reported plainly, a dataset
deleted meanwhile leaves no orphan run, a dataset cannot be deleted while it trains, queued
trainings show their place and can be cancelled, a refresh keeps the training, and a training
interrupted by a server stop is reported."""

from __future__ import annotations

import json
import time
from pathlib import Path

import job_faults
import pytest
from app_session import studio_workspace
from app_training import train, wait_trained
from streamlit.testing.v1 import AppTest

from recsys.service.preset import Preset
from recsys.service.workspace import Workspace
from ui import training_watch

APP = Path(__file__).resolve().parents[1] / "app.py"
TRAIN = "pages/2_train.py"
MODELS = ["popularity", "item_knn"]


@pytest.fixture(scope="module", autouse=True)
def workspace(tmp_path_factory):
    with studio_workspace(tmp_path_factory.mktemp("training_faults_ws")) as root:
        yield root
        training_watch.close_all()


@pytest.fixture
def worker(monkeypatch):
    """Put a worker target in place for this test's queue (a fresh queue each test)."""
    training_watch.close_all()

    def use(target) -> None:
        monkeypatch.setattr(training_watch, "WORKER", target)

    yield use
    training_watch.close_all()


def _train_page(**query) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=300)
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    at.switch_page(TRAIN)
    at.run()
    at.multiselect(key="tr_models").set_value(MODELS)
    at.checkbox(key="tr_tune").set_value(False)  # a quicker training
    at.run()
    assert not at.exception, at.exception
    return at


def _n_runs(root: Path) -> int:
    runs = root / "runs"
    return (
        len([p for p in runs.iterdir() if (p / "manifest.json").is_file()]) if runs.is_dir() else 0
    )


def _shown(at: AppTest) -> str:
    return " ".join(
        e.value for e in (*at.error, *at.warning, *at.info, *at.success, *at.markdown)
    ) + " ".join(str(p.proto.text) for p in at.get("progress"))


def test_a_training_runs_in_a_worker_and_opens_its_run(workspace, worker):
    worker(training_watch.run_job)
    at = train(_train_page())
    assert not at.exception and not at.error, [e.value for e in at.error]
    run_id = at.session_state["run_id"]
    manifest = Workspace(workspace).run_manifest(run_id)
    assert set(manifest["preset"]["models"]) == set(MODELS)
    assert any("Trained and saved" in s.value for s in at.success)
    assert "job" not in at.query_params  # the job is over: gone from the URL


def test_a_training_failure_is_shown_above_the_page(workspace, worker):
    worker(job_faults.disk_full)
    before = _n_runs(workspace)
    at = train(_train_page())
    assert not at.exception, at.exception
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and "disk is full" in errors[0], errors
    # the message is a top-level element of the page
    assert at.main.children and any(node in at.error for node in at.main.children.values())
    assert _n_runs(workspace) == before


def test_a_crashed_worker_is_reported_plainly(workspace, worker):
    worker(job_faults.crash)
    at = train(_train_page())
    assert not at.exception, at.exception
    errors = [e.value for e in at.error]
    assert errors == [
        "Training stopped: the training process stopped unexpectedly (exit 3); no run was "
        "saved. Earlier runs are kept; change the settings and try again."
    ], errors


def test_a_dataset_deleted_while_training_gets_no_run(workspace, worker):
    worker(job_faults.delete_dataset_while_training)
    at = _train_page()
    ds_id = at.session_state["dataset_id"]
    train(at)
    assert not at.exception, at.exception
    assert Workspace(workspace).list_runs(ds_id) == []  # no orphan run
    assert not list((workspace / "runs").glob(".tmp-*"))
    assert "deleted" in _shown(at), _shown(at)


def _queue_slow_jobs(at: AppTest, n: int) -> list[str]:
    ds_id = at.session_state["dataset_id"]
    dataset = Workspace(training_watch.queue().workspace_root).load_dataset(ds_id)
    preset = Preset(models={"popularity": {}})
    q = training_watch.queue()
    ids = [q.submit(dataset, ds_id, preset, saved_by="bo", estimate_seconds=30) for _ in range(n)]
    end = time.monotonic() + 180  # a loaded machine starts workers slowly
    while not q.job(ids[0]).progress:  # running, and its worker has reported
        assert time.monotonic() < end
        time.sleep(0.05)
    return ids


def test_queued_trainings_show_their_place_and_can_be_cancelled(workspace, worker):
    worker(job_faults.slow)
    at = _train_page()
    first, second = _queue_slow_jobs(at, 2)  # a colleague's two trainings
    at.run()
    assert not at.exception, at.exception
    shown = _shown(at)
    assert "Training by bo: 1st in the queue, starts in about" in shown, shown
    assert "Training by bo: training 10 %" in shown, shown
    at.button(key=f"tr_cancel_{second}").click().run()
    assert training_watch.queue().job(second).state == "cancelled"
    assert "1st in the queue" not in _shown(at)
    # the Data page refuses to delete a dataset while a training on it runs
    at.switch_page("pages/1_data.py").run()
    assert any("is queued or running" in w.value for w in at.warning)
    assert at.button(key="data_delete_yes").disabled
    training_watch.queue().cancel(first)
    end = time.monotonic() + 30
    while training_watch.running(at.session_state["dataset_id"]):
        assert time.monotonic() < end
        time.sleep(0.1)
    at.run()
    assert not at.button(key="data_delete_yes").disabled


def test_a_training_started_after_the_page_was_drawn_still_blocks_the_deletion(workspace, worker):
    worker(job_faults.slow)
    at = AppTest.from_file(str(APP), default_timeout=300)
    at.run()
    ds_id = at.session_state["dataset_id"]
    assert not at.button(key="data_delete_yes").disabled
    (job_id,) = _queue_slow_jobs(at, 1)  # another tab starts training before the click
    at.button(key="data_delete_yes").click()
    at.run()
    assert not at.exception, at.exception
    assert any("is queued or running" in w.value for w in at.warning), _shown(at)
    assert ds_id in [d.id for d in Workspace(workspace).list_datasets()]  # refused
    training_watch.queue().cancel(job_id)


def test_a_refresh_keeps_the_training(workspace, worker):
    worker(job_faults.slow_then_train)
    at = _train_page()
    at.button(key="tr_go").click().run()
    job_id = at.query_params["job"]  # the tab's URL names its job
    job_id = job_id[0] if isinstance(job_id, list) else job_id
    assert training_watch.queue().job(job_id).active
    # a refresh: a new session on the same URL; the first one is gone
    again = _train_page(ds=at.session_state["dataset_id"], job=job_id)
    assert "Your training" in _shown(again), _shown(again)
    wait_trained(again)
    assert not again.exception and not again.error, [e.value for e in again.error]
    assert again.session_state["run_id"] == training_watch.queue().job(job_id).run_id


def test_a_training_stopped_by_a_server_stop_is_reported(workspace, worker):
    worker(job_faults.slow)
    at = _train_page()
    (job_id,) = _queue_slow_jobs(at, 1)
    training_watch.close_all()  # the server goes away (its workers with it)
    state = workspace / "jobs" / job_id / "state.json"
    doc = json.loads(state.read_text())
    assert doc["state"] == "stopped"
    doc.update(state="running", server_pid=2**22 + 1, server="gone")  # as a SIGKILL leaves it
    state.write_text(json.dumps(doc))
    at.run()  # the next server start finds it
    assert training_watch.queue().job(job_id).state == "stopped"
    assert any("because the server stopped" in w.value for w in at.warning), _shown(at)


def test_the_queue_is_polled_only_while_this_sessions_training_is_active(
    workspace, worker, monkeypatch
):
    """A polling rerun can swallow a sidebar click: the jobs fragment has ``run_every`` only
    while this session's own training is queued or running."""
    import streamlit as st

    real = st.fragment
    polls: list[object] = []

    def recording(func=None, *, run_every=None, **kwargs):
        if func is training_watch._live:
            polls.append(run_every)
        return real(func, run_every=run_every, **kwargs)

    monkeypatch.setattr(st, "fragment", recording)
    worker(job_faults.slow)
    at = _train_page()
    assert polls == []  # no training at all: no jobs fragment
    (theirs,) = _queue_slow_jobs(at, 1)  # a colleague's training only
    at.run()
    assert "Training by bo" in _shown(at) and polls == [None], polls
    at.button(key="tr_go").click().run()  # this session's own training, queued behind it
    assert not at.exception, at.exception
    every = polls[-1]  # it waits behind the colleague's: polled, less often while it waits
    assert every is not None, polls
    assert training_watch.POLL_SECONDS <= every <= training_watch.QUEUED_POLL_SECONDS, polls
    mine = at.session_state[training_watch.JOB_KEY]
    training_watch.queue().cancel(mine)
    training_watch.queue().cancel(theirs)
    end = time.monotonic() + 30
    while training_watch.running(at.session_state["dataset_id"]):
        assert time.monotonic() < end
        time.sleep(0.1)
    polls.clear()
    at.run()
    at.run()
    assert polls == [] and not at.exception, polls
