"""Workspace entries on disk: ids, entry paths, complete vs half-written entries, JSON reads.

The rules every kind of entry (dataset, run, preset, export) shares; :mod:`recsys.service.workspace`
applies them. An entry id is an ASCII slug plus a random suffix and is validated before it
becomes a path, so ``../../etc`` cannot escape the workspace. A multi-file entry is complete
when its marker file exists (written last, see :mod:`recsys.service.atomic`).
"""

from __future__ import annotations

import errno
import json
import logging
import re
import shutil
import time
import unicodedata
import uuid
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from recsys.errors import WorkspaceError
from recsys.service.atomic import TMP_PREFIX, TRASH_PREFIX

log = logging.getLogger(__name__)

_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,95}$")


def slugify(name: str, max_len: int = 40, default: str = "item") -> str:
    """ASCII slug of a display name: ``"Shop 商店 v2!"`` -> ``"shop-v2"``; never empty or dotted."""
    text = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return text[:max_len].strip("-") or default


def new_id(name: str, default: str = "item") -> str:
    """``<slug>-<8 hex>``: unique across sessions and processes (random suffix)."""
    return f"{slugify(name, default=default)}-{uuid.uuid4().hex[:8]}"


def short_id(entry_id: str) -> str:
    """The part of an id people can tell apart: its random suffix cut to 6 characters.

    Shown beside every name, so two entries with one name never look alike.

    >>> short_id("demo-store-6c4cf02d"), short_id("run-20261201-010203-9f8e7d6c"), short_id("default")
    ('6c4cf0', '9f8e7d', 'default')
    """
    tail = str(entry_id).rsplit("-", 1)[-1]
    return tail[:6] if re.fullmatch(r"[0-9a-f]{8}", tail) else str(entry_id)


def unique_name(name: str, taken: Iterable[str]) -> str:
    """``name``, or ``name (2)``, ``name (3)`` ... : the first one not in ``taken``.

    >>> unique_name("Demo store", ["Demo store", "Demo store (2)"])
    'Demo store (3)'
    """
    used = {str(n).strip().casefold() for n in taken}
    base = str(name).strip()
    if base.casefold() not in used:
        return base
    n = 2
    while f"{base} ({n})".casefold() in used:
        n += 1
    return f"{base} ({n})"


def same_name(entries: Iterable[Mapping], name: str) -> list[Mapping]:
    """The entries (dicts with ``name``) whose name equals ``name`` ignoring case and spaces."""
    key = str(name).strip().casefold()
    return [e for e in entries if str(e.get("name", "")).strip().casefold() == key]


def utc_now() -> str:
    """The current UTC time, ISO 8601 to the microsecond (``created_at`` fields).

    Sub-second, so entries saved within one second are still ordered by creation
    (``created_order``); entries of older versions are dated to the second.
    """
    return datetime.now(UTC).isoformat(timespec="microseconds")


def created_order(value: object) -> float:
    """A ``created_at`` value as seconds since the epoch, for sorting (``-inf`` if unreadable).

    Compares second- and sub-second-dated entries by time (their strings do not sort so:
    ``"...:50+00:00" < "...:50.2+00:00"`` holds, but only by accident of the characters).

    >>> created_order("2026-12-01T07:31:50+00:00") < created_order("2026-12-01T07:31:50.000001+00:00")
    True
    """
    try:
        when = datetime.fromisoformat(str(value))
    except ValueError:
        return float("-inf")
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()


def entry_path(root: Path, kind: str, entry_id: str, suffix: str = "") -> Path:
    """``root/kind/<entry_id><suffix>``, after checking the id cannot point outside ``kind/``."""
    if not isinstance(entry_id, str) or not _ID_RE.match(entry_id):
        raise WorkspaceError(f"'{entry_id}' is not a valid {kind[:-1]} id.")
    path = root / kind / f"{entry_id}{suffix}"
    if path.resolve().parent != (root / kind).resolve():
        raise WorkspaceError(f"'{entry_id}' is not a valid {kind[:-1]} id.")
    return path


def complete_dirs(base: Path, marker: str, stale_after: float) -> Iterator[Path]:
    """Entry directories under ``base`` that hold ``marker``, sorted by name.

    Incomplete entries (no marker, or a temporary name) older than ``stale_after`` seconds
    are removed on the way, and so are leftovers of deletions; younger ones may belong to a
    save still running in another session and are left alone.
    """
    now = time.time()
    for path in sorted(base.iterdir()):
        name = path.name
        if name.startswith(TRASH_PREFIX):
            shutil.rmtree(path, ignore_errors=True)
            continue
        complete = path.is_dir() and not name.startswith(".") and (path / marker).is_file()
        if complete:
            yield path
            continue
        try:
            age = now - path.stat().st_mtime
        except OSError:
            continue
        if age >= stale_after and (name.startswith(TMP_PREFIX) or path.is_dir()):
            log.warning(
                "removing %s/%s: left incomplete by a save that did not finish", base.name, name
            )
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)


def read_json(path: Path) -> dict:
    """The JSON object in ``path``; a missing or unreadable file raises ``WorkspaceError``."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        raise WorkspaceError(f"{path.name} is missing from the workspace.") from err
    except (OSError, ValueError) as err:
        raise WorkspaceError(f"{path.name} in the workspace cannot be read: {err}") from err


def disk_full(err: BaseException) -> bool:
    """Whether ``err`` says the disk (or the user's quota) is full; pyarrow only says it in words."""
    if isinstance(err, OSError) and err.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    text = str(err).lower()
    return "no space left on device" in text or "disk quota exceeded" in text


def disk_full_error(root: Path) -> WorkspaceError:
    """The plain message for a full disk, with the space left under ``root``."""
    try:
        free_mb = shutil.disk_usage(root if root.exists() else root.parent).free // 2**20
    except OSError:
        free_mb = 0
    return WorkspaceError(
        f"the workspace's disk is full ({free_mb:,} MB free); nothing was changed.",
        code="workspace.disk_full",
        params={"free_mb": free_mb, "root": str(root)},
    )


@contextmanager
def writing(what: str, root: Path | None = None) -> Iterator[None]:
    """Turn OS errors (disk full, permissions) into a ``WorkspaceError`` for the user.

    A full disk says so, with the space left under ``root`` (the writes are atomic: the
    previous version of what was being saved is intact).
    """
    try:
        yield
    except WorkspaceError:
        raise  # already a plain message (it is an OSError too)
    except OSError as err:
        if disk_full(err) and root is not None:
            raise disk_full_error(root) from err
        raise WorkspaceError(f"could not save {what} in the workspace ({err}).") from err


def parquet_ready(frame: pd.DataFrame) -> pd.DataFrame:
    """A frame as Parquet stores it.

    Object columns holding mixed values become strings (missing values stay missing);
    categorical columns (ingest's ids) are kept: Parquet stores each distinct value once and
    ``Workspace.load_frames`` gives them back as strings.
    """
    out = frame
    for column in frame.columns:
        s = frame[column]
        if s.dtype == object:
            values = s.dropna()
            kinds = {type(v) for v in values}
            if kinds and not kinds <= {str} and not kinds <= {bool} and not kinds <= {int, float}:
                if out is frame:
                    out = frame.copy(deep=False)
                out[column] = s.map(lambda v: v if pd.isna(v) else str(v)).astype(object)
    if not all(isinstance(c, str) for c in out.columns):
        out = out.rename(columns=str)
    return out


__all__ = [
    "complete_dirs",
    "disk_full",
    "disk_full_error",
    "entry_path",
    "new_id",
    "parquet_ready",
    "read_json",
    "same_name",
    "short_id",
    "slugify",
    "unique_name",
    "utc_now",
    "writing",
]
