"""One training job, run in a worker process of the training queue (``recsys.service.jobs``).

``run_job`` is the worker's whole life: it lowers its own priority (the server's sessions come
first), watches that the server that started it is still alive (and exits when it is gone, so
no orphan saves a run nobody waits for), loads the dataset from the workspace, trains it with
``train_run`` and saves the run with ``save_run`` (atomically, as ever). Progress goes to the
job's ``progress.json`` (a few times a second at most); the outcome to ``result.json``: the
run id, or a plain message with its code. It never imports Streamlit.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

from recsys.errors import Message, RecsysError, WorkspaceError
from recsys.service import persistence, training
from recsys.service.atomic import atomic_write_json
from recsys.service.entries import read_json
from recsys.service.preset import Preset
from recsys.service.progress import TrainingProgress, measured_costs, training_plan

log = logging.getLogger(__name__)

#: Files of a job's folder: what was asked (the server), the progress and the outcome (worker).
REQUEST, PROGRESS, RESULT = "request.json", "progress.json", "result.json"
#: Seconds between two progress writes.
PROGRESS_EVERY = 0.3
#: Exit status of a worker whose server went away.
ORPHANED = 70


def message_dict(message: object) -> dict[str, Any]:
    """A progress line or error as JSON: its English text, code and parameters."""
    params = getattr(message, "params", None) or {}
    return {
        "text": str(message),
        "code": getattr(message, "code", None),
        "params": {
            k: v if isinstance(v, int | float | bool) else str(v) for k, v in params.items()
        },
    }


def lower_priority(pid: int, nice: int) -> None:
    """Give process ``pid`` (0: this one) the nice value ``nice`` unless it is lower already.

    On Linux this is the priority of the process's main thread, which the threads it starts
    afterwards (BLAS, OpenMP) inherit.
    """
    try:
        if os.getpriority(os.PRIO_PROCESS, pid) < nice:
            os.setpriority(os.PRIO_PROCESS, pid, nice)
    except OSError:  # gone already, or not allowed: it runs at the normal priority
        pass


def _watch_server(server_pid: int, every: float = 0.5) -> None:
    """Exit this worker as soon as its server is gone (its parent changed)."""

    def watch() -> None:
        while True:
            if os.getppid() != server_pid:
                os._exit(ORPHANED)
            time.sleep(every)

    threading.Thread(target=watch, name="server-watch", daemon=True).start()


class _Reporter:
    """Progress calls of ``train_run`` turned into a throttled ``progress.json``."""

    def __init__(self, folder: Path, tracker: TrainingProgress, mode: int) -> None:
        self.path = folder / PROGRESS
        self.tracker = tracker
        self.mode = mode
        self.models: dict[str, float] = {}
        self.last = 0.0
        self.state: dict[str, Any] = {}

    def __call__(self, stage: str, model: str | None, fraction: float, message: str) -> None:
        self.tracker.update(stage, model, fraction)
        if model:
            self.models[model] = float(fraction)
        self.state = {
            "stage": stage,
            "model": model,
            "stage_fraction": float(fraction),
            "message": message_dict(message),
        }
        if time.monotonic() - self.last >= PROGRESS_EVERY:
            self.write()

    def write(self, **extra: Any) -> None:
        """Write the current progress (overall fraction, seconds left, last line)."""
        self.last = time.monotonic()
        doc = {
            **self.state,
            "fraction": self.tracker.fraction,
            "seconds_left": self.tracker.seconds_left,
            "elapsed": self.tracker.elapsed,
            "pid": os.getpid(),
            **extra,
        }
        try:
            atomic_write_json(self.path, doc, mode=self.mode)
        except OSError as err:  # a full disk: the training goes on, the progress waits
            log.warning("cannot write the progress of %s: %s", self.path.parent.name, err)


def _train(folder: Path, workspace_root: str) -> dict[str, Any]:
    """Train and save the job in ``folder``; the result document."""
    from recsys.service.workspace import Workspace

    request = read_json(folder / REQUEST)
    ws = Workspace(workspace_root)
    ds_id = str(request["dataset_id"])
    started = time.perf_counter()
    dataset = ws.load_dataset(ds_id)
    preset = Preset.from_dict(request["preset"])
    tune = bool(request.get("tune"))
    measured = measured_costs(ws.list_runs(ds_id))
    tracker = TrainingProgress(training_plan(dataset, preset, tune=tune, measured=measured))
    reporter = _Reporter(folder, tracker, ws.file_mode)
    reporter.write()
    run = training.train_run(dataset, preset, progress=reporter, tune=tune)
    if not any(d.id == ds_id for d in ws.list_datasets()):
        raise WorkspaceError(  # deleted meanwhile (another tab): no orphan run
            "the dataset was deleted while the models trained; no run was saved.",
            code="train.dataset_gone",
        )
    reporter.write(saving=True)
    run_id = persistence.save_run(run, ws, ds_id, saved_by=str(request.get("saved_by") or ""))
    tracker.finish()
    reporter.write()
    return {"state": "done", "run_id": run_id, "seconds": time.perf_counter() - started}


def run_job(folder: str, workspace_root: str, server_pid: int, niceness: int = 0) -> None:
    """Run the training job in ``folder`` (the worker process's target).

    Parameters
    ----------
    folder : the job's folder (``<workspace>/jobs/<job id>``), holding ``request.json``.
    workspace_root : the workspace the dataset is read from and the run is saved to.
    server_pid : the server process; the worker exits when it is gone.
    niceness : the nice value to run at (0: the normal priority).
    """
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # cancel: atomic writes clean up
    _watch_server(server_pid)
    if niceness:
        lower_priority(0, niceness)  # the server set it already; this covers a late start
    path = Path(folder)
    try:
        result = _train(path, workspace_root)
    except RecsysError as err:
        result = {"state": "failed", "error": message_dict(err)}
    except MemoryError:
        result = {
            "state": "failed",
            "error": message_dict(
                Message("the training ran out of memory; no run was saved.", "train.oom")
            ),
        }
    except Exception as err:  # a bug: logged with its traceback, reported plainly
        log.exception("training job %s failed", path.name)
        result = {
            "state": "failed",
            "error": message_dict(
                Message(
                    f"the training failed unexpectedly ({type(err).__name__}); no run was saved. "
                    "The server log has the details.",
                    "train.job_bug",
                    kind=type(err).__name__,
                )
            ),
        }
    atomic_write_json(path / RESULT, result)
