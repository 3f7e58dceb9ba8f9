"""Trainings in progress on this server, so other sessions and a refreshed page know of them.

A training runs inside the page's script run: a refresh, a closed tab or a click that reruns
the page stops it (Streamlit stops the run at its next progress update) and nothing is saved.
``training(dataset_id)`` records it while it runs and, when it is stopped that way, leaves a
note the Train page shows to whoever opens that dataset next ("stopped; no run was saved").
The Data page refuses to delete a dataset while a training on it runs, and the Train page
saves no run for a dataset deleted meanwhile.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

#: A stopped training is reported for this long (seconds), or until the next one finishes.
NOTE_SECONDS = 15 * 60

_lock = threading.Lock()
_running: dict[str, int] = {}  # dataset id -> trainings running on it
_stopped: dict[str, float] = {}  # dataset id -> when a training on it was stopped


@contextmanager
def training(dataset_id: str) -> Iterator[None]:
    """Mark a training on ``dataset_id`` as running for the duration of the block.

    A script stop or rerun (``BaseException`` that is not an ``Exception``) leaves a "stopped"
    note; an ordinary error does not (the page reports it); success clears earlier notes.
    """
    with _lock:
        _running[dataset_id] = _running.get(dataset_id, 0) + 1
    try:
        yield
    except Exception:
        raise
    except BaseException:  # Streamlit's StopException / RerunException: the page went away
        with _lock:
            _stopped[dataset_id] = time.time()
        raise
    else:
        with _lock:
            _stopped.pop(dataset_id, None)
    finally:
        with _lock:
            left = _running.get(dataset_id, 1) - 1
            if left > 0:
                _running[dataset_id] = left
            else:
                _running.pop(dataset_id, None)


def running(dataset_id: str | None) -> bool:
    """True while a training on ``dataset_id`` runs in any session of this server."""
    with _lock:
        return bool(dataset_id) and _running.get(str(dataset_id), 0) > 0


def stopped_at(dataset_id: str | None) -> float | None:
    """When a training on ``dataset_id`` was last stopped before it finished (recent ones only)."""
    with _lock:
        when = _stopped.get(str(dataset_id)) if dataset_id else None
        if when is not None and time.time() - when > NOTE_SECONDS:
            _stopped.pop(str(dataset_id), None)
            return None
        return when
