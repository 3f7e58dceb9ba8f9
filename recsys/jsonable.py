"""``jsonable``: turn report values (numpy scalars and arrays, NaN, tuples) into plain JSON."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

#: Arrays longer than this are summarised as ``array(shape)`` instead of listed.
MAX_ARRAY = 1000


def jsonable(value: Any) -> Any:
    """A JSON-ready copy of ``value``.

    Dict keys become strings; tuples, lists and sets become lists; numpy scalars become Python
    numbers; small arrays become lists (large ones ``"array(shape)"``); NaN and infinities become
    ``None``; dates become ISO strings; anything else not JSON-native becomes its ``str``.
    """
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist()) if value.size <= MAX_ARRAY else f"array{value.shape}"
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    return str(value)
