"""Tables out: recommendation and audience lists as safe CSV or Parquet.

IDs leave exactly as they came in (strings). Text cells a spreadsheet would run as a formula
(starting with ``= + - @``, tab or carriage return) get a leading apostrophe, the OWASP
"CSV injection" defence; plain numbers such as ``-5`` are left alone.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pandas as pd

from recsys.errors import ConfigError
from recsys.service.atomic import atomic_write_bytes

FORMATS = ("csv", "parquet")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def neutralize_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Copy of ``frame`` whose text cells cannot run as spreadsheet formulas."""
    out = frame.copy()
    for column in out.columns:
        series = out[column]
        if not (pd.api.types.is_object_dtype(series) or pd.api.types.is_string_dtype(series)):
            continue
        text = series.astype("string")
        risky = text.str.startswith(_FORMULA_START).fillna(False) & ~text.str.match(_NUMBER).fillna(
            False
        )
        if risky.any():
            out[column] = series.where(~risky.to_numpy(), "'" + text)
    return out


def to_csv_bytes(frame: pd.DataFrame, *, excel_bom: bool = False) -> bytes:
    """CSV bytes (UTF-8; with a BOM when ``excel_bom`` so Excel shows Chinese correctly)."""
    buffer = io.StringIO()
    neutralize_formulas(frame).to_csv(buffer, index=False)
    return buffer.getvalue().encode("utf-8-sig" if excel_bom else "utf-8")


def to_parquet_bytes(frame: pd.DataFrame) -> bytes:
    """Parquet bytes of ``frame`` (no index)."""
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


def table_bytes(frame: pd.DataFrame, fmt: str = "csv", *, excel_bom: bool = False) -> bytes:
    """``frame`` as ``csv`` (formula-safe) or ``parquet`` bytes; other formats: ``ConfigError``."""
    if fmt == "csv":
        return to_csv_bytes(frame, excel_bom=excel_bom)
    if fmt == "parquet":
        return to_parquet_bytes(frame)
    raise ConfigError(f"unknown format '{fmt}'; use one of {', '.join(FORMATS)}.")


def write_table(
    frame: pd.DataFrame, path: str | Path, fmt: str | None = None, *, excel_bom: bool = False
) -> Path:
    """Write ``frame`` atomically (temp file + rename); format from ``fmt`` or the suffix."""
    path = Path(path)
    fmt = fmt or ("parquet" if path.suffix.lower() == ".parquet" else "csv")
    path.parent.mkdir(parents=True, exist_ok=True)
    return atomic_write_bytes(path, table_bytes(frame, fmt, excel_bom=excel_bom))
