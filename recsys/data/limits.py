"""What an upload may cost: the limits ingest enforces, in one place.

Numbers outside them are refused with a plain message before they can cost memory or time.
"""

from __future__ import annotations

#: Ratings, quantities and event weights must be finite and within ``±MAX_ABS_VALUE``.
MAX_ABS_VALUE = 1e6
#: Prices above this (or not finite) are read as unknown.
MAX_PRICE = 1e12
#: Most columns an uploaded file may have (the role pickers list them all).
MAX_COLUMNS = 1_000
#: Most data rows an uploaded file may have.
MAX_ROWS = 50_000_000
#: Memory one upload may take while it is read and cleaned (bytes); the estimate must fit
#: within this and within the memory the machine has available.
MAX_INGEST_MEMORY = 2 * 2**30
#: Bytes read from the start of a file to estimate its rows, columns and memory.
SAMPLE_BYTES = 1 << 20

__all__ = [
    "MAX_ABS_VALUE",
    "MAX_COLUMNS",
    "MAX_INGEST_MEMORY",
    "MAX_PRICE",
    "MAX_ROWS",
    "SAMPLE_BYTES",
]
