"""Worker targets for the training-queue tests (importable by the spawned worker processes).

Each runs in the worker process, so what it patches there is patched for that training only.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from recsys.errors import WorkspaceError
from recsys.service.job_worker import run_job


def crash(folder: str, root: str, server_pid: int, niceness: int) -> None:
    """A worker that dies without an outcome (a segfault in a library, the OOM killer)."""
    os._exit(3)


def slow(folder: str, root: str, server_pid: int, niceness: int) -> None:
    """A worker that reports progress and trains for a long time (until cancelled)."""
    from recsys.service.atomic import atomic_write_json
    from recsys.service.job_worker import PROGRESS

    atomic_write_json(Path(folder) / PROGRESS, {"fraction": 0.1, "seconds_left": 60.0})
    time.sleep(120)


def disk_full(folder: str, root: str, server_pid: int, niceness: int) -> None:
    """The real worker whose save finds a full disk."""
    import recsys.service.persistence as persistence

    def full(*args, **kwargs):
        raise WorkspaceError(
            "the workspace's disk is full (3 MB free); nothing was changed.",
            code="workspace.disk_full",
            params={"free_mb": 3, "root": root},
        )

    persistence.save_run = full
    run_job(folder, root, server_pid, niceness)


def delete_dataset_while_training(folder: str, root: str, server_pid: int, niceness: int) -> None:
    """The real worker; the dataset is deleted (in another tab) while the models train."""
    import recsys.service.training as training
    from recsys.service.entries import read_json
    from recsys.service.workspace import Workspace

    real = training.train_run
    ds_id = read_json(Path(folder) / "request.json")["dataset_id"]

    def train_then_delete(*args, **kwargs):
        run = real(*args, **kwargs)
        Workspace(root).delete_dataset(ds_id)
        return run

    training.train_run = train_then_delete
    run_job(folder, root, server_pid, niceness)


def slow_then_train(folder: str, root: str, server_pid: int, niceness: int) -> None:
    """The real worker, after a few seconds' wait (time for a refresh)."""
    time.sleep(3)
    run_job(folder, root, server_pid, niceness)
