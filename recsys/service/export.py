"""Tables out: every download and export file goes through here (CSV or Parquet).

Spreadsheets run a cell as a formula when it starts with ``= + - @`` (also after leading
blanks, and the full-width ``＝ ＋ － ＠`` in some locales), or with a tab or line break.
:func:`table_bytes` is the one way out; its CSV is safe to open and keeps ids exact:

* **Text cells** that would run get a leading apostrophe (OWASP's "CSV injection" defence);
  plain numbers such as ``-5`` are left alone. Column names are treated the same way.
* **Id columns** (``user_id``, ``item_id`` and every column whose name ends in ``_id``) are
  written unchanged, except in the rare case that one of their ids would run: then that column
  is written percent-encoded (RFC 3986: the leading characters that would run and every ``%``
  become ``%XX``) under the name ``<column>_urlencoded``, and
  ``urllib.parse.unquote`` gives back every id exactly (see :func:`decode_ids`). The new name
  makes a reader that expects raw ids fail loudly instead of reading altered ones.
* **Parquet** keeps every value exactly (no spreadsheet runs a Parquet cell).
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import unquote

import numpy as np
import pandas as pd

from recsys.errors import ConfigError
from recsys.service.atomic import atomic_write_bytes, remove_leftovers

FORMATS = ("csv", "parquet")
#: Characters that start a formula: ASCII, full-width and small forms.
FORMULA_CHARS = "=+-@\uff1d\uff0b\uff0d\uff20\ufe66\ufe62\ufe63\ufe6b"
#: Blanks a spreadsheet may skip before a formula (incl. no-break, ideographic, zero-width).
BLANKS = (
    " \t\r\n\f\v\u00a0\u1680"
    + "".join(chr(c) for c in range(0x2000, 0x200E))  # en quad ... zero-width joiner
    + "\u2028\u2029\u202f\u205f\u2060\u3000\ufeff"
)
#: Suffix of an id column written percent-encoded.
ENCODED_SUFFIX = "_urlencoded"
_CONTROL_STARTS = ("\t", "\r", "\n")
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def is_id_column(name: object) -> bool:
    """``user_id``, ``item_id`` or any ``*_id`` column: written exactly, never apostrophed."""
    return isinstance(name, str) and (name in ("user_id", "item_id") or name.endswith("_id"))


def needs_protection(text: pd.Series) -> np.ndarray:
    """(n,) bool: cells a spreadsheet would run as a formula (missing cells: False)."""
    text = text.astype("string")
    first = text.str.lstrip(BLANKS).str.slice(0, 1)
    risky = first.isin(list(FORMULA_CHARS)).fillna(False) | text.str.startswith(
        _CONTROL_STARTS
    ).fillna(False)
    if not risky.any():
        return np.zeros(len(text), dtype=bool)
    number = text.str.strip(BLANKS).str.fullmatch(_NUMBER.pattern).fillna(False)
    return (risky & ~number).to_numpy(dtype=bool)


def neutralize_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Copy of ``frame`` whose text cells and column names cannot run as formulas."""
    parts = [_neutral_cells(frame.iloc[:, j]) for j in range(frame.shape[1])]
    return _assemble(frame, parts, list(frame.columns))


def _assemble(frame: pd.DataFrame, parts: list[pd.Series], names: list) -> pd.DataFrame:
    """A frame of ``parts`` (in order) under ``names``, with safe column names."""
    out = pd.concat(parts, axis=1) if parts else pd.DataFrame(index=frame.index)
    out.columns = names
    return _safe_names(out)


def _neutral_cells(series: pd.Series) -> pd.Series:
    """``series`` with an apostrophe before each cell that would run (text columns only)."""
    dtype = series.dtype
    if not (
        pd.api.types.is_object_dtype(dtype)
        or pd.api.types.is_string_dtype(dtype)
        or isinstance(dtype, pd.CategoricalDtype)
    ):
        return series
    risky = needs_protection(series)
    if not risky.any():
        return series
    return series.astype(object).where(~risky, "'" + series.astype("string"))


def _safe_names(frame: pd.DataFrame) -> pd.DataFrame:
    names = pd.Series([str(c) for c in frame.columns], dtype=object)
    risky = needs_protection(names)
    if risky.any():
        frame.columns = ["'" + n if r else n for n, r in zip(names, risky, strict=True)]
    return frame


def _percent(chars: str) -> str:
    return "".join(f"%{b:02X}" for b in chars.encode("utf-8"))


def encode_ids(ids: pd.Series) -> pd.Series:
    """Percent-encode an id column: every ``%`` and the leading characters that would run.

    ``urllib.parse.unquote`` inverts it exactly; ids without ``%`` or a risky start are
    unchanged.
    """
    text = ids.astype("string")
    out = text.str.replace("%", "%25", regex=False)
    risky = needs_protection(text)
    if risky.any():
        lead_chars = BLANKS + FORMULA_CHARS
        fixed = [
            _percent(s[: len(s) - len(s.lstrip(lead_chars))]) + s.lstrip(lead_chars)
            for s in out[risky].tolist()  # the few risky ids only
        ]
        out = out.astype(object)
        out[risky] = fixed
    return out.astype(object).where(text.notna().to_numpy(), None)


def decode_ids(encoded: pd.Series) -> pd.Series:
    """The exact ids of a ``<column>_urlencoded`` column (``urllib.parse.unquote`` per id)."""
    return encoded.map(lambda v: v if pd.isna(v) else unquote(str(v)))


#: Line end of every CSV the app writes (RFC 4180; see :func:`to_csv_bytes`).
CSV_LINE_END = "\r\n"


def safe_frame(
    frame: pd.DataFrame, id_columns: Iterable[str] = (), *, encode: Iterable[str] = ()
) -> pd.DataFrame:
    """What a CSV of ``frame`` holds: formulas neutralised, ids exact (see the module doc).

    ``id_columns`` adds columns to those :func:`is_id_column` recognises; id columns in
    ``encode`` are percent-encoded even when this frame's ids need no protection (a file
    written in blocks keeps one header).
    """
    extra, forced = set(id_columns), set(encode)
    parts, names = [], []
    for j, column in enumerate(frame.columns):
        values = frame.iloc[:, j]
        if not (is_id_column(column) or column in extra or column in forced):
            parts.append(_neutral_cells(values))
            names.append(column)
        elif column in forced or needs_protection(values).any():
            parts.append(encode_ids(values))
            names.append(f"{column}{ENCODED_SUFFIX}")
        else:
            parts.append(values)  # exactly as they came in
            names.append(column)
    return _assemble(frame, parts, names)


def to_csv_bytes(
    frame: pd.DataFrame, *, excel_bom: bool = False, id_columns: Iterable[str] = ()
) -> bytes:
    """Safe CSV bytes (UTF-8; with a BOM when ``excel_bom`` so Excel shows Chinese correctly).

    Lines end with CRLF (RFC 4180), so a cell holding a lone carriage return is quoted: unquoted,
    a reader would start a new row there, and the rest of the cell could run as a formula.
    """
    buffer = io.StringIO()
    safe_frame(frame, id_columns).to_csv(buffer, index=False, lineterminator=CSV_LINE_END)
    return buffer.getvalue().encode("utf-8-sig" if excel_bom else "utf-8")


def to_parquet_bytes(frame: pd.DataFrame) -> bytes:
    """Parquet bytes of ``frame`` (no index; every value exact)."""
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


def table_bytes(
    frame: pd.DataFrame,
    fmt: str = "csv",
    *,
    excel_bom: bool = False,
    id_columns: Iterable[str] = (),
) -> bytes:
    """The one way a table leaves the app: safe ``csv`` or exact ``parquet`` bytes.

    Pages route every download (export, audiences, data-table previews) through this.
    Other formats raise ``ConfigError``.
    """
    if fmt == "csv":
        return to_csv_bytes(frame, excel_bom=excel_bom, id_columns=id_columns)
    if fmt == "parquet":
        return to_parquet_bytes(frame)
    raise ConfigError(f"unknown format '{fmt}'; use one of {', '.join(FORMATS)}.")


def write_table(
    frame: pd.DataFrame,
    path: str | Path,
    fmt: str | None = None,
    *,
    excel_bom: bool = False,
    mode: int | None = None,
) -> Path:
    """Write ``frame`` atomically (temp file + rename); format from ``fmt`` or the suffix.

    Temporary files an interrupted earlier write of the same file left beside it
    (``.tmp-<name>.*``) are removed first. The file gets ``mode`` (default
    ``recsys.service.atomic.file_mode``: 0644 unless configured).
    """
    path = Path(path)
    fmt = fmt or ("parquet" if path.suffix.lower() == ".parquet" else "csv")
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_leftovers(path)
    return atomic_write_bytes(path, table_bytes(frame, fmt, excel_bom=excel_bom), mode=mode)


__all__ = [
    "BLANKS",
    "ENCODED_SUFFIX",
    "FORMATS",
    "FORMULA_CHARS",
    "decode_ids",
    "encode_ids",
    "is_id_column",
    "needs_protection",
    "neutralize_formulas",
    "safe_frame",
    "table_bytes",
    "to_csv_bytes",
    "to_parquet_bytes",
    "write_table",
]
