"""Datasets and trained runs loaded once per server and shared, read-only, by every session.

A refresh, a new tab or the Compare page used to load the active run from disk again (seconds
to tens of seconds) and every session held its own copy in memory. Here each loaded dataset
and run lives once per server process, keyed by the workspace, the entry id and the checksum
of the entry's files (``recsys.service.checksums``): a rewritten entry never comes back from
an old copy, a deleted one is reported as gone.

Each live session *holds* the run and the dataset it last asked for (``holder``: its session
id): a held entry is never evicted, so one session's fresh run cannot push out the run another
session is working on (which would then load again, in the server, while that session waits).
Only unheld entries beyond the limit go, least recently used first; when the machine runs
short of memory (``LOW_MEMORY``), every unheld entry goes. A session that has not asked for
``HOLD_SECONDS`` (a closed tab) holds nothing any more.

Shared objects are immutable for the sessions: a session's unsaved work (the lab's settings,
what-if events, tuning results) lives in its ``st.session_state`` and is passed to the run's
methods as arguments; what a run memoises (pools, learned fusers, side information) depends on
the run alone, so every session may share it. Sessions keep ids, never the objects, so an
evicted entry is freed once no script run uses it.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

from recsys.service.checksums import entry_checksum
from recsys.service.memory import available_memory
from recsys.service.persistence import load_run
from recsys.service.workspace import Workspace

#: Unheld loaded runs / datasets kept per server (least recently used first out).
MAX_RUNS = 3
MAX_DATASETS = 4
#: Seconds after its last request that a session stops holding its run and dataset.
HOLD_SECONDS = 30 * 60.0
#: Below this much available memory (bytes), no unheld entry is kept.
LOW_MEMORY = 512 * 2**20


class SharedCache:
    """A small LRU map whose misses are loaded once, however many sessions ask at the same time.

    ``holder`` (a session id) marks the entry that holder asked for last as held: held entries
    are never evicted; unheld ones beyond ``max_entries`` are, least recently used first (all of
    them when available memory is under ``low_memory`` bytes).
    """

    def __init__(
        self,
        max_entries: int,
        *,
        hold_seconds: float = HOLD_SECONDS,
        low_memory: int = LOW_MEMORY,
        memory: Callable[[], int | None] = available_memory,
    ) -> None:
        self.max_entries = max_entries
        self.hold_seconds = hold_seconds
        self.low_memory = low_memory
        self._memory = memory
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._holders: dict[Hashable, tuple[Hashable, float]] = {}  # holder -> (key, last seen)
        self._loading: dict[Hashable, threading.Lock] = {}
        self._lock = threading.Lock()
        self.loads = 0  # how many misses were loaded (tests and the soak script read it)

    def get(self, key: Hashable, load: Callable[[], Any], holder: Hashable = None) -> Any:
        """The value of ``key``; ``load()`` runs once for concurrent misses of the same key."""
        with self._lock:
            if key in self._items:
                return self._hit(key, holder)
            key_lock = self._loading.setdefault(key, threading.Lock())
        with key_lock:
            with self._lock:
                if key in self._items:
                    return self._hit(key, holder)
            try:
                value = load()
                self.loads += 1
                self.put(key, value, holder)
            finally:
                with self._lock:
                    self._loading.pop(key, None)
        return value

    def _hit(self, key: Hashable, holder: Hashable) -> Any:
        self._items.move_to_end(key)
        if holder is not None:
            self._holders[holder] = (key, time.monotonic())
        return self._items[key]

    def put(self, key: Hashable, value: Any, holder: Hashable = None) -> None:
        """Keep ``value`` under ``key`` (held by ``holder`` when given), then evict."""
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            if holder is not None:
                self._holders[holder] = (key, time.monotonic())
            self._evict()

    def held(self) -> set[Hashable]:
        """Keys some live holder holds (holders unseen for ``hold_seconds`` are forgotten)."""
        with self._lock:
            return self._held()

    def _held(self) -> set[Hashable]:
        now = time.monotonic()
        for holder, (_, seen) in list(self._holders.items()):
            if now - seen > self.hold_seconds:
                del self._holders[holder]
        return {key for key, _ in self._holders.values()}

    def _evict(self) -> None:
        held = self._held()
        free = [k for k in self._items if k not in held]  # least recently used first
        keep = self.max_entries - (len(self._items) - len(free))
        if len(free) > max(keep, 0):
            available = self._memory()
            if available is not None and available < self.low_memory:
                keep = 0
            for key in free[: len(free) - max(keep, 0)]:
                del self._items[key]

    def discard(self, match: Callable[[Hashable], bool]) -> None:
        """Forget every entry whose key matches (a deleted dataset or run)."""
        with self._lock:
            for key in [k for k in self._items if match(k)]:
                del self._items[key]

    def clear(self) -> None:
        """Forget everything (as a restarted server would)."""
        with self._lock:
            self._items.clear()
            self._holders.clear()

    def __len__(self) -> int:
        return len(self._items)


RUNS = SharedCache(MAX_RUNS)
DATASETS = SharedCache(MAX_DATASETS)


def _key(ws: Workspace, kind: str, entry_id: str) -> tuple[str, str, str, str]:
    return (str(ws.root), kind, entry_id, entry_checksum(ws.root, kind, entry_id))


def dataset(ws: Workspace, dataset_id: str, holder: Hashable = None):
    """The stored dataset, loaded once per server (``WorkspaceError`` when it is gone).

    ``holder``: the asking session, which then holds it (see the module docstring).
    """
    key = _key(ws, "datasets", dataset_id)
    return DATASETS.get(key, lambda: ws.load_dataset(dataset_id), holder)


def run(ws: Workspace, run_id: str, dataset_id: str, holder: Hashable = None):
    """The stored run on its (shared) dataset, loaded once per server (held by ``holder``)."""
    key = _key(ws, "runs", run_id)
    return RUNS.get(key, lambda: load_run(ws, run_id, dataset=dataset(ws, dataset_id)), holder)


def share_dataset(ws: Workspace, dataset_id: str, value, holder: Hashable = None) -> None:
    """Offer a dataset this session just saved, so nobody loads it again."""
    DATASETS.put(_key(ws, "datasets", dataset_id), value, holder)


def share_run(ws: Workspace, run_id: str, value, holder: Hashable = None) -> None:
    """Offer a run this session just trained and saved."""
    RUNS.put(_key(ws, "runs", run_id), value, holder)


def forget(ws: Workspace, entry_id: str) -> None:
    """Drop a deleted dataset or run from the shared caches."""
    root = str(ws.root)
    for cache in (RUNS, DATASETS):
        cache.discard(lambda k: k[0] == root and k[2] == entry_id)
