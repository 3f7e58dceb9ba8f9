"""Arrow-backed string columns for the generated frames (no per-row Python objects)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa


def as_str_series(values: pa.Array) -> pd.Series:
    """An Arrow string array as a pandas string column (NaN for nulls)."""
    return pd.Series(pd.array(values, dtype=pd.StringDtype("pyarrow", na_value=np.nan)))


def str_take(labels: list[str], codes: np.ndarray) -> pd.Series:
    """``labels[codes]`` as a pandas string column, built in Arrow (no per-row Python objects)."""
    return as_str_series(pa.array(labels, pa.string()).take(pa.array(codes)))
