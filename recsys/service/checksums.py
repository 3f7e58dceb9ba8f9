"""Checksums of workspace entries: what identifies a stored dataset or run's exact files.

A loaded dataset or run can be shared read-only by everyone who opens the same entry
(the app keeps one copy per server); the key is the entry id plus the checksum of its files, so
an entry whose files change is never served from an old copy. Hashing reads every file once;
the digest is then remembered per (path, size, modification time) of the files, so asking
again costs one ``stat`` per file.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from pathlib import Path

from recsys.errors import WorkspaceError
from recsys.service.entries import entry_path

#: Digests remembered per (folder, file stats); older ones are forgotten first.
MAX_REMEMBERED = 256
_CHUNK = 1 << 20

_remembered: OrderedDict[tuple, str] = OrderedDict()
_lock = threading.Lock()


def folder_checksum(folder: Path) -> str:
    """SHA-256 (16 hex digits) of every file under ``folder``: relative names and contents.

    Raises ``WorkspaceError`` when the folder does not exist (a deleted entry).
    """
    if not folder.is_dir():
        raise WorkspaceError(f"'{folder.name}' is not in the workspace.")
    try:
        files = sorted(p for p in folder.rglob("*") if p.is_file())
        stats = tuple(
            (p.relative_to(folder).as_posix(), s.st_size, s.st_mtime_ns)
            for p, s in ((p, p.stat()) for p in files)
        )
    except OSError as err:
        raise WorkspaceError(f"'{folder.name}' cannot be read: {err}") from err
    key = (str(folder), stats)
    with _lock:
        if key in _remembered:
            _remembered.move_to_end(key)
            return _remembered[key]
    digest = hashlib.sha256()
    try:
        for path, (name, size, _) in zip(files, stats, strict=True):
            digest.update(f"{name}\0{size}\0".encode())
            with path.open("rb") as fh:
                while chunk := fh.read(_CHUNK):
                    digest.update(chunk)
    except OSError as err:
        raise WorkspaceError(f"'{folder.name}' cannot be read: {err}") from err
    value = digest.hexdigest()[:16]
    with _lock:
        _remembered[key] = value
        while len(_remembered) > MAX_REMEMBERED:
            _remembered.popitem(last=False)
    return value


def entry_checksum(root: Path, kind: str, entry_id: str) -> str:
    """Checksum of a workspace entry (``kind`` is ``datasets`` or ``runs``); see the module."""
    return folder_checksum(entry_path(Path(root), kind, entry_id))
