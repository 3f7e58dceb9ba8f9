"""What an upload may cost: the limits ingest enforces, in one place.

Numbers outside them are refused with a plain message before they can cost memory or time.
"""

from __future__ import annotations

import os

#: Ratings, quantities and event weights must be finite and within ``±MAX_ABS_VALUE``.
MAX_ABS_VALUE = 1e6
#: Prices above this (or not finite) are read as unknown.
MAX_PRICE = 1e12
#: Most columns an uploaded file may have (the role pickers list them all).
MAX_COLUMNS = 1_000
#: Most data rows an uploaded file may have.
MAX_ROWS = 50_000_000
#: Memory one upload may take while it is read and cleaned (bytes); the estimate must fit
#: within this and within the memory the machine has available. ``$FUSION_STUDIO_INGEST_MB``
#: sets another limit (in MB).
MAX_INGEST_MEMORY = 4 * 2**30
INGEST_MEMORY_ENV = "FUSION_STUDIO_INGEST_MB"
#: Bytes read from the start of a file to estimate its rows, columns and memory.
SAMPLE_BYTES = 1 << 20
#: Reading and cleaning cost: copies of the file's bytes held at once, plus memory per cell
#: once parsed. Measured on a 256 MB, 6.4M-row log of five columns with
#: ``scripts/upload_memory.py``: 3.6-3.9x the file at the peak since 1 December, about 1 GB,
#: the file's bytes included (1.1-1.35 GB before); these give 1.8 GB there, a margin for other
#: shapes.
FILE_COPIES = 3.0
CELL_BYTES = 32


def ingest_memory_need(n_bytes: int, n_rows: int, n_columns: int) -> int:
    """Estimated peak memory (bytes) to read and clean a file of this size and shape."""
    return int(FILE_COPIES * n_bytes + CELL_BYTES * max(n_rows, 0) * max(n_columns, 1))


def available_memory() -> int | None:
    """Memory the machine can still give (``MemAvailable``), or None where unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def ingest_memory_limit() -> int:
    """What one upload may take: ``MAX_INGEST_MEMORY``, at most 80% of what is available now.

    ``$FUSION_STUDIO_INGEST_MB`` replaces ``MAX_INGEST_MEMORY``.
    """
    raw = os.environ.get(INGEST_MEMORY_ENV, "").strip()
    try:
        limit = int(float(raw) * 2**20) if raw else MAX_INGEST_MEMORY
    except ValueError:
        limit = MAX_INGEST_MEMORY
    free = available_memory()
    return min(limit, int(0.8 * free)) if free else limit


def release_memory() -> None:
    """Give memory freed by a finished step back to the system (Arrow's pool, glibc's heap).

    Each allocator keeps freed memory for its own reuse; between ingest's steps (Arrow-heavy
    parsing, numpy-heavy cleaning) that would add up in the process's peak.
    """
    import ctypes

    import pyarrow as pa

    pa.default_memory_pool().release_unused()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass


def size_text(n_bytes: float) -> str:
    """``"2.3 GB"``, ``"640 MB"``: a size for a message."""
    return f"{n_bytes / 2**30:,.1f} GB" if n_bytes >= 2**30 else f"{n_bytes / 2**20:,.0f} MB"


__all__ = [
    "CELL_BYTES",
    "FILE_COPIES",
    "INGEST_MEMORY_ENV",
    "MAX_ABS_VALUE",
    "MAX_COLUMNS",
    "MAX_INGEST_MEMORY",
    "MAX_PRICE",
    "MAX_ROWS",
    "SAMPLE_BYTES",
    "available_memory",
    "ingest_memory_limit",
    "ingest_memory_need",
    "release_memory",
    "size_text",
]
