"""Reading an uploaded CSV file: bytes -> an all-string table with the file line of each row.

:func:`read_csv_bytes` refuses non-CSV files (images, Excel, PDF, binary junk), finds the
encoding (UTF-8, UTF-8 with BOM, GBK/GB18030, UTF-16 with BOM, else charset-normalizer's guess)
and the delimiter (comma, semicolon, tab, pipe; quote-aware), and reads every column as a
string, so ids are strings end to end (``00123`` stays ``00123``). It records the file line of
each row, removes NUL bytes and truncates cells longer than ``MAX_CELL_CHARS``.

Parsing goes through pyarrow's multi-threaded CSV reader (about 7x less CPU than pandas' C
parser on a 2M-row log); files with irregular quoting (stray quotes inside unquoted text)
keep pandas' C parser, which reads them as before.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from recsys.data.csv_records import Layout, arrow_table, record_layout, regular_quoting
from recsys.data.limits import (
    MAX_COLUMNS,
    MAX_ROWS,
    SAMPLE_BYTES,
    ingest_memory_limit,
    ingest_memory_need,
    size_text,
)
from recsys.errors import DataValidationError

#: Longest text cell kept; longer cells are cut (with a warning).
MAX_CELL_CHARS = 10_000
#: How many offending line numbers a report or error lists.
REPORT_LINES = 10

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG", "a PNG image"),
    (b"PK\x03\x04", "an Excel .xlsx workbook or another ZIP archive"),
    (b"PK\x05\x06", "an empty ZIP archive"),
    (b"\xd0\xcf\x11\xe0", "an old Excel .xls workbook (or another Office file)"),
    (b"%PDF", "a PDF document"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"\x1f\x8b", "a gzip-compressed file"),
    (b"PAR1", "a Parquet file"),
    (b"SQLite format 3", "an SQLite database"),
    (b"{\\rtf", "an RTF document"),
)
_DELIMITERS: tuple[str, ...] = (",", ";", "\t", "|")


@dataclass(frozen=True)
class RawTable:
    """A CSV file read as strings.

    Attributes
    ----------
    frame : (n_rows, n_columns) all-string frame, empty cells as ``""``.
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


def _refuse_binary(data: bytes, file_name: str) -> None:
    for magic, what in _MAGIC:
        if data.startswith(magic):
            hint = (
                " Open it in Excel and use 'Save As > CSV UTF-8', then upload the .csv."
                if "Excel" in what or "ZIP" in what
                else " Upload a CSV text file (comma, semicolon, tab or pipe separated)."
            )
            raise DataValidationError(f"this is {what}, not a CSV file.{hint}", file=file_name)
    sample = data[:65536]
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):  # judge the decoded text
        text = sample[: len(sample) // 2 * 2].decode("utf-16", errors="replace")
        sample = text.encode("utf-8", errors="replace")
    arr = np.frombuffer(sample, dtype=np.uint8)
    n_nul = int((arr == 0).sum())
    control = (arr < 32) & (arr != 9) & (arr != 10) & (arr != 13) & (arr != 0)
    if n_nul > 0.1 * len(arr) or int(control.sum()) > 0.05 * len(arr):
        raise DataValidationError(
            "this does not look like a text (CSV) file: it is mostly binary data. If it is a "
            "spreadsheet or a 'Unicode text' export, save it as 'CSV UTF-8' and upload that.",
            file=file_name,
        )


def _decode(data: bytes, file_name: str) -> tuple[str, str]:
    """Bytes -> (text, encoding label). UTF-8 (BOM-aware), GB18030, UTF-16 (BOM), fallback guess."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            pass
    try:
        text = data.decode("utf-8-sig")
        return text, ("utf-8-sig" if data.startswith(codecs.BOM_UTF8) else "utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030"), "gb18030"
    except UnicodeDecodeError:
        pass
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(data).best()
        if best is not None and best.encoding:
            return data.decode(best.encoding, errors="replace"), best.encoding
    except Exception:  # noqa: BLE001 - the guesser is a best effort
        pass
    raise DataValidationError(
        "cannot tell the text encoding of this file. Save it as 'CSV UTF-8' and upload again.",
        file=file_name,
    )


def _sniff_delimiter(text: str) -> str:
    """Comma, semicolon, tab or pipe: the one giving a stable field count (> 1).

    Judged over the first records, quoted fields respected. Falls back to comma.
    """
    sample = text[:65536]
    if len(text) > len(sample):
        cut = sample.rfind("\n")
        sample = sample[:cut] if cut > 0 else sample
    best, best_score = ",", (0.0, 0, 0)
    for delim in _DELIMITERS:
        try:
            rows = [r for r in csv.reader(io.StringIO(sample), delimiter=delim) if r][:200]
        except csv.Error:
            continue
        if not rows:
            continue
        n_header = len(rows[0])
        if n_header < 2:
            continue
        counts = [len(r) for r in rows[1:]] or [n_header]
        consistency = sum(c == n_header for c in counts) / len(counts)
        score = (round(consistency, 2), n_header, -_DELIMITERS.index(delim))
        if score > best_score:
            best, best_score = delim, score
    return best


def _read_frame(
    buf: bytes, delimiter: str, file_name: str, *, header: int | None, names: list | None
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


def _sample_text(sample: bytes) -> str:
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return sample[: len(sample) // 2 * 2].decode("utf-16", errors="replace")
    return sample.decode("utf-8", errors="replace").lstrip("\ufeff")  # GBK: delimiters still ASCII


def check_upload_cost(n_bytes: int, sample: bytes, file_name: str) -> tuple[int, int, int]:
    """``(rows, columns, memory)`` estimated from a file's size and its first bytes.

    Refuses (``DataValidationError``, before anything is parsed) a file whose header has more
    than ``MAX_COLUMNS`` columns, that would hold more than ``MAX_ROWS`` rows, or whose reading
    would need more memory than ``ingest_memory_limit()``; the message names the limit and
    the file's need. ``sample`` is the start of the file (``SAMPLE_BYTES`` are enough).
    """
    sample = sample[:SAMPLE_BYTES]
    text = _sample_text(sample)
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        return 0, 0, 0
    header = next(csv.reader([lines[0]], delimiter=_sniff_delimiter(text)), [])
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
    _refuse_binary(data, file_name)
    check_upload_cost(len(data), data[:SAMPLE_BYTES], file_name)
    notes: list[str] = []
    buf, encoding, delimiter = _utf8_buffer(data, file_name, notes)
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
    parsed = None
    if widest <= max(4 * width, width + 200):
        parsed = _parse_records(buf, delimiter, file_name, layout, widest, len(records), quoting_ok)
    if parsed is not None and len(parsed) == len(records):
        frame, line_numbers, bad_lines, short_lines = _split_by_field_count(
            parsed, layout, records, width, widest
        )
    else:  # unusual quoting: let pandas judge; line numbers approximate
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
    # (regular quoting: a cell is never longer than its record)
    longest = int((layout.ends - layout.starts).max()) if quoting_ok else len(buf)
    if len(buf) > MAX_CELL_CHARS and longest > MAX_CELL_CHARS:
        _cut_giant_cells(frame, line_numbers, notes)
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


def _utf8_buffer(data: bytes, file_name: str, notes: list[str]) -> tuple[bytes, str, str]:
    """Decode, drop NUL bytes and refuse web pages: (UTF-8 bytes without BOM, encoding, delimiter)."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text, encoding = _decode(data, file_name)
        n_nul = text.count("\x00")
        text = text.replace("\x00", "")
    else:
        n_nul = data.count(b"\x00")
        if n_nul:
            data = data.replace(b"\x00", b"")
        text, encoding = _decode(data, file_name)
    if n_nul:
        notes.append(f"removed {n_nul:,} NUL (\\x00) bytes; the file may be damaged.")
    text = text.lstrip("\ufeff")
    if not text or text.isspace():
        raise DataValidationError("the file is empty.", file=file_name)
    lead = len(text) - len(text.lstrip())
    if text[lead : lead + 14].lower().startswith(("<!doctype html", "<html", "<?xml")):
        raise DataValidationError(
            "this is a web page or XML document, not a CSV file. Upload the CSV export itself.",
            file=file_name,
        )
    delimiter = _sniff_delimiter(text)
    if encoding in ("utf-8", "utf-8-sig"):  # already the bytes pyarrow and pandas read
        buf = data
        while buf.startswith(codecs.BOM_UTF8):
            buf = buf[len(codecs.BOM_UTF8) :]
    else:
        buf = text.encode("utf-8")
    return buf, encoding, delimiter


def _parse_records(
    buf: bytes,
    delimiter: str,
    file_name: str,
    layout: Layout,
    widest: int,
    n_records: int,
    quoting_ok: bool,
) -> pd.DataFrame | None:
    """Every record into ``widest`` columns, the header as row 0 (field counts judged later).

    pyarrow's reader when the quoting is regular, else pandas' C parser (quirk for quirk as
    before; it also explains unbalanced quotes).
    """
    if quoting_ok:
        table = arrow_table(buf, delimiter, layout, widest, n_records)
        if table is not None:
            parsed = table.to_pandas()
            parsed.columns = list(range(widest))
            return parsed
    try:
        return _read_frame(buf, delimiter, file_name, header=None, names=list(range(widest)))
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


def _split_by_field_count(
    parsed: pd.DataFrame, layout: Layout, records: np.ndarray, width: int, widest: int
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    """(frame, line_numbers, bad_lines, short_lines) from all records read ``widest`` wide.

    Rows with non-empty fields beyond the header's ``width`` are bad; extra empty fields
    (trailing separators) are harmless.
    """
    start_line, n_fields = layout.start_line, layout.n_fields
    header = parsed.iloc[0, :width].tolist()
    body_records = records[1:]
    body = parsed.iloc[1:]
    too_many = np.zeros(len(body), dtype=bool)
    if widest > width:
        extra = body.iloc[:, width:]
        for column in extra.columns:
            too_many |= (extra[column].str.strip() != "").to_numpy()
    frame = body.iloc[~too_many, :width].reset_index(drop=True)
    frame.columns = _column_names(header)
    line_numbers = start_line[body_records[~too_many]]
    bad_lines = start_line[body_records[too_many]]
    short = n_fields[body_records[~too_many]] < width
    return frame, line_numbers, bad_lines, line_numbers[short]


def _pandas_judged(
    buf: bytes, delimiter: str, file_name: str, notes: list[str]
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
    return frame, line_numbers, bad_lines, short_lines


def _cut_giant_cells(frame: pd.DataFrame, line_numbers: np.ndarray, notes: list[str]) -> None:
    """Cut cells longer than ``MAX_CELL_CHARS`` in place, with a note per column."""
    for column in frame.columns:
        lens = frame[column].str.len().to_numpy()
        long = lens > MAX_CELL_CHARS
        if long.any():
            frame[column] = frame[column].where(~long, frame[column].str.slice(0, MAX_CELL_CHARS))
            lines = ", ".join(map(str, line_numbers[long][:REPORT_LINES]))
            notes.append(
                f"column '{column}': {int(long.sum()):,} cell(s) longer than "
                f"{MAX_CELL_CHARS:,} characters were cut (longest {int(lens.max()):,}; lines {lines})."
            )


__all__ = ["MAX_CELL_CHARS", "REPORT_LINES", "RawTable", "read_csv_bytes"]
