"""Where the records and fields of a CSV buffer are, and parsing it with pyarrow.

Both are vectorised over the raw bytes (numpy, no per-line Python). :func:`record_layout` gives
each record's file line, field count and blankness, quote-aware, so that ingest can name the
lines of short, long and broken rows. :func:`arrow_table` parses the buffer with pyarrow's
multi-threaded CSV reader into ``widest`` string columns; it first pads short records with
delimiters (pyarrow, unlike pandas, refuses rows with fewer fields) and removes whitespace-only
lines (pandas skips them, pyarrow would not). :func:`text_frame` hands the parsed
columns to pandas, repeated values as ``Categorical`` columns (each distinct value stored
once), and :func:`map_text` maps such a column's text through its distinct values only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from recsys.data.limits import release_memory

#: ASCII whitespace, as ``bytes.strip`` removes it.
_WHITESPACE = np.frombuffer(b" \t\n\r\x0b\x0c", dtype=np.uint8)


@dataclass(frozen=True)
class Layout:
    r"""Records of a CSV buffer (a record ends at a newline outside quotes).

    Attributes
    ----------
    starts, ends : (r,) int64 byte offsets: a record is ``buf[start:end]``, ``end`` being its
        ``\n`` (or the end of the buffer).
    start_line : (r,) int64 1-based file line where each record starts.
    n_fields : (r,) int32 fields per record (delimiters outside quotes + 1).
    blank : (r,) bool, empty or whitespace-only records (parsers skip them).
    quotes : (q,) int64 offsets of the double quotes (empty when not quote-aware).
    """

    starts: np.ndarray
    ends: np.ndarray
    start_line: np.ndarray
    n_fields: np.ndarray
    blank: np.ndarray
    quotes: np.ndarray


#: Bytes judged at once when scanning a buffer (bounds the scan's temporary masks).
_BLOCK = 1 << 25


def _positions(arr: np.ndarray, byte: int) -> np.ndarray:
    """(k,) int64 offsets of ``byte`` in ``arr``, found block by block (no full-size mask)."""
    parts = [
        np.flatnonzero(arr[i : i + _BLOCK] == byte).astype(np.int64) + i
        for i in range(0, len(arr), _BLOCK)
    ]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


def record_layout(buf: bytes | memoryview, delimiter: str, *, quoting: bool = True) -> Layout:
    """Record boundaries, field counts and blank records, vectorised.

    Quote-aware unless ``quoting=False``: a newline or delimiter counts when an even number
    of double quotes precedes it. The buffer is scanned in blocks, so the temporary memory is
    a few arrays of one entry per record, not of one per byte.
    """
    arr = np.frombuffer(buf, dtype=np.uint8)
    quotes = _positions(arr, ord('"')) if quoting else np.zeros(0, dtype=np.int64)
    newlines = _positions(arr, ord("\n"))
    if len(quotes):
        ends = newlines[(np.searchsorted(quotes, newlines) % 2) == 0]
    else:
        ends = newlines
    if len(arr) and (len(ends) == 0 or ends[-1] != len(arr) - 1):
        ends = np.append(ends, len(arr))
    starts = np.concatenate([[0], ends[:-1] + 1]).astype(np.int64)
    n_records = len(ends)
    n_fields = np.ones(n_records, dtype=np.int64)
    for i in range(0, len(arr), _BLOCK):  # delimiters outside quotes, counted per record
        dpos = np.flatnonzero(arr[i : i + _BLOCK] == ord(delimiter)).astype(np.int64) + i
        if len(quotes) and len(dpos):
            dpos = dpos[(np.searchsorted(quotes, dpos) % 2) == 0]
        if len(dpos):
            owner = np.minimum(np.searchsorted(ends, dpos), n_records - 1)
            n_fields += np.bincount(owner, minlength=n_records)
        del dpos
    if len(quotes):
        start_line = np.searchsorted(newlines, starts) + 1
    else:  # every newline ends a record
        start_line = np.arange(1, len(starts) + 1)
    del newlines
    length = ends - starts
    blank = length == 0
    maybe = np.flatnonzero(~blank & (n_fields == 1) & (length < 256))
    if len(maybe):  # whitespace-only lines: count the non-whitespace bytes of short lines
        lens = length[maybe]
        first = np.cumsum(lens) - lens
        idx = np.repeat(starts[maybe] - first, lens) + np.arange(int(lens.sum()))
        solid = ~np.isin(arr[idx], _WHITESPACE)
        blank[maybe] = np.bincount(np.repeat(np.arange(len(maybe)), lens), solid, len(maybe)) == 0
    return Layout(
        starts=starts,
        ends=ends.astype(np.int64),
        start_line=start_line.astype(np.int64),
        n_fields=n_fields.astype(np.int32),
        blank=blank,
        quotes=quotes.astype(np.int64),
    )


def regular_quoting(buf: bytes | memoryview, layout: Layout, delimiter: str) -> bool:
    """True when every double quote opens a field, closes one, or is a doubled ``""``.

    Then the quote parity of :func:`record_layout` is exactly how a CSV parser reads the
    file, and pandas and pyarrow read it alike. Stray quotes inside unquoted text (``5"``
    screens) or spaces before an opening quote make this False.
    """
    q = layout.quotes
    if len(q) == 0:
        return True
    if len(q) % 2:
        return False
    arr = np.frombuffer(buf, dtype=np.uint8)
    n = len(arr)
    opening, closing = q[0::2], q[1::2]
    before = arr[np.maximum(opening - 1, 0)]
    pair_before = np.zeros(len(opening), bool)  # the second quote of a doubled ""
    pair_before[1:] = q[1:-1:2] == opening[1:] - 1
    opens_ok = (opening == 0) | (before == ord(delimiter)) | (before == ord("\n")) | pair_before
    after = arr[np.minimum(closing + 1, n - 1)]
    pair_after = np.zeros(len(closing), bool)
    pair_after[:-1] = q[2::2] == closing[:-1] + 1
    at_end = closing == n - 1
    closes_ok = at_end | (after == ord(delimiter)) | (after == ord("\n")) | (after == ord("\r"))
    return bool(opens_ok.all() and (closes_ok | pair_after).all())


def arrow_input(
    buf: bytes | memoryview, delimiter: str, layout: Layout, widest: int
) -> tuple[bytes | memoryview, bool]:
    """What :func:`arrow_table` parses: ``(buffer, multiline)``.

    The buffer is ``buf`` itself, or a copy with short records padded with delimiters to
    ``widest`` fields and whitespace-only lines removed; ``multiline`` says whether quoted
    cells hold newlines. The layout is not needed afterwards (the caller can free it before
    parsing).
    """
    arr = np.frombuffer(buf, dtype=np.uint8)
    keep = ~layout.blank
    pad = np.where(keep, widest - layout.n_fields, 0)
    # pyarrow skips empty (and CR-only) lines itself; other blank lines must go
    length = layout.ends - layout.starts
    lone_cr = (length == 1) & (arr[np.minimum(layout.starts, max(len(arr) - 1, 0))] == ord("\r"))
    drop = layout.blank & (length > 0) & ~lone_cr
    if pad.any() or drop.any():
        buf = _normalised(arr, layout, pad, drop, delimiter)
    multiline = len(layout.quotes) > 0 and bool(
        (layout.start_line[1:] - layout.start_line[:-1] > 1).any()
    )
    return buf, multiline


def arrow_table(
    buf: bytes | memoryview, delimiter: str, widest: int, multiline: bool, n_records: int
) -> pa.Table | None:
    """Parse ``buf`` (from :func:`arrow_input`) into ``widest`` string columns ``f0, f1, ...``.

    Every non-blank record becomes one row (the header too). Returns None when pyarrow does
    not see exactly ``n_records`` rows or rejects the buffer (the caller then uses its
    fallback parser).
    """
    names = [f"f{i}" for i in range(widest)]
    try:
        table = pacsv.read_csv(
            pa.BufferReader(pa.py_buffer(buf)),  # no copy of the buffer
            read_options=pacsv.ReadOptions(column_names=names, use_threads=True),
            parse_options=pacsv.ParseOptions(
                delimiter=delimiter,
                quote_char='"',
                double_quote=True,
                escape_char=False,
                newlines_in_values=multiline,
                ignore_empty_lines=True,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    return table if table.num_rows == n_records else None


def _normalised(
    arr: np.ndarray, layout: Layout, pad: np.ndarray, drop: np.ndarray, delimiter: str
) -> bytes:
    r"""A copy of the buffer, records padded to one width and dropped ones removed.

    ``pad[r]`` delimiters are added at the end of record ``r`` (before its ``\r\n``) and the
    records flagged in ``drop`` are removed.
    """
    ends = layout.ends
    crlf = (ends > layout.starts) & (arr[np.maximum(ends - 1, 0)] == ord("\r"))
    at = np.where(crlf, ends - 1, ends)
    out = np.insert(arr, np.repeat(at, pad), np.uint8(ord(delimiter)))
    if drop.any():
        shift = np.cumsum(pad) - pad  # delimiters inserted before each record
        start = layout.starts[drop] + shift[drop]
        stop = np.minimum(ends[drop] + 1 + shift[drop], len(out))  # the record and its \n
        marks = np.zeros(len(out) + 1, np.int8)
        np.add.at(marks, start, 1)
        np.add.at(marks, stop, -1)
        out = out[np.cumsum(marks[:-1], dtype=np.int8) == 0]
    return out.tobytes()


def as_categories(column: pa.ChunkedArray | pa.Array) -> pd.Categorical:
    """A string column as a pandas ``Categorical``: each distinct value kept once.

    The categories are in first-seen order and hold exactly the values present (codes are
    never -1); a log's ids, events and numbers repeat, so this takes a fraction of the memory
    of one string per row.
    """
    encoded = column.dictionary_encode()
    if isinstance(encoded, pa.ChunkedArray):  # the chunks share one (final) dictionary
        chunks = encoded.chunks
        if not chunks:
            return pd.Categorical.from_codes(
                np.zeros(0, np.int32), pd.Index([], dtype=str), validate=False
            )
        codes = np.concatenate([c.indices.to_numpy(zero_copy_only=False) for c in chunks])
        dictionary = chunks[-1].dictionary
    else:
        codes = encoded.indices.to_numpy(zero_copy_only=False)
        dictionary = encoded.dictionary
    del encoded
    categories = pd.Index(dictionary.to_pandas(), dtype=str)
    return pd.Categorical.from_codes(codes, categories, validate=False)


#: A column whose first block has more distinct values than this share of its rows is
#: kept as strings; a column of repeated values (ids, events, numbers) becomes categorical.
REPEAT_SHARE = 0.5


def as_text(column: pa.ChunkedArray) -> pd.Categorical | pd.api.extensions.ExtensionArray:
    """A parsed string column for pandas, in the cheaper of two forms.

    Repeated values (judged on the first block): a ``Categorical`` (:func:`as_categories`).
    Mostly distinct values (times, titles): pandas strings over the same Arrow memory (no
    copy), as a hash of millions of distinct values would cost more than the strings.
    """
    first = next((c for c in column.chunks if len(c)), None)
    if first is not None and pc.count_distinct(first).as_py() > REPEAT_SHARE * len(first):
        return pd.array(column, dtype=str)
    return as_categories(column)


def text_frame(columns: list, names: Sequence[str]) -> pd.DataFrame:
    """Arrow string columns -> a pandas frame named ``names`` (:func:`as_text` per column).

    ``columns`` is emptied as it goes, so each Arrow column is freed once converted (the
    caller keeps no other reference to them) and its memory given back to the system.
    """
    out: dict[str, object] = {}
    for i, name in enumerate(names):
        column, columns[i] = columns[i], None
        out[name] = as_text(column)
        del column
        release_memory()  # the Arrow column, before the next one's codes are allocated
    return pd.DataFrame(out, copy=False)


def map_text(s: pd.Series, fn: Callable[[pd.Series], pd.Series]) -> pd.Series:
    """``fn`` (str Series -> str Series, element-wise) applied to ``s``.

    For a categorical ``s`` only its categories are mapped (values that become equal merge),
    so a column of millions of repeated values costs its distinct values; the result stays
    categorical.
    """
    if not isinstance(s.dtype, pd.CategoricalDtype):
        return fn(s)
    cat = s.array
    categories = pd.Series(cat.categories)
    if categories.dtype != "str":
        categories = categories.astype(str)
    mapped = fn(categories)
    if mapped.equals(categories):
        return s
    remap, uniques = pd.factorize(mapped)
    remap = np.append(remap, -1).astype(np.int32)  # code -1 (missing) stays missing
    codes = remap[cat.codes]
    merged = pd.Categorical.from_codes(codes, pd.Index(uniques, dtype=str), validate=False)
    return pd.Series(merged, index=s.index, name=s.name)


__all__ = [
    "Layout",
    "arrow_input",
    "arrow_table",
    "as_categories",
    "as_text",
    "text_frame",
    "map_text",
    "record_layout",
    "regular_quoting",
]
