"""Crash-safe file writes: a reader sees the old version or the new one, never half of one.

Files are written to a temporary sibling, flushed and fsynced, then moved into place with
``os.replace`` (atomic on POSIX and Windows when source and target share a directory).
Directories are built under a temporary name and renamed into place in one step.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

#: Prefix of temporary files and directories; listings skip these names.
TMP_PREFIX = ".tmp-"
#: Prefix of directories being deleted (renamed first, so a deletion is atomic too).
TRASH_PREFIX = ".trash-"


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


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (temp file in the same directory + ``os.replace``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=TMP_PREFIX + path.name + ".")
    try:
        with os.fdopen(fd, "wb") as f:
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
def atomic_stream(path: str | Path, *, make_parent: bool = True) -> Iterator[BinaryIO]:
    """Open a temporary sibling of ``path`` to write in pieces; it becomes ``path`` on success.

    The file is named ``.tmp-<name>.<random>`` until the ``with`` block ends without an
    exception; it is then flushed, fsynced and renamed onto ``path`` (``os.replace``). On an
    exception it is removed; a killed process leaves only the ``.tmp-`` file, which never looks
    like the output and which :func:`remove_leftovers` clears before the next write.
    Without ``make_parent`` a missing folder is an error (``FileNotFoundError``).
    """
    path = Path(path)
    if make_parent:
        path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f"{TMP_PREFIX}{path.name}.")
    try:
        with os.fdopen(fd, "wb") as f:
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


@contextmanager
def atomic_replace_directory(target: str | Path) -> Iterator[Path]:
    """Build a directory under a temporary name; it replaces ``target`` (file or folder) at the end.

    Like :func:`atomic_directory`, but ``target`` may already exist: the old one is renamed away
    only once the new one is complete, then the new one is renamed into place. A reader sees the
    old output, briefly none, or the new one; never a partial one.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f"{TMP_PREFIX}{target.name}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        yield tmp
        for child in tmp.rglob("*"):
            if child.is_file():
                with open(child, "rb+") as f:
                    os.fsync(f.fileno())
        fsync_dir(tmp)
        if target.is_dir() and not target.is_symlink():
            remove_tree(target)
        elif target.exists() or target.is_symlink():
            target.unlink()
        os.rename(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    fsync_dir(target.parent)


def atomic_write_text(path: str | Path, text: str) -> Path:
    """UTF-8 text, written atomically."""
    return atomic_write_bytes(path, text.encode("utf-8"))


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


def atomic_write_json(path: str | Path, obj) -> Path:
    """``obj`` as pretty UTF-8 JSON (Chinese kept readable), written atomically."""
    text = json.dumps(obj, ensure_ascii=False, indent=2, default=json_default)
    return atomic_write_text(path, text + "\n")


@contextmanager
def atomic_directory(target: str | Path) -> Iterator[Path]:
    """Build a directory under a temporary name, then rename it to ``target`` in one step.

    Yields the temporary directory to fill. On an exception the temporary directory is
    removed and ``target`` is untouched. ``target`` must not exist yet (ids are unique).
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f"{TMP_PREFIX}{target.name}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        yield tmp
        for child in tmp.rglob("*"):
            if child.is_file():
                with open(child, "rb+") as f:
                    os.fsync(f.fileno())
        fsync_dir(tmp)
        os.rename(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    fsync_dir(target.parent)


def remove_tree(path: str | Path) -> None:
    """Delete a directory atomically from a reader's view: rename it away, then remove it."""
    path = Path(path)
    if not path.exists():
        return
    trash = path.parent / f"{TRASH_PREFIX}{path.name}-{uuid.uuid4().hex[:8]}"
    os.rename(path, trash)
    shutil.rmtree(trash, ignore_errors=True)


__all__ = [
    "TMP_PREFIX",
    "TRASH_PREFIX",
    "atomic_directory",
    "atomic_replace_directory",
    "atomic_stream",
    "atomic_write_bytes",
    "atomic_write_json",
    "atomic_write_text",
    "fsync_dir",
    "json_default",
    "remove_leftovers",
    "remove_tree",
]
