"""Trainings as shared work: the Train page's side of the training queue (``recsys.service.jobs``).

A training is a job of the server's queue, run in a worker process, never in the page's script
run: a refresh, a closed tab or another page leaves it running. The session that asked keeps
the job's id (and its URL does, ``ui.session``), so after a refresh it follows the same job and
opens the run when it is saved. Every session on a dataset sees the trainings queued and
running on it (place in the queue, estimated wait, progress, time left) and can cancel them.
The Data page refuses to delete a dataset while a training on it is queued or running; a
training interrupted by a server stop is reported to whoever opens that dataset next.
"""

from __future__ import annotations

import threading
import time

import streamlit as st

from recsys.errors import Message
from recsys.service.job_worker import run_job
from recsys.service.jobs import CANCELLED, DONE, STOPPED, Job, TrainingQueue
from recsys.service.preset import Preset
from ui import auth, labels, session, state
from ui.errors import coded_text, message_text
from ui.i18n import lang, t

#: A stopped or failed training is reported for this long (seconds).
NOTE_SECONDS = 15 * 60
#: Seconds between two looks at the queue while a training on the dataset is active.
POLL_SECONDS = 1.0
#: At most this many seconds between two looks while this session's training waits in the queue.
QUEUED_POLL_SECONDS = 5.0
#: This session's job (also in the URL as ``job``: ``ui.session``).
JOB_KEY = session.JOB_KEY
#: The worker's target (tests put a faulty one here before the queue starts).
WORKER = run_job

_lock = threading.Lock()
_queues: dict[str, TrainingQueue] = {}


def queue() -> TrainingQueue:
    """The training queue of the workspace, one per server (started on first use)."""
    root = str(state.get_workspace().root)
    with _lock:
        found = _queues.get(root)
        if found is None:
            found = _queues[root] = TrainingQueue(root, worker=WORKER)
        return found


def close_all() -> None:
    """Stop every queue of this process (tests; the server's workers die with it anyway)."""
    with _lock:
        for q in _queues.values():
            q.close()
        _queues.clear()


def running(dataset_id: str | None) -> bool:
    """True while a training on ``dataset_id`` is queued or running."""
    return bool(dataset_id) and any(j.active for j in queue().jobs(str(dataset_id)))


def stopped_at(dataset_id: str | None) -> float | None:
    """When a training on ``dataset_id`` was last stopped by a server stop (recent ones only)."""
    if not dataset_id:
        return None
    stopped = [
        j.finished_at
        for j in queue().jobs(str(dataset_id), recent=NOTE_SECONDS)
        if j.state == STOPPED and j.finished_at
    ]
    return max(stopped) if stopped else None


def submit(dataset, dataset_id: str, preset: Preset, *, tune: bool, estimate: float) -> str:
    """Queue a training for this session (the memory check may refuse it); the job id."""
    job_id = queue().submit(
        dataset,
        dataset_id,
        preset,
        tune=tune,
        saved_by=auth.current_user(),
        owner=auth.current_user(),
        estimate_seconds=estimate,
    )
    st.session_state[JOB_KEY] = job_id
    return job_id


def ordinal(n: int) -> str:
    """``1`` -> ``1st``, ``2`` -> ``2nd`` in English; the number elsewhere."""
    if lang() != "en":
        return str(n)
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _who(job: Job) -> str:
    mine = job.id == st.session_state.get(JOB_KEY)
    return t("train.job_yours") if mine else t("train.job_theirs", who=job.saved_by or "—")


def _show(job: Job) -> None:
    """One active job: its place and wait, or its progress and time left."""
    if job.state == "queued":
        st.info(
            t("train.job_queued", place=ordinal(job.place), wait=job.wait_seconds, who=_who(job)),
            icon=":material/hourglass_top:",
        )
        return
    progress = job.progress
    line = progress.get("message") or {}
    text = message_text(
        Message(str(line.get("text", "")), line.get("code"), **line.get("params", {}))
    )
    model = progress.get("model")
    where = labels.model_label(model) if model else ""
    st.progress(
        min(float(progress.get("fraction") or 0.0), 1.0),
        text=t(
            "train.job_running",
            who=_who(job),
            pct=100 * float(progress.get("fraction") or 0.0),
            left=job.seconds_left,
            elapsed=time.time() - (job.started_at or time.time()),
            step="".join(f" · {x}" for x in (where, text) if x),
        ),
    )


def settle() -> None:
    """When this session's training is over: open its run, or say why there is none; rerun.

    Called at the top of the Train page, before it needs a dataset (the job's dataset may have
    been deleted meanwhile). A run trained on another dataset than the session's current one
    brings the session back to that dataset. An unknown job id (an old URL) is forgotten.
    """
    ss = st.session_state
    own = ss.get(JOB_KEY)
    if not own:
        return
    job = next((j for j in queue().jobs() if j.id == own), None)
    if job is not None and job.active:
        return
    ss.pop(JOB_KEY, None)
    if job is None:
        return
    if job.state == DONE and job.run_id:
        state.set_active_dataset(job.dataset_id)
        state.pick_run(job.run_id)
        took = (job.finished_at or time.time()) - (job.started_at or job.submitted_at)
        ss["train_flash"] = t("train.done", s=took)
    elif job.state == CANCELLED:
        ss["train_flash"] = t("train.job_cancelled")
    else:
        error = job.error or {}
        err = Message(str(error.get("text", "")), error.get("code"), **error.get("params", {}))
        ss["train_error"] = t("train.failed_msg", err=coded_text(err, "err"))
    st.rerun()


def poll_every(active: list[Job]) -> float | None:
    """Seconds between two looks at the queue while this session's own training is active.

    ``POLL_SECONDS`` while it runs; while it waits, a quarter of its estimated wait, between
    ``POLL_SECONDS`` and ``QUEUED_POLL_SECONDS`` (its place changes only when a training ends,
    and ten sessions polling every second can keep a busy server from answering anyone).
    None (no polling) when none of ``active`` is this session's.
    """
    own = st.session_state.get(JOB_KEY)
    job = next((j for j in active if own and j.id == own), None)
    if job is None:
        return None
    if job.state != "queued":
        return POLL_SECONDS
    return min(max(POLL_SECONDS, job.wait_seconds / 4), QUEUED_POLL_SECONDS)


def panel(dataset_id: str) -> None:
    """The trainings of this dataset, followed while this session's own one is active.

    The active jobs are drawn by a fragment. While this session's training is queued or
    running, it reruns every ``poll_every`` seconds (the rest of the page stays as it is); the
    whole page reruns only when this session's own training changes state (it starts, or it
    ends: ``settle``), never for a colleague's, so a training that ends does not rerun every
    watching session's page at once. Otherwise it does not poll: a polling rerun can swallow a
    click on the sidebar, and others' trainings are shown as of the page's last run.
    """
    active = [j for j in queue().jobs(dataset_id) if j.active]
    if active:
        own = _own_state(active)
        st.fragment(_live, run_every=poll_every(active))(dataset_id, own)


def _own_state(jobs: list[Job]) -> str | None:
    """The state of this session's own training among ``jobs`` (None: not among them)."""
    own = st.session_state.get(JOB_KEY)
    return next((j.state for j in jobs if own and j.id == own), None)


def _live(dataset_id: str, own_state: str | None) -> None:
    """The active jobs, each with a cancel button; ``own_state``: this session's job's state
    at the page's last full run (the page reruns when it changes)."""
    jobs = [j for j in queue().jobs(dataset_id) if j.active]
    if own_state is not None and _own_state(jobs) != own_state:
        st.rerun(scope="app")  # this session's training started or ended
    if not jobs:
        return
    st.subheader(t("train.jobs", n=len(jobs)))
    for job in jobs:
        left, right = st.columns([5, 1], vertical_alignment="center")
        with left:
            _show(job)
        if right.button(t("train.job_cancel"), key=f"tr_cancel_{job.id}", icon=":material/close:"):
            queue().cancel(job.id)
            st.rerun(scope="app")
