"""Reading an uploaded CSV file: bytes -> a table of text with the file line of each row.

:func:`read_csv_bytes` refuses non-CSV files (images, Excel, PDF, binary junk), finds the
encoding (UTF-8, UTF-8 with BOM, GBK/GB18030, UTF-16 with BOM, else charset-normalizer's guess)
and the delimiter (comma, semicolon, tab, pipe; quote-aware; :mod:`recsys.data.csv_encoding`),
and reads every column as text (repeated values as categoricals), so ids are strings end to end (``00123`` stays ``00123``). It records the file line of
each row, removes NUL bytes and truncates cells longer than ``MAX_CELL_CHARS``.

Parsing goes through pyarrow's multi-threaded CSV reader (about 7x less CPU than pandas' C
parser on a 2M-row log); files with irregular quoting (stray quotes inside unquoted text)
keep pandas' C parser, which reads them as before.
"""

from __future__ import annotations

import csv
import io
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from recsys.data.csv_encoding import refuse_binary, sample_text, sniff_delimiter, utf8_buffer
from recsys.data.csv_records import (
    arrow_input,
    arrow_table,
    map_text,
    record_layout,
    regular_quoting,
    text_frame,
)
from recsys.data.limits import (
    MAX_COLUMNS,
    MAX_ROWS,
    SAMPLE_BYTES,
    ingest_memory_limit,
    ingest_memory_need,
    release_memory,
    size_text,
)
from recsys.errors import DataValidationError

#: Longest text cell kept; longer cells are cut (with a warning).
MAX_CELL_CHARS = 10_000
#: How many offending line numbers a report or error lists.
REPORT_LINES = 10


@dataclass(frozen=True)
class RawTable:
    """A CSV file read as strings.

    Attributes
    ----------
    frame : (n_rows, n_columns) frame of text, empty cells as ``""``; a column of repeated
        values (ids, events) is a ``Categorical`` (each distinct value stored once), one of
        mostly distinct values (times, titles) holds pandas strings.
    file_name, encoding, delimiter : as found.
    line_numbers : (n_rows,) int64 1-based file line where each row starts (header = line 1).
    bad_lines : file lines of rows dropped for having too many fields.
    short_lines : file lines of rows with too few fields (kept, missing cells empty).
    warnings : what was repaired while reading (NUL bytes, long cells, ...).
    """

    frame: pd.DataFrame
    file_name: str
    encoding: str
    delimiter: str
    line_numbers: np.ndarray
    bad_lines: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    short_lines: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    warnings: tuple[str, ...] = ()

    @property
    def n_rows(self) -> int:
        """Rows read (kept rows + rows dropped for a wrong field count)."""
        return len(self.frame) + len(self.bad_lines)


def _read_frame(
    buf: bytes | memoryview,
    delimiter: str,
    file_name: str,
    *,
    header: int | None,
    names: list | None,
) -> pd.DataFrame:
    """Pandas' C parser, every cell a string; rows pandas skips are listed in ``attrs``."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            frame = pd.read_csv(
                io.BytesIO(buf),
                sep=delimiter,
                header=header,
                names=names,
                dtype=str,
                keep_default_na=False,
                na_filter=False,
                on_bad_lines="warn",
                index_col=False,
                encoding="utf-8",
                skip_blank_lines=True,
            )
        except pd.errors.EmptyDataError as err:
            raise DataValidationError("the file has no header line.", file=file_name) from err
        except (pd.errors.ParserError, ValueError, UnicodeDecodeError) as err:
            raise DataValidationError(
                f"cannot read this file as CSV ({str(err).strip().splitlines()[0]}). Check that "
                "it is a CSV text file and that quotes are balanced.",
                file=file_name,
            ) from err
    frame.attrs["skipped"] = [
        int(m.group(1)) for w in caught for m in re.finditer(r"Skipping line (\d+)", str(w.message))
    ]
    return frame


def _column_names(values: Sequence) -> list[str]:
    """Header cells -> unique names: stripped; empty -> ``column N``; repeats -> ``name.1``."""
    out: list[str] = []
    seen: set[str] = set()
    for i, value in enumerate(values):
        base = str(value).strip().lstrip("\ufeff") or f"column {i + 1}"
        name, k = base, 0
        while name in seen:
            k += 1
            name = f"{base}.{k}"
        seen.add(name)
        out.append(name)
    return out


def check_upload_cost(n_bytes: int, sample: bytes, file_name: str) -> tuple[int, int, int]:
    """``(rows, columns, memory)`` estimated from a file's size and its first bytes.

    Refuses (``DataValidationError``, before anything is parsed) a file whose header has more
    than ``MAX_COLUMNS`` columns, that would hold more than ``MAX_ROWS`` rows, or whose reading
    would need more memory than ``ingest_memory_limit()``; the message names the limit and
    the file's need. ``sample`` is the start of the file (``SAMPLE_BYTES`` are enough).
    """
    sample = sample[:SAMPLE_BYTES]
    text = sample_text(sample)
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        return 0, 0, 0
    header = next(csv.reader([lines[0]], delimiter=sniff_delimiter(text)), [])
    n_columns = max(len(header), 1)
    if n_columns > MAX_COLUMNS:
        raise DataValidationError(
            f"the file has {n_columns:,} columns; at most {MAX_COLUMNS:,} can be read. Keep "
            "the columns you need (ids, event, time, rating, item attributes) and upload again.",
            file=file_name,
        )
    complete = len(sample) >= n_bytes
    unterminated = complete and not sample.endswith(b"\n")
    per_line = len(sample) / max(sample.count(b"\n") + unterminated, 1)
    n_rows = max(round(n_bytes / per_line) - 1, 0)
    if n_rows > MAX_ROWS:
        raise DataValidationError(
            f"the file holds about {n_rows:,} rows; at most {MAX_ROWS:,} can be read. Upload "
            "a shorter period or a sample of the users.",
            file=file_name,
        )
    need, limit = ingest_memory_need(n_bytes, n_rows, n_columns), ingest_memory_limit()
    if need > limit:
        raise DataValidationError(
            f"reading this file ({size_text(n_bytes)}, about {n_rows:,} rows x {n_columns:,} "
            f"columns) would need about {size_text(need)} of memory; the limit is "
            f"{size_text(limit)}. Upload a shorter period, a sample of the users or fewer "
            "columns.",
            file=file_name,
        )
    return n_rows, n_columns, need


def read_csv_source(
    source: bytes | str | Path, file_name: str | None, default_name: str
) -> tuple[RawTable, str]:
    """Read a CSV given as bytes or a path; returns the table and the file name for messages.

    The name is ``file_name`` if given, else the path's name, else ``default_name``.
    """
    if isinstance(source, bytes | bytearray):
        data, name = bytes(source), file_name or default_name
    else:
        path = Path(source)
        data, name = path.read_bytes(), file_name or path.name
    return read_csv_bytes(data, name), name


def read_csv_bytes(data: bytes, file_name: str) -> RawTable:
    """Read an uploaded CSV file (bytes) into an all-string frame.

    Raises
    ------
    DataValidationError
        Empty file, a known binary format (PNG, JPEG, GIF, PDF, xlsx/zip, xls, gzip, Parquet),
        binary junk, no header, or more than half of the rows with a wrong number of fields.
           Too many columns or rows, or more memory than allowed (:func:`check_upload_cost`,
        judged before parsing).
    """
    if not data or re.fullmatch(rb"[ \t\r\n\x00\xef\xbb\xbf]*", data):  # nothing but blanks
        raise DataValidationError(
            "the file is empty. Upload a CSV file with a header line and at least one row.",
            file=file_name,
        )
    refuse_binary(data, file_name)
    check_upload_cost(len(data), data[:SAMPLE_BYTES], file_name)
    notes: list[str] = []
    buf, encoding, delimiter = utf8_buffer(data, file_name, notes)
    del data

    layout = record_layout(buf, delimiter)
    records = np.flatnonzero(~layout.blank)
    if len(records) == 0:
        raise DataValidationError("the file is empty.", file=file_name)
    width = int(layout.n_fields[records[0]])
    if width > MAX_COLUMNS or len(records) - 1 > MAX_ROWS:
        raise DataValidationError(
            f"the file has {len(records) - 1:,} rows and {width:,} columns; at most "
            f"{MAX_ROWS:,} rows and {MAX_COLUMNS:,} columns can be read.",
            file=file_name,
        )
    widest = int(layout.n_fields[records].max())
    quoting_ok = regular_quoting(buf, layout, delimiter)
    # (regular quoting: a cell is never longer than its record)
    longest = int((layout.ends - layout.starts).max()) if quoting_ok else len(buf)
    lines, fields = layout.start_line[records], layout.n_fields[records]
    parsed = None
    if widest <= max(4 * width, width + 200):
        prepared = arrow_input(buf, delimiter, layout, widest) if quoting_ok else None
        del layout  # only the records' lines and field counts are needed from here
        parsed = _parse_records(buf, delimiter, file_name, prepared, widest, len(records))
        del prepared
    else:
        del layout
    if parsed is not None and len(parsed) == len(records):
        frame, line_numbers, bad_lines, short_lines = _split_by_field_count(
            parsed, lines, fields, width, widest
        )
    else:  # unusual quoting: let pandas judge; line numbers approximate
        del parsed
        frame, line_numbers, bad_lines, short_lines = _pandas_judged(
            buf, delimiter, file_name, notes
        )
    if len(bad_lines) and len(bad_lines) > len(frame):
        raise DataValidationError(
            f"{len(bad_lines):,} of {len(bad_lines) + len(frame):,} rows have more fields than "
            f"the header ({len(frame.columns)} columns). Check the separator and the quoting "
            "(text containing the separator must be in double quotes).",
            file=file_name,
            rows=bad_lines[:REPORT_LINES].tolist(),
        )
    if len(buf) > MAX_CELL_CHARS and longest > MAX_CELL_CHARS:
        _cut_giant_cells(frame, line_numbers, notes)
    del buf
    release_memory()  # the parser's scratch memory, before the caller's next step
    return RawTable(
        frame=frame,
        file_name=file_name,
        encoding=encoding,
        delimiter=delimiter,
        line_numbers=np.asarray(line_numbers, dtype=np.int64),
        bad_lines=np.asarray(bad_lines, dtype=np.int64),
        short_lines=np.asarray(short_lines, dtype=np.int64),
        warnings=tuple(notes),
    )


class _Records:
    """Every record parsed into ``widest`` string columns, the header as row 0.

    Holds pyarrow's table (regular quoting) or pandas' frame (the fallback); ``len`` is the
    number of records parsed.
    """

    def __init__(self, table: pa.Table | None = None, frame: pd.DataFrame | None = None):
        self.table, self.frame = table, frame

    def __len__(self) -> int:
        if self.table is not None:
            return int(self.table.num_rows)
        return len(self.frame) if self.frame is not None else 0


def _parse_records(
    buf: bytes | memoryview,
    delimiter: str,
    file_name: str,
    prepared: tuple[bytes | memoryview, bool] | None,
    widest: int,
    n_records: int,
) -> _Records:
    """Every record into ``widest`` columns, the header as row 0 (field counts judged later).

    pyarrow's reader when the quoting is regular, else pandas' C parser (quirk for quirk as
    before; it also explains unbalanced quotes).
    """
    if prepared is not None:  # regular quoting (``arrow_input``)
        table = arrow_table(prepared[0], delimiter, widest, prepared[1], n_records)
        if table is not None:
            return _Records(table=table)
    try:
        frame = _read_frame(buf, delimiter, file_name, header=None, names=list(range(widest)))
    except DataValidationError as err:
        if "EOF inside string" not in str(err):
            raise
        arr = np.frombuffer(buf, dtype=np.uint8)
        last_quote = int(np.flatnonzero(arr == ord('"'))[-1])
        line = int((arr[:last_quote] == ord("\n")).sum()) + 1
        raise DataValidationError(
            'a double quote (") opened here is never closed, so the rest of the file would '
            "be one cell. Close or remove the quote, then upload again.",
            file=file_name,
            rows=[line],
        ) from err
    return _Records(frame=frame)


def _split_by_field_count(
    parsed: _Records, lines: np.ndarray, fields: np.ndarray, width: int, widest: int
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    """(frame, line_numbers, bad_lines, short_lines) from all records read ``widest`` wide.

    ``lines`` and ``fields`` are each parsed record's file line and field count.

    Rows with non-empty fields beyond the header's ``width`` are bad; extra empty fields
    (trailing separators) are harmless. The frame's columns are ``Categorical`` (each
    distinct value stored once); the parsed records are released column by column.
    """
    body_lines, body_fields = lines[1:], fields[1:]  # of each record but the header
    too_many = np.zeros(len(body_lines), dtype=bool)
    table, frame = parsed.table, parsed.frame
    parsed.table = parsed.frame = None
    if table is not None:
        header = [table.column(i)[0].as_py() for i in range(width)]
        for i in range(width, widest):
            extra = pc.utf8_trim_whitespace(table.column(i).slice(1))
            too_many |= pc.not_equal(extra, "").to_numpy(zero_copy_only=False)
            del extra
        body = table.slice(1).select(list(range(width)))
        del table
        if too_many.any():
            body = body.filter(pa.array(~too_many))
        columns = body.columns
        del body
        out = text_frame(columns, _column_names(header))
    else:
        assert frame is not None
        header = frame.iloc[0, :width].tolist()
        body_frame = frame.iloc[1:]
        if widest > width:
            extra_frame = body_frame.iloc[:, width:]
            for column in extra_frame.columns:
                too_many |= (extra_frame[column].str.strip() != "").to_numpy()
        kept = body_frame.iloc[~too_many, :width].reset_index(drop=True)
        del frame, body_frame
        kept.columns = _column_names(header)
        out = _as_categories(kept)
    line_numbers = body_lines[~too_many]
    bad_lines = body_lines[too_many]
    short = body_fields[~too_many] < width
    return out, line_numbers, bad_lines, line_numbers[short]


def _as_categories(frame: pd.DataFrame) -> pd.DataFrame:
    """An all-string frame's columns as pyarrow's path gives them (:func:`text_frame`)."""
    columns = [
        pa.chunked_array([pa.array(frame[c].fillna("").to_numpy(dtype=object), pa.string())])
        for c in frame
    ]
    return text_frame(columns, list(frame.columns))


def _pandas_judged(
    buf: bytes | memoryview, delimiter: str, file_name: str, notes: list[str]
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    """(frame, line_numbers, bad_lines, short_lines) as pandas reads unusual quoting."""
    frame = _read_frame(buf, delimiter, file_name, header=0, names=None)
    frame.columns = _column_names(frame.columns)
    bad_lines = np.asarray(frame.attrs.pop("skipped", []), dtype=np.int64)
    short_lines = np.zeros(0, dtype=np.int64)
    plain = record_layout(buf, delimiter, quoting=False)
    plain_lines = plain.start_line[~plain.blank][1:]
    if len(bad_lines) == 0 and len(plain_lines) == len(frame):  # no multi-line cells
        line_numbers = plain_lines
    else:
        line_numbers = np.arange(2, len(frame) + 2, dtype=np.int64)
        notes.append("line numbers in this report are approximate (unusual quoting).")
    return _as_categories(frame), line_numbers, bad_lines, short_lines


def _cut_giant_cells(frame: pd.DataFrame, line_numbers: np.ndarray, notes: list[str]) -> None:
    """Cut cells longer than ``MAX_CELL_CHARS`` in place, with a note per column."""
    for column in frame.columns:
        lens = frame[column].str.len().to_numpy()
        long = lens > MAX_CELL_CHARS
        if long.any():
            frame[column] = map_text(frame[column], lambda s: s.str.slice(0, MAX_CELL_CHARS))
            lines = ", ".join(map(str, line_numbers[long][:REPORT_LINES]))
            notes.append(
                f"column '{column}': {int(long.sum()):,} cell(s) longer than "
                f"{MAX_CELL_CHARS:,} characters were cut (longest {int(lens.max()):,}; lines {lines})."
            )


__all__ = ["MAX_CELL_CHARS", "REPORT_LINES", "RawTable", "read_csv_bytes"]
