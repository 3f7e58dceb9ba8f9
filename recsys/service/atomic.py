"""Crash-safe file writes: a reader sees the old version or the new one, never half of one.

Files are written to a temporary sibling, flushed and fsynced, then moved into place with
``os.replace`` (atomic on POSIX and Windows when source and target share a directory).
Directories are built under a temporary name and renamed into place in one step. Every file
gets the same permissions (:func:`file_mode`: 0644 unless configured), so colleagues on a
shared server can read exports, reports and the workspace alike. What a killed write leaves
(``.tmp-`` names) is removed by :func:`remove_leftovers` (one target, before it is written
again) and :func:`remove_abandoned` (a whole folder, once old enough).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

#: Prefix of temporary files and directories; listings skip these names.
TMP_PREFIX = ".tmp-"
#: Prefix of directories being deleted (renamed first, so a deletion is atomic too).
TRASH_PREFIX = ".trash-"
#: Permissions of every file written here: readable by all, writable by the owner.
DEFAULT_FILE_MODE = 0o644
#: Environment variable that sets another mode, in octal (``0640``: the group only).
FILE_MODE_ENV = "FUSION_STUDIO_FILE_MODE"
#: A temporary name this old (seconds since its last write) belongs to no running write.
ABANDONED_AFTER = 60.0

log = logging.getLogger(__name__)


def file_mode(value: int | str | None = None) -> int:
    """The permission bits for written files: ``value``, else ``$FUSION_STUDIO_FILE_MODE``, else 0644.

    A string is read as octal (``"640"``, ``"0o640"``). Only read/write bits are accepted, and
    the owner must be able to read and write (else the app could not replace its own files).
    """
    raw = value if value is not None else os.environ.get(FILE_MODE_ENV) or DEFAULT_FILE_MODE
    try:
        mode = int(raw, 8) if isinstance(raw, str) else int(raw)
    except ValueError:
        mode = -1
    if mode < 0 or mode & ~0o666 or mode & 0o600 != 0o600:
        raise ValueError(
            f"file mode {raw!r} is not valid: give read/write bits in octal with the owner "
            "reading and writing, such as 644 or 640."
        )
    return mode


def fsync_dir(path: str | Path) -> None:
    """Flush a directory entry to disk (best effort; a no-op where unsupported)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def dir_mode(mode: int) -> int:
    """Folder permissions that go with file ``mode``: whoever may read may also enter (0644 -> 0755)."""
    return mode | ((mode & 0o444) >> 2)


def atomic_write_bytes(path: str | Path, data: bytes, *, mode: int | None = None) -> Path:
    """Write ``data`` to ``path`` atomically (temp file in the same directory + ``os.replace``).

    The file gets ``mode`` (default :func:`file_mode`), whatever the umask.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = file_mode(mode)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=TMP_PREFIX + path.name + ".")
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), mode)
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)
    return path


@contextmanager
def atomic_stream(
    path: str | Path, *, make_parent: bool = True, mode: int | None = None
) -> Iterator[BinaryIO]:
    """Open a temporary sibling of ``path`` to write in pieces; it becomes ``path`` on success.

    The file is named ``.tmp-<name>.<random>`` until the ``with`` block ends without an
    exception; it is then flushed, fsynced and renamed onto ``path`` (``os.replace``). On an
    exception it is removed; a killed process leaves only the ``.tmp-`` file, which never looks
    like the output and which :func:`remove_leftovers` clears before the next write.
    Without ``make_parent`` a missing folder is an error (``FileNotFoundError``). The file gets
    ``mode`` (default :func:`file_mode`).
    """
    path = Path(path)
    if make_parent:
        path.parent.mkdir(parents=True, exist_ok=True)
    mode = file_mode(mode)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f"{TMP_PREFIX}{path.name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), mode)
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def remove_leftovers(path: str | Path) -> int:
    """Remove what killed writes of ``path`` left beside it; return how many.

    Leftovers are ``.tmp-<name>.*`` and ``.tmp-<name>-*`` files or folders. Run it only when no
    other process writes ``path``.
    """
    path = Path(path)
    if not path.parent.is_dir():
        return 0
    found = [
        p
        for p in path.parent.iterdir()
        if p.name.startswith((f"{TMP_PREFIX}{path.name}.", f"{TMP_PREFIX}{path.name}-"))
    ]
    for p in found:
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p, ignore_errors=True)
        else:
            p.unlink(missing_ok=True)
    return len(found)


def remove_abandoned(directory: str | Path, *, older_than: float = ABANDONED_AFTER) -> int:
    """Remove the ``.tmp-`` files and folders in ``directory`` untouched for ``older_than`` s.

    A folder counts as touched when anything inside it was written.

    For a folder several processes write (the workspace's presets and exports): a younger
    temporary name may be another session's write in progress and stays. Returns how many went.
    """
    now = time.time()
    removed = 0
    try:
        entries = [p for p in Path(directory).iterdir() if p.name.startswith(TMP_PREFIX)]
    except OSError:
        return 0
    for p in entries:
        try:
            if now - _last_write(p) < older_than:
                continue
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p)
            else:
                p.unlink()
            removed += 1
        except OSError:  # gone already, or not ours to remove: leave it
            continue
    if removed:
        log.info("removed %d temporary file(s) left by interrupted writes", removed)
    return removed


def _last_write(path: Path) -> float:
    """When ``path`` was last written: a folder's newest entry anywhere inside counts."""
    latest = path.lstat().st_mtime
    if path.is_dir() and not path.is_symlink():
        for child in path.rglob("*"):
            try:
                latest = max(latest, child.lstat().st_mtime)
            except OSError:
                continue
    return latest


@contextmanager
def atomic_replace_directory(target: str | Path, *, mode: int | None = None) -> Iterator[Path]:
    """Build a directory under a temporary name; it replaces ``target`` (file or folder) at the end.

    Like :func:`atomic_directory`, but ``target`` may already exist: the old one is renamed away
    only once the new one is complete, then the new one is renamed into place. A reader sees the
    old output, briefly none, or the new one; never a partial one. Files get ``mode`` (default
    :func:`file_mode`), folders :func:`dir_mode`.
    """
    with _built_directory(target, mode, replace=True) as tmp:
        yield tmp


def atomic_write_text(path: str | Path, text: str, *, mode: int | None = None) -> Path:
    """UTF-8 text, written atomically (``mode`` as in :func:`atomic_write_bytes`)."""
    return atomic_write_bytes(path, text.encode("utf-8"), mode=mode)


def json_default(value):
    """JSON encoder fallback for numpy scalars/arrays, paths, datetimes and sets."""
    if hasattr(value, "tolist"):  # numpy scalars and arrays
        return value.tolist()
    if hasattr(value, "isoformat"):  # datetime, date, pd.Timestamp
        return value.isoformat()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot store a {type(value).__name__} in JSON")


def atomic_write_json(path: str | Path, obj, *, mode: int | None = None) -> Path:
    """``obj`` as pretty UTF-8 JSON (Chinese kept readable), written atomically."""
    text = json.dumps(obj, ensure_ascii=False, indent=2, default=json_default)
    return atomic_write_text(path, text + "\n", mode=mode)


@contextmanager
def atomic_directory(target: str | Path, *, mode: int | None = None) -> Iterator[Path]:
    """Build a directory under a temporary name, then rename it to ``target`` in one step.

    Yields the temporary directory to fill. On an exception the temporary directory is
    removed and ``target`` is untouched. ``target`` must not exist yet (ids are unique).
    Every file in it gets ``mode`` (default :func:`file_mode`).
    """
    with _built_directory(target, mode, replace=False) as tmp:
        yield tmp


@contextmanager
def _built_directory(target: str | Path, mode: int | None, *, replace: bool) -> Iterator[Path]:
    """Yield a temporary folder beside ``target``; settle it and rename it to ``target``.

    With ``replace`` an existing ``target`` (file or folder) is removed just before the rename.
    On an exception the temporary folder is removed and ``target`` is untouched.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    mode = file_mode(mode)
    tmp = target.parent / f"{TMP_PREFIX}{target.name}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        yield tmp
        _settle(tmp, mode)
        if replace and target.is_dir() and not target.is_symlink():
            remove_tree(target)
        elif replace and (target.exists() or target.is_symlink()):
            target.unlink()
        os.rename(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    fsync_dir(target.parent)


def _settle(tmp: Path, mode: int) -> None:
    """Give a built folder's files ``mode`` (folders :func:`dir_mode`) and flush them to disk."""
    os.chmod(tmp, dir_mode(mode))
    for child in tmp.rglob("*"):
        if child.is_symlink():
            continue
        if child.is_dir():
            os.chmod(child, dir_mode(mode))
        elif child.is_file():
            with open(child, "rb+") as f:
                os.fchmod(f.fileno(), mode)
                os.fsync(f.fileno())
    fsync_dir(tmp)


def remove_tree(path: str | Path) -> None:
    """Delete a directory atomically from a reader's view: rename it away, then remove it."""
    path = Path(path)
    if not path.exists():
        return
    trash = path.parent / f"{TRASH_PREFIX}{path.name}-{uuid.uuid4().hex[:8]}"
    os.rename(path, trash)
    shutil.rmtree(trash, ignore_errors=True)


__all__ = [
    "ABANDONED_AFTER",
    "DEFAULT_FILE_MODE",
    "FILE_MODE_ENV",
    "TMP_PREFIX",
    "TRASH_PREFIX",
    "atomic_directory",
    "atomic_replace_directory",
    "atomic_stream",
    "atomic_write_bytes",
    "atomic_write_json",
    "atomic_write_text",
    "dir_mode",
    "file_mode",
    "fsync_dir",
    "json_default",
    "remove_abandoned",
    "remove_leftovers",
    "remove_tree",
]
