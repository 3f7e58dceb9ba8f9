"""Datasets and trained runs loaded once per server and shared, read-only, by every session.

A refresh, a new tab or the Compare page used to load the active run from disk again (seconds
to tens of seconds) and every session held its own copy in memory. Here each loaded dataset
and run lives once per server process, keyed by the workspace, the entry id and the checksum
of the entry's files (``recsys.service.checksums``): a rewritten entry never comes back from
an old copy, a deleted one is reported as gone.

Shared objects are immutable for the sessions: a session's unsaved work (the lab's settings,
what-if events, tuning results) lives in its ``st.session_state`` and is passed to the run's
methods as arguments; what a run memoises (pools, learned fusers, side information) depends on
the run alone, so every session may share it. Sessions keep ids, never the objects, so an
evicted entry is freed once no script run uses it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

from recsys.service.checksums import entry_checksum
from recsys.service.persistence import load_run
from recsys.service.workspace import Workspace

#: Loaded runs / datasets kept per server (least recently used first out).
MAX_RUNS = 3
MAX_DATASETS = 4


class SharedCache:
    """A small LRU map whose misses are loaded once, however many sessions ask at the same time."""

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._loading: dict[Hashable, threading.Lock] = {}
        self._lock = threading.Lock()
        self.loads = 0  # how many misses were loaded (tests and the soak script read it)

    def get(self, key: Hashable, load: Callable[[], Any]) -> Any:
        """The value of ``key``; ``load()`` runs once for concurrent misses of the same key."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
            key_lock = self._loading.setdefault(key, threading.Lock())
        with key_lock:
            with self._lock:
                if key in self._items:
                    self._items.move_to_end(key)
                    return self._items[key]
            try:
                value = load()
                self.loads += 1
                self.put(key, value)
            finally:
                with self._lock:
                    self._loading.pop(key, None)
        return value

    def put(self, key: Hashable, value: Any) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.max_entries:
                self._items.popitem(last=False)

    def discard(self, match: Callable[[Hashable], bool]) -> None:
        """Forget every entry whose key matches (a deleted dataset or run)."""
        with self._lock:
            for key in [k for k in self._items if match(k)]:
                del self._items[key]

    def clear(self) -> None:
        """Forget everything (as a restarted server would)."""
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


RUNS = SharedCache(MAX_RUNS)
DATASETS = SharedCache(MAX_DATASETS)


def _key(ws: Workspace, kind: str, entry_id: str) -> tuple[str, str, str, str]:
    return (str(ws.root), kind, entry_id, entry_checksum(ws.root, kind, entry_id))


def dataset(ws: Workspace, dataset_id: str):
    """The stored dataset, loaded once per server (``WorkspaceError`` when it is gone)."""
    return DATASETS.get(_key(ws, "datasets", dataset_id), lambda: ws.load_dataset(dataset_id))


def run(ws: Workspace, run_id: str, dataset_id: str):
    """The stored run on its (shared) dataset, loaded once per server."""
    key = _key(ws, "runs", run_id)
    return RUNS.get(key, lambda: load_run(ws, run_id, dataset=dataset(ws, dataset_id)))


def share_dataset(ws: Workspace, dataset_id: str, value) -> None:
    """Offer a dataset this session just saved, so nobody loads it again."""
    DATASETS.put(_key(ws, "datasets", dataset_id), value)


def share_run(ws: Workspace, run_id: str, value) -> None:
    """Offer a run this session just trained and saved."""
    RUNS.put(_key(ws, "runs", run_id), value)


def forget(ws: Workspace, entry_id: str) -> None:
    """Drop a deleted dataset or run from the shared caches."""
    root = str(ws.root)
    for cache in (RUNS, DATASETS):
        cache.discard(lambda k: k[0] == root and k[2] == entry_id)
