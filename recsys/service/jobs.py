"""The training queue: trainings run one after another in worker processes, not in the server.

A training is CPU-heavy Python; run in the server's process it would hold the interpreter lock
and slow every other session's sliders. ``TrainingQueue.submit`` checks the memory the run
needs (``recsys.service.memory``) and writes the job to ``<workspace>/jobs/<job id>/``; a
scheduler thread starts at most ``workers`` jobs at a time, each in a fresh worker process
(``multiprocessing`` with the *spawn* start method, lowered priority) that runs
``recsys.service.job_worker.run_job``: it trains, saves the run atomically and writes its
progress and outcome beside the request.

The job belongs to the queue, not to the page that asked for it: a refresh or a closed tab
leaves it running, and any session can read its state (``jobs``, ``job``), its place in the
queue and the estimated wait. ``cancel`` takes a queued job out of the queue or stops a
running one (SIGTERM, then SIGKILL). A worker that dies without an outcome is reported
plainly ("the training process stopped unexpectedly"). When the server itself was killed, its
unfinished jobs are marked *stopped* at the next start, and the temporary folders of the saves
they interrupted are removed.

Job states: ``queued`` -> ``running`` -> ``done`` | ``failed`` | ``cancelled``; ``stopped``
when the server went away first.
"""

from __future__ import annotations

import heapq
import logging
import multiprocessing
import os
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from recsys.data.dataset import Dataset
from recsys.errors import ConfigError, Message, WorkspaceError
from recsys.service.atomic import atomic_write_json, remove_abandoned, remove_tree
from recsys.service.entries import read_json, utc_now, writing
from recsys.service.job_worker import (
    PROGRESS,
    REQUEST,
    RESULT,
    lower_priority,
    message_dict,
    run_job,
)
from recsys.service.memory import check_memory, training_memory
from recsys.service.preset import Preset

log = logging.getLogger(__name__)

#: Environment variable: how many trainings run at once (default: one per core, less one
#: for the server's sessions, at least one).
WORKERS_ENV = "FUSION_STUDIO_TRAINING_WORKERS"
#: Environment variable: how much a worker lowers its priority (default 10; 0: not at all).
NICE_ENV = "FUSION_STUDIO_TRAINING_NICE"
STATE = "state.json"
QUEUED, RUNNING, DONE, FAILED, CANCELLED, STOPPED = (
    "queued",
    "running",
    "done",
    "failed",
    "cancelled",
    "stopped",
)
ACTIVE = (QUEUED, RUNNING)
#: Finished jobs are listed this long (seconds), then their folders are removed.
KEEP_FINISHED = 24 * 3600.0
#: Seconds without a write after which a run's temporary folder is an interrupted save's,
#: once a server stop has been found (its workers exit within a second of it).
ORPHAN_QUIET = 5.0
#: Seconds a cancelled worker gets to clean up before it is killed.
CANCEL_GRACE = 3.0

Worker = Callable[[str, str, int, int], None]


def default_workers() -> int:
    """``$FUSION_STUDIO_TRAINING_WORKERS``, else one per core less one (at least one)."""
    raw = os.environ.get(WORKERS_ENV, "").strip()
    if raw:
        try:
            value = int(raw)
        except ValueError:
            value = 0
        if value < 1:
            raise ConfigError(
                f"{WORKERS_ENV}={raw!r} is not valid: give a whole number, 1 or more."
            )
        return value
    return max(1, (os.cpu_count() or 1) - 1)


@dataclass
class Job:
    """What a session sees of one training job.

    ``place`` is 1 for the next job to start (0 while running); ``wait_seconds`` estimates
    when a queued job starts, ``progress`` is the worker's last report and ``error`` a
    message dict (``text``, ``code``, ``params``) of a failed or stopped job.
    """

    id: str
    dataset_id: str
    state: str
    submitted_at: float
    estimate_seconds: float = 0.0
    saved_by: str = ""
    owner: str = ""
    started_at: float | None = None
    finished_at: float | None = None
    run_id: str | None = None
    error: dict[str, Any] | None = None
    progress: dict[str, Any] = field(default_factory=dict)
    place: int = 0
    wait_seconds: float = 0.0

    @property
    def active(self) -> bool:
        """True while queued or running."""
        return self.state in ACTIVE

    @property
    def seconds_left(self) -> float:
        """Estimated seconds until a running job finishes (its estimate before it reports)."""
        left = self.progress.get("seconds_left")
        if isinstance(left, int | float):
            return float(left)
        elapsed = time.time() - self.started_at if self.started_at else 0.0
        return max(self.estimate_seconds - elapsed, 0.0)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


#: Tokens of the queues alive in this process (a job of a closed queue is no one's).
_LIVE_TOKENS: set[str] = set()


class TrainingQueue:
    """Training jobs of one workspace, run by worker processes.

    Parameters
    ----------
    workspace_root : the workspace's folder; jobs live in its ``jobs/`` folder.
    workers : trainings at once (default ``default_workers()``).
    worker : the worker process's target (default ``run_job``; tests pass a faulty one).
    niceness : how much a worker lowers its priority (default ``$FUSION_STUDIO_TRAINING_NICE``
        or 10).
    poll : seconds between two looks of the scheduler at its workers.
    """

    def __init__(
        self,
        workspace_root: str | Path,
        *,
        workers: int | None = None,
        worker: Worker = run_job,
        niceness: int | None = None,
        poll: float = 0.2,
    ) -> None:
        self.workspace_root = Path(workspace_root).expanduser().resolve()
        self.folder = self.workspace_root / "jobs"
        self.folder.mkdir(parents=True, exist_ok=True)
        self.workers = int(workers) if workers else default_workers()
        self.worker = worker
        self.niceness = (
            int(niceness) if niceness is not None else int(os.environ.get(NICE_ENV) or 10)
        )
        self.poll = float(poll)
        #: The workers' nice value: this process's, lowered by ``niceness`` (at most 19).
        self._worker_nice = min(os.getpriority(os.PRIO_PROCESS, 0) + self.niceness, 19)
        self.token = uuid.uuid4().hex
        self._lock = threading.RLock()
        self._procs: dict[str, BaseProcess] = {}
        self._cancelling: dict[str, float] = {}
        self._ended: dict[str, tuple[dict, dict]] = {}  # ended jobs' files (final)
        self._wake = threading.Event()
        self._closed = False
        self._context = multiprocessing.get_context("spawn")
        _LIVE_TOKENS.add(self.token)
        self.recover()
        self._thread = threading.Thread(target=self._loop, name="training-queue", daemon=True)
        self._thread.start()

    # ------------------------------------------------------------------ the sessions' side
    def submit(
        self,
        dataset: Dataset,
        dataset_id: str,
        preset: Preset,
        *,
        tune: bool = False,
        saved_by: str = "",
        owner: str = "",
        estimate_seconds: float = 0.0,
    ) -> str:
        """Queue a training of ``dataset`` with ``preset``; the job id.

        The memory the run needs is checked first (``MemoryBudgetError`` when it would not
        fit). ``owner`` tags the session that asked; ``estimate_seconds`` is the plan's total.
        """
        check_memory(training_memory(dataset, preset), "training")
        job_id = f"{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"
        folder = self.folder / job_id
        request = {
            "id": job_id,
            "dataset_id": dataset_id,
            "preset": preset.to_dict(),
            "tune": bool(tune),
            "saved_by": saved_by,
            "owner": owner,
            "estimate_seconds": float(estimate_seconds),
            "submitted_at": time.time(),
            "submitted": utc_now(),
        }
        try:  # a full disk says so plainly, and leaves no half-made job behind
            with writing("the training request", self.workspace_root):
                folder.mkdir(parents=True)
                atomic_write_json(folder / REQUEST, request)
                self._set_state(job_id, QUEUED)
        except WorkspaceError:
            remove_tree(folder)
            raise
        log.info("training job %s queued (dataset %s)", job_id, dataset_id)
        self._wake.set()
        return job_id

    def jobs(self, dataset_id: str | None = None, *, recent: float | None = None) -> list[Job]:
        """Jobs (of ``dataset_id``), oldest first, with places and waits; ``recent`` in seconds."""
        folders = sorted(self.folder.iterdir())
        for gone in self._ended.keys() - {f.name for f in folders}:  # job files last a day
            del self._ended[gone]
        every = [job for f in folders if (job := self._read(f)) is not None]
        self._places(every)
        out = []
        for job in every:
            if dataset_id is not None and job.dataset_id != dataset_id:
                continue
            if recent is not None and not job.active:
                if job.finished_at is None or time.time() - job.finished_at > recent:
                    continue
            out.append(job)
        return out

    def job(self, job_id: str) -> Job | None:
        """One job with its place and wait (None when unknown)."""
        return next((j for j in self.jobs() if j.id == job_id), None)

    def cancel(self, job_id: str) -> bool:
        """Take a queued job out of the queue or stop a running one; False when it is over."""
        with self._lock:
            job = self._read(self.folder / job_id)
            if job is None or not job.active:
                return False
            proc = self._procs.get(job_id)
            if proc is None:
                self._set_state(job_id, CANCELLED, finished_at=time.time())
            else:
                self._cancelling[job_id] = time.monotonic()
                proc.terminate()
        log.info("training job %s cancelled", job_id)
        self._wake.set()
        return True

    def close(self) -> None:
        """Stop the scheduler and every worker (their jobs are marked stopped)."""
        self._closed = True
        self._wake.set()
        with self._lock:
            for job_id, proc in list(self._procs.items()):
                proc.kill()
                proc.join(5)
                self._set_state(job_id, STOPPED, finished_at=time.time(), error=_stopped())
            self._procs.clear()
        _LIVE_TOKENS.discard(self.token)

    # ------------------------------------------------------------------ on disk
    def _set_state(self, job_id: str, state: str, **values: Any) -> None:
        path = self.folder / job_id / STATE
        try:
            doc = read_json(path) if path.is_file() else {}
        except OSError:
            doc = {}
        doc.update(values, state=state, server_pid=os.getpid(), server=self.token)
        atomic_write_json(path, doc)

    def _read(self, folder: Path) -> Job | None:
        """The job in ``folder`` (None while being written or not a job); ended ones read once."""
        known = self._ended.get(folder.name)
        if known is not None:
            request, status = known
        else:
            try:
                request = read_json(folder / REQUEST)
                status = read_json(folder / STATE)
            except OSError:  # being written, or not a job: not listed
                return None
            if status.get("state") in (DONE, FAILED, CANCELLED, STOPPED):
                self._ended[folder.name] = (request, status)
        progress: dict[str, Any] = {}
        if status.get("state") == RUNNING and (folder / PROGRESS).is_file():
            try:
                progress = read_json(folder / PROGRESS)
            except OSError:
                progress = {}
        return Job(
            id=str(request.get("id") or folder.name),
            dataset_id=str(request.get("dataset_id")),
            state=str(status.get("state")),
            submitted_at=float(request.get("submitted_at") or 0.0),
            estimate_seconds=float(request.get("estimate_seconds") or 0.0),
            saved_by=str(request.get("saved_by") or ""),
            owner=str(request.get("owner") or ""),
            started_at=status.get("started_at"),
            finished_at=status.get("finished_at"),
            run_id=status.get("run_id"),
            error=status.get("error"),
            progress=progress,
        )

    def _places(self, jobs: list[Job]) -> None:
        """Fill ``place`` and ``wait_seconds`` of the queued jobs.

        Queued jobs start in order on the first free worker; a running job frees its worker
        after its seconds left.
        """
        free = [j.seconds_left for j in jobs if j.state == RUNNING][: self.workers]
        free += [0.0] * (self.workers - len(free))
        heapq.heapify(free)
        queued = sorted((j for j in jobs if j.state == QUEUED), key=lambda j: j.submitted_at)
        for place, job in enumerate(queued, start=1):
            start = heapq.heappop(free)
            job.place, job.wait_seconds = place, start
            heapq.heappush(free, start + max(job.estimate_seconds, 1.0))

    def recover(self) -> int:
        """Mark unfinished jobs of servers that are gone as stopped; how many.

        Also removes the folders of jobs finished long ago and the temporary folders of the
        saves that were interrupted.
        """
        stopped = 0
        for folder in sorted(self.folder.iterdir()):
            try:
                status = read_json(folder / STATE)
            except OSError:
                if folder.is_dir() and time.time() - folder.stat().st_mtime > KEEP_FINISHED:
                    remove_tree(folder)
                continue
            if status.get("state") in ACTIVE and not self._owned_by_live_server(status):
                stopped += self._settle_orphan(folder.name)
            elif status.get("state") not in ACTIVE:
                finished = status.get("finished_at") or 0.0
                if time.time() - float(finished) > KEEP_FINISHED:
                    remove_tree(folder)
        # a save its server's death interrupted (its worker exits within a second): its
        # temporary folder is no longer written; other writers' stay (``remove_abandoned``)
        remove_abandoned(self.workspace_root / "runs", older_than=ORPHAN_QUIET if stopped else 60)
        remove_abandoned(self.workspace_root / "datasets")
        if stopped:
            log.warning("%d training job(s) were interrupted by a server stop", stopped)
        return stopped

    def _settle_orphan(self, job_id: str) -> int:
        """A job whose server is gone: its worker's outcome if it wrote one, else stopped.

        Returns 1 when the job was stopped (no outcome), else 0.
        """
        try:
            result = read_json(self.folder / job_id / RESULT)
        except OSError:
            result = {}
        now = time.time()
        if result.get("state") == DONE:  # saved just before the server went away
            self._set_state(job_id, DONE, finished_at=now, run_id=result.get("run_id"))
            return 0
        if result.get("state") == FAILED:
            self._set_state(job_id, FAILED, finished_at=now, error=result.get("error"))
            return 0
        self._set_state(job_id, STOPPED, finished_at=now, error=_stopped())
        return 1

    def _ours(self, job_id: str) -> bool:
        """Whether this queue took the job (another server's queue runs its own)."""
        try:
            return read_json(self.folder / job_id / STATE).get("server") == self.token
        except OSError:
            return False

    @staticmethod
    def _owned_by_live_server(status: dict) -> bool:
        pid = int(status.get("server_pid") or 0)
        if pid == os.getpid():
            return status.get("server") in _LIVE_TOKENS
        return pid > 0 and _alive(pid)

    # ------------------------------------------------------------------ the scheduler
    def _loop(self) -> None:
        while not self._closed:
            try:
                self._step()
            except Exception:  # the scheduler must outlive one bad job folder
                log.exception("training queue step failed")
            self._wake.wait(self.poll if self._procs else 10 * self.poll)
            self._wake.clear()

    def _step(self) -> None:
        with self._lock:
            for job_id, proc in list(self._procs.items()):
                if proc.is_alive():
                    began = self._cancelling.get(job_id)
                    if began is not None and time.monotonic() - began > CANCEL_GRACE:
                        proc.kill()
                    continue
                proc.join()
                del self._procs[job_id]
                self._finish(job_id, proc.exitcode)
            if self._closed:
                return
            queued = [
                j
                for j in self.jobs()
                if j.state == QUEUED and j.id not in self._procs and self._ours(j.id)
            ]
            for job in sorted(queued, key=lambda j: j.submitted_at):
                if len(self._procs) >= self.workers:
                    break
                self._start(job)

    def _start(self, job: Job) -> None:
        folder = self.folder / job.id
        proc = self._context.Process(
            target=self.worker,
            args=(str(folder), str(self.workspace_root), os.getpid(), self._worker_nice),
            name=f"training-{job.id}",
            daemon=True,
        )
        proc.start()
        if proc.pid:  # before it imports numpy, so that its threads run at that priority too
            lower_priority(proc.pid, self._worker_nice)
        self._procs[job.id] = proc
        self._set_state(job.id, RUNNING, started_at=time.time(), worker_pid=proc.pid)
        log.info("training job %s started (worker pid %s)", job.id, proc.pid)

    def _finish(self, job_id: str, exitcode: int | None) -> None:
        folder = self.folder / job_id
        now = time.time()
        if self._cancelling.pop(job_id, None) is not None:
            self._set_state(job_id, CANCELLED, finished_at=now)
            return
        try:
            result = read_json(folder / RESULT)
        except OSError:
            result = {}
        if result.get("state") == DONE:
            self._set_state(job_id, DONE, finished_at=now, run_id=result.get("run_id"))
            log.info("training job %s done: run %s", job_id, result.get("run_id"))
            return
        error = result.get("error") or message_dict(_crashed(exitcode))
        self._set_state(job_id, FAILED, finished_at=now, error=error)
        log.warning("training job %s failed: %s", job_id, error.get("text"))


def _stopped() -> dict[str, Any]:
    return message_dict(
        Message(
            "the server stopped before this training finished; no run was saved. "
            "Train again to get the run.",
            "train.job_stopped",
        )
    )


def _crashed(exitcode: int | None) -> Message:
    """The plain message of a worker that died without an outcome."""
    if exitcode == -9:
        return Message(
            "the training process was killed (often a sign of too little memory); "
            "no run was saved.",
            "train.job_killed",
        )
    how = f"signal {-exitcode}" if exitcode is not None and exitcode < 0 else f"exit {exitcode}"
    return Message(
        f"the training process stopped unexpectedly ({how}); no run was saved.",
        "train.job_crashed",
        how=how,
    )
