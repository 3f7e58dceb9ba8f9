"""The workspace's small app state: one ``state.json`` (language ...) under a file lock."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from recsys.errors import WorkspaceError
from recsys.service.atomic import atomic_write_json
from recsys.service.entries import read_json, writing


class AppState:
    """``get_state`` / ``set_state`` of a workspace (a mixin: needs ``root`` and ``file_mode``).

    Per-person choices (the active dataset, the lab's settings) live in each tab's URL, not here.
    """

    root: Path
    file_mode: int

    @contextmanager
    def _state_lock(self) -> Iterator[None]:
        lock_path = self.root / ".state.lock"
        with open(lock_path, "a+") as handle:
            try:
                import fcntl

                fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            except (ImportError, OSError):  # not POSIX: atomic replace still protects the file
                pass
            yield

    def get_state(self) -> dict:
        """Small app state (active dataset id, last run id ...); ``{}`` when none."""
        path = self.root / "state.json"
        if not path.is_file():
            return {}
        try:
            return read_json(path)
        except WorkspaceError:
            return {}

    def set_state(self, **values) -> None:
        """Update keys of the state (read-modify-write under a file lock, atomic write)."""
        with writing("the app state", self.root), self._state_lock():
            state = self.get_state()
            state.update(values)
            atomic_write_json(self.root / "state.json", state, mode=self.file_mode)
