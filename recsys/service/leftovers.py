"""Temporary files an interrupted write left behind, and only those.

``recsys.service.atomic.atomic_write_bytes`` writes ``<dir>/.tmp-<name>.<8 random>`` and renames
it onto ``<dir>/<name>``; a process killed in between leaves the temporary file. These helpers
find exactly that pattern (``tempfile``'s eight characters ``[a-z0-9_]``), so a file the project
did not create is never touched, and remove it once it is old enough not to be another
process's write in progress.
"""

from __future__ import annotations

import logging
import re
import time
from pathlib import Path

from recsys.service.atomic import TMP_PREFIX

log = logging.getLogger(__name__)

#: A temporary file this old (seconds since its last write) belongs to no running write.
ABANDONED_AFTER = 60.0
_SUFFIX = r"\.[a-z0-9_]{8}"


def leftovers(directory: str | Path, target: str | None = None) -> list[Path]:
    """Temporary files of our atomic writes in ``directory`` (of file ``target`` only, if given)."""
    name = re.escape(target) if target is not None else r".+"
    pattern = re.compile(f"{re.escape(TMP_PREFIX)}{name}{_SUFFIX}")
    try:
        entries = list(Path(directory).iterdir())
    except OSError:
        return []
    return sorted(p for p in entries if pattern.fullmatch(p.name) and p.is_file())


def remove_leftovers(
    directory: str | Path, target: str | None = None, *, older_than: float = ABANDONED_AFTER
) -> int:
    """Remove :func:`leftovers` not written for ``older_than`` seconds; how many were removed.

    ``older_than=0`` removes them all: only safe when no other process can be writing (the
    caller holds the lock every such write takes).
    """
    now = time.time()
    removed = 0
    for path in leftovers(directory, target):
        try:
            if now - path.stat().st_mtime >= older_than:
                path.unlink()
                removed += 1
        except OSError:  # gone already, or not ours to remove: leave it
            continue
    if removed:
        log.info("removed %d temporary file(s) left by interrupted writes", removed)
    return removed


__all__ = ["ABANDONED_AFTER", "leftovers", "remove_leftovers"]
