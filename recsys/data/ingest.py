"""Ingest: uploaded CSV bytes -> clean events + catalog + :class:`ReadinessReport` -> ``Dataset``.

Pipeline (all vectorised; no per-row Python):

1. :func:`read_csv_bytes` refuses non-CSV files (images, Excel, PDF, binary junk), finds the
   encoding (UTF-8, UTF-8 with BOM, GBK/GB18030, UTF-16 with BOM, else charset-normalizer's
   guess) and the delimiter (comma, semicolon, tab, pipe; quote-aware), and reads every column
   as a string, so ids are strings end to end (``00123`` stays ``00123``). It records the file
   line of each row, removes NUL bytes and truncates cells longer than ``MAX_CELL_CHARS``.
2. :func:`detect_roles` maps columns to roles from common English / Chinese names
   (case-, space- and underscore-insensitive); an explicit ``{role: column}`` mapping wins.
3. :func:`clean_interactions` and :func:`clean_catalog` parse, normalise and drop bad rows,
   counting each reason with the first offending line numbers.
4. :func:`load_dataset` glues it together, builds the ``Dataset`` and the report, and refuses
   data that cannot train anything (raises :class:`DataValidationError`).

Ingest is pure: it returns new objects and never mutates its inputs.

Decisions worth knowing
-----------------------
* Rows with too many fields are dropped and counted; rows with too few are kept with the
  missing cells empty (counted as a note). More than half the rows broken -> refused.
* Weights: with an event column, ``weight = event_weights[event]``; else with a rating column,
  ``weight = rating`` (shifted to ``rating - min + 1`` if the scale reaches 0 or below); else
  with a quantity column every row is a purchase (``weight = event_weights["purchase"]``);
  else 1 per row. Repeated (user, item) rows are summed by ``Dataset.construct``.
* ``category`` values such as ``Action|Comedy`` (MovieLens genres) become ``category`` =
  first token (``Action``) and the full list is kept in a ``genres`` attribute.
* ``price_band`` splits known prices at their quartiles: ``budget`` (<= Q1), ``mid`` (<= Q2),
  ``premium`` (<= Q3), ``luxury``; empty when the price is unknown.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from recsys.data.dataset import Dataset
from recsys.data.prices import price_bands
from recsys.data.report import FileReport, ReadinessReport
from recsys.data.schema import DEFAULT_EVENT_WEIGHTS, ROLE_COLUMN, Col
from recsys.errors import DataValidationError

__all__ = [
    "MAX_CELL_CHARS",
    "EVENT_TYPES",
    "RawTable",
    "LoadResult",
    "read_csv_bytes",
    "detect_roles",
    "role_aliases",
    "normalize_event",
    "clean_interactions",
    "clean_catalog",
    "clean_users",
    "MAX_USER_ATTRIBUTE_VALUES",
    "load_dataset",
    "load_catalog",
    "validate",
]

#: Longest text cell kept; longer cells are cut (with a warning).
MAX_CELL_CHARS = 10_000
#: Normalised event types, in display order.
EVENT_TYPES: tuple[str, ...] = ("view", "cart", "favorite", "purchase", "other")
#: How many offending line numbers a report or error lists.
_MAX_LINES = 10

Kind = Literal["interactions", "catalog", "users"]
Source = bytes | str | Path

# --------------------------------------------------------------------------- role names
#: role -> accepted column names, best first (compared after ``_norm_name``).
# fmt: off
_ROLE_ALIASES: dict[str, tuple[str, ...]] = {
    "user": (
        "user_id", "userId", "user", "customer_id", "CustomerID", "customer", "visitorid",
        "visitor_id", "reviewerID", "member_id", "buyer_id", "client_id", "uid", "用户ID", "用户",
        "会员ID", "会员", "客户ID", "顾客ID", "买家ID",
    ),
    "item": (
        "item_id", "itemId", "item", "product_id", "productId", "product", "sku", "StockCode",
        "asin", "movieId", "book_id", "isbn", "article_id", "goods_id", "iid", "商品ID", "商品编号",
        "商品", "货号", "产品ID", "SKU编码",
    ),
    "rating": (
        "rating", "score", "stars", "star", "rating_value", "overall", "评分", "打分", "星级",
    ),
    "timestamp": (
        "timestamp", "datetime", "event_time", "InvoiceDate", "order_date", "time", "date", "ts",
        "created_at", "when", "event_date", "purchase_date", "unixReviewTime", "时间", "时间戳",
        "日期", "下单时间",
    ),
    "event": (
        "event", "event_type", "behavior", "behaviour", "behavior_type", "action", "action_type",
        "interaction", "行为", "行为类型", "事件",
    ),
    "quantity": (
        "quantity", "qty", "amount_qty", "count", "数量", "购买数量",
    ),
    "order": (
        "InvoiceNo", "invoice", "invoice_no", "order_id", "transaction_id", "订单号", "订单ID",
    ),
    "title": (
        "title", "name", "product_name", "item_name", "product_title", "标题", "商品名称", "名称", "商品标题",
        "产品名称",
    ),
    "description": (
        "description", "desc", "details", "detail", "描述", "商品描述", "详情",
    ),
    "category": (
        "category", "categories", "genres", "genre", "category_name", "category_id", "cat", "类目",
        "分类", "类别", "品类", "类目ID",
    ),
    "brand": (
        "brand", "brand_name", "manufacturer", "品牌",
    ),
    "price": (
        "price", "UnitPrice", "unit_price", "sale_price", "价格", "单价", "售价",
    ),
}
# fmt: on

_ITEM_ATTRIBUTE_ROLES: tuple[str, ...] = ("title", "description", "category", "brand", "price")
_KIND_ROLES: dict[str, tuple[str, ...]] = {
    # detection order: a column taken by an earlier role is not offered to later ones
    "interactions": (
        "user",
        "item",
        "event",
        "rating",
        "quantity",
        "timestamp",
        "order",
        "description",
        "title",
        "category",
        "brand",
        "price",
    ),
    "catalog": ("item", "description", "title", "category", "brand", "price"),
    "users": ("user",),
}
_REQUIRED: dict[str, tuple[str, ...]] = {
    "interactions": ("user", "item"),
    "catalog": ("item",),
    "users": ("user",),
}
#: A user attribute with more distinct values than this, and mostly unique, is free text.
MAX_USER_ATTRIBUTE_VALUES = 50
#: Numeric user attributes with more distinct values than this are cut into quartile bands.
_NUMERIC_BAND_MIN_DISTINCT = 8


def _norm_name(name: str) -> str:
    """Column name -> comparison key: NFKC, lower case, no spaces / ``_`` / ``-`` / ``.``."""
    name = unicodedata.normalize("NFKC", str(name)).replace("\ufeff", "")
    return re.sub(r"[\s_\-.]+", "", name.lower())


_ALIAS_KEYS: dict[str, tuple[str, ...]] = {
    role: tuple(dict.fromkeys(_norm_name(a) for a in aliases))
    for role, aliases in _ROLE_ALIASES.items()
}


def role_aliases(role: str) -> tuple[str, ...]:
    """Column names recognised for ``role`` (for help texts and error messages)."""
    return _ROLE_ALIASES[role]


def detect_roles(columns: Sequence[str], kind: Kind) -> dict[str, str]:
    """Guess which column plays which role.

    Parameters
    ----------
    columns : column names as in the file.
    kind : ``"interactions"`` (roles user, item, event, rating, quantity, timestamp, order and
        the item attributes title, description, category, brand, price that a log may carry)
        or ``"catalog"`` (item, title, description, category, brand, price).

    Returns
    -------
    dict role -> column, only for roles found. Each column gets at most one role. A
    ``Description`` column is the title when there is no title-like column (Online Retail).
    """
    keys = [_norm_name(c) for c in columns]
    taken: set[int] = set()
    found: dict[str, str] = {}
    for role in _KIND_ROLES[kind]:
        for alias in _ALIAS_KEYS[role]:
            hit = next((i for i, k in enumerate(keys) if k == alias and i not in taken), None)
            if hit is not None:
                found[role] = columns[hit]
                taken.add(hit)
                break
    if "title" not in found and "description" in found:
        found["title"] = found.pop("description")
    order = _KIND_ROLES[kind]
    return {role: found[role] for role in order if role in found}


def _resolve_mapping(
    columns: Sequence[str], kind: Kind, mapping: Mapping[str, str | None] | None, file_name: str
) -> dict[str, str]:
    """Detected roles updated by an explicit mapping; validates the explicit part."""
    roles = detect_roles(columns, kind)
    if mapping:
        known = _KIND_ROLES[kind]
        for role, column in mapping.items():
            if role not in known:
                raise DataValidationError(
                    f"unknown role '{role}' in the column mapping; roles for {kind} are: "
                    + ", ".join(known)
                    + ".",
                    file=file_name,
                )
            if column is None or str(column).strip() == "":
                roles.pop(role, None)  # explicitly "no column for this role"
                continue
            if column not in columns:
                stripped = {str(c).strip().lower(): c for c in columns}
                if str(column).strip().lower() not in stripped:
                    raise DataValidationError(
                        f"the mapping says {role} = '{column}', but there is no such column. "
                        "Columns in the file: " + ", ".join(f"'{c}'" for c in columns) + ".",
                        file=file_name,
                        column=str(column),
                    )
                column = stripped[str(column).strip().lower()]
            # a column explicitly given to a role is taken away from any other detected role
            for other in [r for r, c in roles.items() if c == column and r != role]:
                if other not in mapping:
                    roles.pop(other)
            roles[role] = column
    for role in _REQUIRED[kind]:
        if role not in roles:
            names = ", ".join(_ROLE_ALIASES[role][:10])
            raise DataValidationError(
                f"no {role} column found. Columns in the file: "
                + ", ".join(f"'{c}'" for c in columns)
                + f". We look for names like {names}. Rename the column, or map it "
                f"explicitly (in the app's column mapping, or --map {role}=COLUMN).",
                file=file_name,
            )
    order = _KIND_ROLES[kind]
    return {role: roles[role] for role in order if role in roles}


# --------------------------------------------------------------------------- reading
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
    """Comma, semicolon, tab or pipe: the one giving a stable field count (> 1) over the
    first records, quoted fields respected. Falls back to comma."""
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


def _record_layout(
    buf: bytes, delimiter: str, *, quoting: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Record boundaries, vectorised (quote-aware unless ``quoting=False``).

    Returns (start_line, n_fields, blank) per record: the 1-based file line where the record
    starts, its number of fields, and whether it is blank (pandas skips those).
    """
    arr = np.frombuffer(buf, dtype=np.uint8)
    quotes = np.flatnonzero(arr == ord('"')) if quoting else np.zeros(0, dtype=np.int64)
    newlines = np.flatnonzero(arr == ord("\n"))
    if len(quotes):
        nl_outside = newlines[(np.searchsorted(quotes, newlines) % 2) == 0]
    else:
        nl_outside = newlines
    ends = nl_outside
    if len(arr) and (len(ends) == 0 or ends[-1] != len(arr) - 1):
        ends = np.append(ends, len(arr))
    starts = np.concatenate([[0], ends[:-1] + 1]).astype(np.int64)
    dpos = np.flatnonzero(arr == ord(delimiter))
    if len(quotes) and len(dpos):
        dpos = dpos[(np.searchsorted(quotes, dpos) % 2) == 0]
    rec_of_delim = np.searchsorted(ends, dpos)
    n_fields = np.bincount(rec_of_delim, minlength=len(ends))[: len(ends)] + 1
    start_line = np.searchsorted(newlines, starts) + 1
    length = ends - starts
    blank = length == 0
    candidates = np.flatnonzero(~blank & (n_fields == 1) & (length < 256))
    if len(candidates) < 100_000:  # whitespace-only lines (rare; checked one by one)
        for r in candidates:
            if not buf[starts[r] : ends[r]].strip():
                blank[r] = True
    return start_line.astype(np.int64), n_fields.astype(np.int64), blank


def _read_frame(
    buf: bytes, delimiter: str, file_name: str, *, header: int | None, names: list | None
) -> pd.DataFrame:
    """pandas' C parser, every cell a string; rows pandas skips are listed in ``attrs``."""
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


def read_csv_bytes(data: bytes, file_name: str) -> RawTable:
    """Read an uploaded CSV file (bytes) into an all-string frame.

    Raises
    ------
    DataValidationError
        Empty file, a known binary format (PNG, JPEG, GIF, PDF, xlsx/zip, xls, gzip, Parquet),
        binary junk, no header, or more than half of the rows with a wrong number of fields.
    """
    if not data or not data.strip(b" \t\r\n\x00" + codecs.BOM_UTF8):
        raise DataValidationError(
            "the file is empty. Upload a CSV file with a header line and at least one row.",
            file=file_name,
        )
    _refuse_binary(data, file_name)
    notes: list[str] = []
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
    if not text.strip():
        raise DataValidationError("the file is empty.", file=file_name)
    if text.lstrip()[:14].lower().startswith(("<!doctype html", "<html", "<?xml")):
        raise DataValidationError(
            "this is a web page or XML document, not a CSV file. Upload the CSV export itself.",
            file=file_name,
        )
    delimiter = _sniff_delimiter(text)
    buf = text.encode("utf-8")
    del text

    start_line, n_fields, blank = _record_layout(buf, delimiter)
    records = np.flatnonzero(~blank)
    if len(records) == 0:
        raise DataValidationError("the file is empty.", file=file_name)
    width = int(n_fields[records[0]])
    widest = int(n_fields[records].max())
    parsed = None
    if widest <= max(4 * width, width + 200):
        # every record into `widest` columns; the header row is row 0; we judge field counts
        try:
            parsed = _read_frame(buf, delimiter, file_name, header=None, names=list(range(widest)))
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
    if parsed is not None and len(parsed) == len(records):
        header = parsed.iloc[0, :width].tolist()
        body_records = records[1:]
        body = parsed.iloc[1:]
        if widest > width:  # extra fields: harmless when all empty (trailing separators)
            extra = body.iloc[:, width:]
            too_many = np.zeros(len(body), dtype=bool)
            for column in extra.columns:
                too_many |= (extra[column].str.strip() != "").to_numpy()
        else:
            too_many = np.zeros(len(body), dtype=bool)
        frame = body.iloc[~too_many, :width].reset_index(drop=True)
        frame.columns = _column_names(header)
        line_numbers = start_line[body_records[~too_many]]
        bad_lines = start_line[body_records[too_many]]
        short = n_fields[body_records[~too_many]] < width
        short_lines = line_numbers[short]
    else:  # unusual quoting: let pandas judge; line numbers approximate
        frame = _read_frame(buf, delimiter, file_name, header=0, names=None)
        frame.columns = _column_names(frame.columns)
        bad_lines = np.asarray(frame.attrs.pop("skipped", []), dtype=np.int64)
        short_lines = np.zeros(0, dtype=np.int64)
        plain_line, _, plain_blank = _record_layout(buf, delimiter, quoting=False)
        plain_lines = plain_line[~plain_blank][1:]
        if len(bad_lines) == 0 and len(plain_lines) == len(frame):  # no multi-line cells
            line_numbers = plain_lines
        else:
            line_numbers = np.arange(2, len(frame) + 2, dtype=np.int64)
            notes.append("line numbers in this report are approximate (unusual quoting).")
    if len(bad_lines) and len(bad_lines) > len(frame):
        raise DataValidationError(
            f"{len(bad_lines):,} of {len(bad_lines) + len(frame):,} rows have more fields than "
            f"the header ({len(frame.columns)} columns). Check the separator and the quoting "
            "(text containing the separator must be in double quotes).",
            file=file_name,
            rows=bad_lines[:_MAX_LINES].tolist(),
        )

    # cell hygiene: cut giant cells (vectorised check only when some record is long enough)
    if len(buf) > MAX_CELL_CHARS:
        for column in frame.columns:
            lens = frame[column].str.len().to_numpy()
            long = lens > MAX_CELL_CHARS
            if long.any():
                frame[column] = frame[column].where(
                    ~long, frame[column].str.slice(0, MAX_CELL_CHARS)
                )
                lines = ", ".join(map(str, line_numbers[long][:_MAX_LINES]))
                notes.append(
                    f"column '{column}': {int(long.sum()):,} cell(s) longer than "
                    f"{MAX_CELL_CHARS:,} characters were cut (longest {int(lens.max()):,}; lines {lines})."
                )
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


# --------------------------------------------------------------------------- cleaning helpers
class _Drops:
    """Collects dropped rows by reason; the first reason that matches a row claims it."""

    def __init__(self, line_numbers: np.ndarray) -> None:
        self.lines = line_numbers
        self.keep = np.ones(len(line_numbers), dtype=bool)
        self.counts: dict[str, int] = {}
        self.first_lines: dict[str, list[int]] = {}

    def add(self, reason: str, mask: np.ndarray) -> None:
        hit = np.asarray(mask, dtype=bool) & self.keep
        n = int(hit.sum())
        if n:
            self.counts[reason] = self.counts.get(reason, 0) + n
            self.first_lines.setdefault(reason, self.lines[hit][:_MAX_LINES].tolist())
            self.keep &= ~hit

    def add_lines(self, reason: str, lines: np.ndarray) -> None:
        if len(lines):
            self.counts[reason] = self.counts.get(reason, 0) + len(lines)
            self.first_lines[reason] = np.asarray(lines)[:_MAX_LINES].tolist()


def _strip(s: pd.Series) -> pd.Series:
    return s.astype(str).str.strip()


_FLOAT_ID = re.compile(r"-?\d+\.0+")


def _clean_ids(s: pd.Series, what: str, column: str, notes: list[str]) -> pd.Series:
    """Strip ids; ``17850.0`` -> ``17850`` only when every non-empty id has that form."""
    s = _strip(s)
    nonempty = s[s != ""]
    if len(nonempty) and bool(nonempty.str.fullmatch(_FLOAT_ID.pattern).all()):
        fixed = s.str.replace(r"\.0+$", "", regex=True)
        first = nonempty.iloc[0]
        notes.append(
            f"{what} ids in '{column}' were all written like '{first}'; read as "
            f"'{first.split('.')[0]}' (spreadsheet number format)."
        )
        return fixed
    return s


def _parse_numbers(s: pd.Series) -> pd.Series:
    """Strings -> float64 (NaN when not a finite number). Accepts ``4,5`` decimal commas."""
    codes, uniques = pd.factorize(_strip(s))  # parse each distinct value once
    u = pd.Series(np.asarray(uniques, dtype=object), dtype=object)
    u = u.where(u.str.contains(".", regex=False), u.str.replace(",", ".", regex=False))
    values = pd.to_numeric(u, errors="coerce").to_numpy(dtype="float64", copy=True)
    values[~np.isfinite(values)] = np.nan
    values = np.append(values, np.nan)  # code -1 (missing) -> NaN
    return pd.Series(values[codes], index=s.index, dtype="float64")


# fmt: off
_EVENT_SPELLINGS: dict[str, tuple[str, ...]] = {
    "view": (
        "view", "views", "viewed", "pv", "click", "clicks", "clicked", "pageview", "detail",
        "detailview", "productview", "viewitem", "impressionclick", "浏览", "点击", "查看",
    ),
    "cart": (
        "cart", "addtocart", "add2cart", "addcart", "addedtocart", "basket", "addtobasket", "加购",
        "加入购物车", "购物车",
    ),
    "favorite": (
        "fav", "favorite", "favourite", "favorited", "wishlist", "addtowishlist", "like", "likes",
        "liked", "save", "saved", "收藏", "喜欢",
    ),
    "purchase": (
        "purchase", "purchased", "buy", "bought", "order", "ordered", "transaction", "checkout",
        "sale", "paid", "pay", "购买", "下单", "成交", "支付", "付款",
    ),
    "_cancel": (
        "cancel", "cancelled", "canceled", "cancellation", "return", "returned", "refund",
        "refunded", "removefromcart", "remove", "退货", "退款", "取消", "取消订单",
    ),
}
# fmt: on
_EVENT_LOOKUP: dict[str, str] = {
    spelling: event for event, spellings in _EVENT_SPELLINGS.items() for spelling in spellings
}


def normalize_event(value: str) -> str:
    """One raw event value -> ``view | cart | favorite | purchase | other`` (``_cancel`` for
    cancellations and returns, which ingest drops)."""
    key = re.sub(r"[\s_\-.]+", "", unicodedata.normalize("NFKC", str(value)).lower())
    return _EVENT_LOOKUP.get(key, "other")


def _parse_timestamps(s: pd.Series) -> tuple[pd.Series, str]:
    """Strings -> datetime64[ns] (naive UTC; NaT when unreadable) and a description.

    Parses each distinct value once. Numbers: unix seconds, milliseconds, microseconds or
    nanoseconds by magnitude (or ``YYYYMMDD``); text: the format inferred from the data
    (ISO, ``12/1/2010 8:26`` ...), day-first retried when month-first fails, then per value.
    """
    t = _strip(s)
    codes, uniques = pd.factorize(t)
    u = pd.Series(np.asarray(uniques, dtype=object))
    nonempty = (u != "").to_numpy()
    result = pd.Series(pd.NaT, index=u.index, dtype="datetime64[ns]")
    how = "no values"
    if nonempty.any():
        vals = u[nonempty]
        probe = pd.to_numeric(vals.iloc[:: max(1, len(vals) // 1000)], errors="coerce")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if probe.notna().mean() > 0.5:
                num = pd.to_numeric(vals, errors="coerce")
                mag = float(np.nanmedian(np.abs(num.to_numpy(dtype=float))))
                ints = num.dropna()
                if (
                    (ints % 1 == 0).all()
                    and ints.between(19000101, 21001231).all()
                    and vals.str.len().eq(8).all()
                ):
                    parsed = pd.to_datetime(vals, format="%Y%m%d", errors="coerce")
                    how = "dates YYYYMMDD"
                else:
                    unit, how = (
                        ("ns", "unix nanoseconds") if mag > 1e17 else
                        ("us", "unix microseconds") if mag > 1e14 else
                        ("ms", "unix milliseconds") if mag > 1e11 else
                        ("s", "unix seconds")
                    )  # fmt: skip
                    parsed = pd.to_datetime(num, unit=unit, errors="coerce")
            else:
                parsed = _to_datetime_text(vals)
                how = "dates/times as text"
        result[nonempty] = pd.DatetimeIndex(parsed).as_unit("ns")
    values = result.to_numpy(dtype="datetime64[ns]")[codes]
    return pd.Series(values, index=s.index, dtype="datetime64[ns]"), how


def _to_datetime_text(vals: pd.Series) -> pd.Series:
    def attempt(**kw) -> pd.Series:
        try:
            out = pd.to_datetime(vals, errors="coerce", utc=True, **kw)
            return pd.Series(out.dt.tz_localize(None).to_numpy(), index=vals.index)
        except (ValueError, TypeError, OverflowError):
            return pd.Series(pd.NaT, index=vals.index, dtype="datetime64[ns]")

    best = attempt()
    if best.isna().any():
        for kw in ({"format": "ISO8601"}, {"dayfirst": True}):
            other = attempt(**kw)
            if other.isna().sum() < best.isna().sum():
                best = other
    missing = best.isna()
    if missing.any() and missing.sum() <= 20_000:  # per-value parsing for the stragglers only
        best = best.copy()
        best[missing] = attempt(format="mixed")[missing]
    return best


def _parse_prices(s: pd.Series) -> tuple[pd.Series, int]:
    """Price strings -> float64 (NaN = unknown). Strips currency symbols and thousands
    separators (``$1,299.00``, ``1.299,00 €``, ``¥89``); 0 or negative -> unknown.
    Returns the prices and the number of non-empty values that could not be read."""
    t = _strip(s)
    digits = t.str.replace(r"[^\d.,\-]", "", regex=True)
    european = digits.str.fullmatch(r"-?\d{1,3}(\.\d{3})*,\d{1,2}") | digits.str.fullmatch(
        r"-?\d+,\d{1,2}"
    )
    digits = digits.where(
        ~european, digits.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    )
    digits = digits.where(european, digits.str.replace(",", "", regex=False))
    price = pd.to_numeric(digits, errors="coerce").astype("float64")
    unreadable = int(((t != "") & price.isna()).sum())
    price = price.where(price > 0)
    return price, unreadable


def _item_attributes(frame: pd.DataFrame, notes: list[str]) -> pd.DataFrame:
    """Clean canonical attribute columns in place of a copy: text stripped, price parsed,
    ``price_band`` derived, ``A|B`` categories split into ``category`` + ``genres``."""
    out = frame.copy()
    for column in (Col.TITLE, Col.DESCRIPTION, Col.BRAND, Col.CATEGORY):
        if column in out.columns:
            out[column] = _strip(out[column])
    if Col.CATEGORY in out.columns and bool(out[Col.CATEGORY].str.contains("|", regex=False).any()):
        out["genres"] = out[Col.CATEGORY]
        out[Col.CATEGORY] = out[Col.CATEGORY].str.split("|", n=1).str[0].str.strip()
        notes.append(
            "categories like 'A|B' were split: category = the first one, the full list is in 'genres'."
        )
    if Col.PRICE in out.columns:
        price, unreadable = _parse_prices(out[Col.PRICE])
        if unreadable:
            notes.append(
                f"{unreadable:,} price value(s) could not be read and are treated as unknown."
            )
        n_unknown = int(price.isna().sum())
        if n_unknown:
            notes.append(
                f"price unknown for {n_unknown:,} of {len(price):,} items (empty, 0, negative or "
                "unreadable); their price band is empty."
            )
        out[Col.PRICE] = price
        derived = pd.Series(price_bands(price), index=price.index, dtype=object)
        if Col.PRICE_BAND in out.columns:  # bands the file gives win; blanks are derived
            given = _strip(out[Col.PRICE_BAND]).to_numpy(dtype=object)
            out[Col.PRICE_BAND] = np.where(given != "", given, derived.to_numpy())
            notes.append("price bands were taken from the file's 'price_band' column where given.")
        else:
            out[Col.PRICE_BAND] = derived
    return out


# --------------------------------------------------------------------------- interactions
def clean_interactions(
    raw: RawTable,
    mapping: Mapping[str, str | None] | None = None,
    event_weights: Mapping[str, float] | None = None,
) -> tuple[pd.DataFrame, dict]:
    """Clean an interaction log.

    Parameters
    ----------
    raw : the file as read by :func:`read_csv_bytes`.
    mapping : ``{role: column}`` overrides of the detected roles (``None``/``""`` = no column).
    event_weights : weight per normalised event type; defaults to ``DEFAULT_EVENT_WEIGHTS``.

    Returns
    -------
    events : one row per kept event: ``user_id, item_id`` (str), ``weight`` (float32 > 0) and,
        when the log has them, ``rating`` (float64), ``event`` (str), ``timestamp``
        (datetime64[ns], NaT when unreadable), ``quantity`` (float64).
    parts : ``{"file": FileReport, "item_attributes": DataFrame | None, "warnings": [...],
        "event_counts", "unknown_event_values", "timestamps_missing", "rating_shift"}``.
    """
    weights = {**DEFAULT_EVENT_WEIGHTS, **(event_weights or {})}
    for event, w in weights.items():
        if not (isinstance(w, int | float) and np.isfinite(w) and w > 0):
            raise DataValidationError(
                f"the weight of event '{event}' must be a positive number, not {w!r}."
            )
    name = raw.file_name
    df = raw.frame
    roles = _resolve_mapping(list(df.columns), "interactions", mapping, name)
    if len(df) == 0:
        raise DataValidationError(
            "the file has a header but no data rows.", file=name, rows=raw.bad_lines[:_MAX_LINES]
        )
    report = FileReport(
        kind="interactions",
        name=name,
        encoding=raw.encoding,
        delimiter=raw.delimiter,
        rows_read=raw.n_rows,
        mapping=dict(roles),
        ignored_columns=[c for c in df.columns if c not in roles.values()],
        notes=list(raw.warnings),
    )
    warn: list[str] = []
    drops = _Drops(raw.line_numbers)
    lines = raw.line_numbers

    users = _clean_ids(df[roles["user"]], "user", roles["user"], report.notes)
    items = _clean_ids(df[roles["item"]], "item", roles["item"], report.notes)
    drops.add("no user id", (users == "").to_numpy())
    drops.add("no item id", (items == "").to_numpy())

    # cancellations: Online Retail invoices 'C536379', cancel/return events, negative quantities
    if "order" in roles:
        cancelled = _strip(df[roles["order"]]).str.match(r"^[Cc]\d").to_numpy()
        drops.add(f"cancelled order ('{roles['order']}' starts with C)", cancelled)
    events_norm: np.ndarray | None = None
    unknown: dict[str, int] = {}
    if "event" in roles:
        codes, uniques = pd.factorize(_strip(df[roles["event"]]))
        mapped = np.array([normalize_event(u) for u in uniques] + ["other"], dtype=object)
        events_norm = mapped[codes]  # code -1 (missing) -> "other"
        drops.add("cancellation / return / removal event", events_norm == "_cancel")
        is_unknown = (events_norm == "other") & drops.keep
        if is_unknown.any():
            vc = pd.Series(np.asarray(df[roles["event"]])[is_unknown]).value_counts().head(10)
            unknown = {(str(k) if str(k).strip() else "(empty)"): int(v) for k, v in vc.items()}
    quantity: pd.Series | None = None
    if "quantity" in roles:
        quantity = _parse_numbers(df[roles["quantity"]])
        drops.add(
            f"zero or negative quantity in '{roles['quantity']}' (returns)",
            (quantity <= 0).to_numpy(),
        )
        bad_q = (quantity.isna() & (_strip(df[roles["quantity"]]) != "")).to_numpy() & drops.keep
        if bad_q.any():
            warn.append(
                f"column '{roles['quantity']}': {int(bad_q.sum()):,} quantity value(s) are not "
                f"numbers (lines {_lines(lines[bad_q])}); those rows are kept without a quantity."
            )

    rating: pd.Series | None = None
    rating_shift = 0.0
    if "rating" in roles:
        rcol = roles["rating"]
        raw_r = _strip(df[rcol])
        rating = _parse_numbers(raw_r)
        nonempty = (raw_r != "").to_numpy()
        bad = nonempty & rating.isna().to_numpy()
        n_nonempty = int(nonempty.sum())
        if n_nonempty == 0:
            warn.append(f"column '{rcol}' (rating) is empty; it was ignored.")
            rating = None
            report.mapping.pop("rating", None)
        elif int(bad.sum()) > 0.5 * n_nonempty:
            examples = ", ".join(repr(v) for v in pd.unique(np.asarray(raw_r)[bad])[:3])
            raise DataValidationError(
                f"most values are not numbers (e.g. {examples}), so this is not a rating column. "
                "Fix the values, or map another column as the rating (or none).",
                file=name,
                column=rcol,
                rows=lines[bad][:_MAX_LINES].tolist(),
            )
        else:
            drops.add(f"rating in '{rcol}' is not a number", bad)
            if "event" not in roles:
                drops.add(f"no rating in '{rcol}'", ~nonempty)

    timestamps: pd.Series | None = None
    ts_missing = 0
    if "timestamp" in roles:
        tcol = roles["timestamp"]
        try:
            timestamps, how = _parse_timestamps(df[tcol])
            report.notes.append(f"time read from '{tcol}' as {how}.")
        except Exception:  # noqa: BLE001 - a time column must never crash ingest
            timestamps = pd.Series(pd.NaT, index=df.index, dtype="datetime64[ns]")
        unreadable = timestamps.isna().to_numpy() & drops.keep
        ts_missing = int(unreadable.sum())
        if ts_missing:
            share = ts_missing / max(int(drops.keep.sum()), 1)
            warn.append(
                f"column '{tcol}': {ts_missing:,} time value(s) ({share:.0%}) could not be read "
                f"(lines {_lines(lines[unreadable])}); those rows are kept without a time."
            )

    # drops for wrong field counts come last in the report but were never in the frame
    drops.add_lines("more fields than the header", raw.bad_lines)
    if len(raw.short_lines):
        report.notes.append(
            f"{len(raw.short_lines):,} row(s) had fewer fields than the header; the missing cells "
            f"were left empty (lines {_lines(raw.short_lines)})."
        )

    keep = drops.keep
    out: dict[str, object] = {
        Col.USER: users[keep].reset_index(drop=True),  # stays a pandas string column
        Col.ITEM: items[keep].reset_index(drop=True),
    }
    if events_norm is not None:
        ev = events_norm[keep]
        out[Col.EVENT] = ev
        codes, uniques = pd.factorize(ev)
        table = np.array([weights.get(u, weights["other"]) for u in uniques] + [0.0])
        out[Col.WEIGHT] = table[codes]
    elif rating is not None:
        r = rating.to_numpy()[keep]
        low = float(np.nanmin(r)) if len(r) else 1.0
        if low <= 0:
            rating_shift = 1.0 - low
            warn.append(
                f"ratings go down to {low:g}; weights are rating + {rating_shift:g} so that "
                "every kept row counts positively."
            )
        out[Col.WEIGHT] = r + rating_shift
    elif quantity is not None:
        out[Col.EVENT] = np.full(int(keep.sum()), "purchase", dtype=object)
        out[Col.WEIGHT] = np.full(int(keep.sum()), weights["purchase"])
    else:
        out[Col.WEIGHT] = np.ones(int(keep.sum()))
    if rating is not None:
        out[Col.RATING] = rating.to_numpy()[keep]
    if timestamps is not None:
        out[Col.TIMESTAMP] = timestamps.to_numpy()[keep]
    if quantity is not None:
        out[Col.QUANTITY] = quantity.to_numpy()[keep]
    events = pd.DataFrame(out)
    events[Col.WEIGHT] = events[Col.WEIGHT].astype(np.float32)

    # item attributes carried by the log: first non-empty value per item
    attr_roles = [r for r in _ITEM_ATTRIBUTE_ROLES if r in roles]
    item_attrs: pd.DataFrame | None = None
    if attr_roles and len(events):
        sub = pd.DataFrame(
            {ROLE_COLUMN[r]: _strip(df[roles[r]])[keep].reset_index(drop=True) for r in attr_roles}
        )
        sub = sub.replace("", np.nan)
        sub.insert(0, Col.ITEM, events[Col.ITEM].to_numpy())
        first = sub.groupby(Col.ITEM, sort=False).first().reset_index()
        for column in first.columns:
            if column != Col.ITEM:
                first[column] = first[column].fillna("").astype(str)
        item_attrs = _item_attributes(first, report.notes)

    report.rows_kept = len(events)
    report.dropped = dict(drops.counts)
    report.dropped_lines = dict(drops.first_lines)
    counts: dict[str, int] = {}
    if Col.EVENT in events.columns:
        vc = events[Col.EVENT].value_counts()
        counts = {e: int(vc[e]) for e in EVENT_TYPES if e in vc.index}
    if unknown:
        warn.append(
            f"column '{roles['event']}': {sum(unknown.values()):,} event value(s) not recognised "
            f"({', '.join(list(unknown)[:5])}); counted as 'other' with weight {weights['other']:g}."
        )
    parts = {
        "file": report,
        "item_attributes": item_attrs,
        "warnings": warn,
        "event_counts": counts,
        "unknown_event_values": unknown,
        "timestamps_missing": ts_missing,
        "rating_shift": rating_shift,
    }
    return events, parts


def _lines(lines: np.ndarray) -> str:
    lines = np.asarray(lines)
    text = ", ".join(map(str, lines[:_MAX_LINES].tolist()))
    return text + (", ..." if len(lines) > _MAX_LINES else "")


# --------------------------------------------------------------------------- catalog
def clean_catalog(
    raw: RawTable, mapping: Mapping[str, str | None] | None = None
) -> tuple[pd.DataFrame, dict]:
    """Clean a catalog.

    Returns
    -------
    catalog : one row per item: ``item_id`` (unique str), the canonical attributes found
        (``title, description, category, brand`` str; ``price`` float64 NaN = unknown;
        ``price_band`` str), ``genres`` when categories were ``A|B`` lists, and every other
        column under its own name (str).
    parts : ``{"file": FileReport, "warnings": [...], "duplicates": int}``.
    """
    name = raw.file_name
    df = raw.frame
    roles = _resolve_mapping(list(df.columns), "catalog", mapping, name)
    if len(df) == 0:
        raise DataValidationError("the catalog has a header but no data rows.", file=name)
    extras = [c for c in df.columns if c not in roles.values()]
    report = FileReport(
        kind="catalog",
        name=name,
        encoding=raw.encoding,
        delimiter=raw.delimiter,
        rows_read=raw.n_rows,
        mapping=dict(roles),
        extra_columns=list(extras),
        notes=list(raw.warnings),
    )
    drops = _Drops(raw.line_numbers)
    items = _clean_ids(df[roles["item"]], "item", roles["item"], report.notes)
    drops.add("no item id", (items == "").to_numpy())
    dup = items.duplicated(keep="first").to_numpy()
    drops.add("duplicate item id (first row kept)", dup)
    n_dup = drops.counts.get("duplicate item id (first row kept)", 0)
    drops.add_lines("more fields than the header", raw.bad_lines)
    if len(raw.short_lines):
        report.notes.append(
            f"{len(raw.short_lines):,} row(s) had fewer fields than the header; the missing cells "
            f"were left empty (lines {_lines(raw.short_lines)})."
        )
    keep = drops.keep
    canonical = {ROLE_COLUMN[r] for r in roles} | {"genres"}
    data: dict[str, np.ndarray] = {Col.ITEM: items.to_numpy()[keep]}
    for role, column in roles.items():
        if role != "item":
            data[ROLE_COLUMN[role]] = df[column].to_numpy()[keep]
    for column in extras:
        target = column if column not in canonical else f"{column}_raw"
        data[target] = df[column].to_numpy()[keep]
    catalog = pd.DataFrame(data)
    catalog[Col.ITEM] = catalog[Col.ITEM].astype(str)
    catalog = _item_attributes(catalog, report.notes)
    report.rows_kept = len(catalog)
    report.dropped = dict(drops.counts)
    report.dropped_lines = dict(drops.first_lines)
    warn: list[str] = []
    if len(catalog) == 0:
        raise DataValidationError(
            "no usable catalog rows: every row lacks an item id. Check the item column "
            f"(currently '{roles['item']}').",
            file=name,
            column=roles["item"],
        )
    if n_dup:
        warn.append(
            f"catalog: {n_dup:,} duplicate item id(s); the first row of each was kept "
            f"(lines {_lines(np.asarray(drops.first_lines['duplicate item id (first row kept)']))})."
        )
    return catalog, {"file": report, "warnings": warn, "duplicates": n_dup}


# --------------------------------------------------------------------------- users
def _quartile_bands(values: pd.Series) -> pd.Series:
    """float64 -> quartile band labels ``"18-25"`` (``""`` for NaN); vectorised."""
    known = values.dropna().to_numpy()
    edges = np.unique(np.quantile(known, [0.0, 0.25, 0.5, 0.75, 1.0]))
    if len(edges) < 2:
        return values.map(lambda v: "" if pd.isna(v) else f"{v:g}").astype(str)
    labels = np.asarray([f"{lo:g}-{hi:g}" for lo, hi in zip(edges[:-1], edges[1:], strict=True)])
    code = np.searchsorted(edges[1:-1], values.to_numpy(), side="left")
    code = np.clip(code, 0, len(labels) - 1)
    out = labels[code].astype(object)
    out[values.isna().to_numpy()] = ""
    return pd.Series(out, index=values.index, dtype=object).astype(str)


def clean_users(
    raw: RawTable, mapping: Mapping[str, str | None] | None = None
) -> tuple[pd.DataFrame, dict]:
    """Clean a user attribute table.

    The user id column is found with the same names as the interactions' user column; every
    other column is a candidate attribute (values stripped, kept as str):

    * empty columns are ignored;
    * numeric columns with more than 8 distinct values (age, income ...) become quartile
      bands (``"18-25"``) so LightFM sees a few categories, not hundreds;
    * free text / ids (> ``MAX_USER_ATTRIBUTE_VALUES`` distinct values and more than half of
      them unique) are ignored with a note.

    Returns
    -------
    users : one row per user: ``user_id`` (unique str) + kept attribute columns (str).
    parts : ``{"file": FileReport, "warnings": [...], "duplicates": int, "attributes": [...]}``.
    """
    name = raw.file_name
    df = raw.frame
    roles = _resolve_mapping(list(df.columns), "users", mapping, name)
    if len(df) == 0:
        raise DataValidationError("the user table has a header but no data rows.", file=name)
    report = FileReport(
        kind="users",
        name=name,
        encoding=raw.encoding,
        delimiter=raw.delimiter,
        rows_read=raw.n_rows,
        mapping=dict(roles),
        notes=list(raw.warnings),
    )
    drops = _Drops(raw.line_numbers)
    ids = _clean_ids(df[roles["user"]], "user", roles["user"], report.notes)
    drops.add("no user id", (ids == "").to_numpy())
    drops.add("duplicate user id (first row kept)", ids.duplicated(keep="first").to_numpy())
    n_dup = drops.counts.get("duplicate user id (first row kept)", 0)
    drops.add_lines("more fields than the header", raw.bad_lines)
    keep = drops.keep
    data: dict[str, pd.Series] = {Col.USER: ids[keep].reset_index(drop=True)}
    for column in (c for c in df.columns if c != roles["user"]):
        values = _strip(df[column][keep]).reset_index(drop=True)
        nonempty = values[values != ""]
        if len(nonempty) == 0:
            report.ignored_columns.append(column)
            report.notes.append(f"user column '{column}' is empty; ignored.")
            continue
        numbers = _parse_numbers(nonempty)
        n_distinct = int(nonempty.nunique())
        if numbers.notna().all() and n_distinct > _NUMERIC_BAND_MIN_DISTINCT:
            parsed = pd.Series(np.nan, index=values.index, dtype="float64")
            parsed[nonempty.index] = numbers
            values = _quartile_bands(parsed)
            report.notes.append(f"user column '{column}' is numeric; cut into quartile bands.")
        elif n_distinct > MAX_USER_ATTRIBUTE_VALUES and n_distinct > 0.5 * len(nonempty):
            report.ignored_columns.append(column)
            report.notes.append(
                f"user column '{column}' has {n_distinct:,} distinct values (free text or ids); "
                "ignored."
            )
            continue
        target = column if column != Col.USER else f"{column}_raw"
        data[target] = values
        report.extra_columns.append(column)
    users = pd.DataFrame(data)
    report.rows_kept = len(users)
    report.dropped = dict(drops.counts)
    report.dropped_lines = dict(drops.first_lines)
    if len(users) == 0:
        raise DataValidationError(
            "no usable user rows: every row lacks a user id. Check the user column "
            f"(currently '{roles['user']}').",
            file=name,
            column=roles["user"],
        )
    warn: list[str] = []
    if n_dup:
        warn.append(
            f"user table: {n_dup:,} duplicate user id(s); the first row of each was kept "
            f"(lines {_lines(np.asarray(drops.first_lines['duplicate user id (first row kept)']))})."
        )
    if len(users.columns) == 1:
        warn.append("user table: no usable attribute column; the table is not used.")
    parts = {
        "file": report,
        "warnings": warn,
        "duplicates": n_dup,
        "attributes": list(users.columns[1:]),
    }
    return users, parts


# --------------------------------------------------------------------------- loading
@dataclass(frozen=True)
class LoadResult:
    """What :func:`load_dataset` returns: the dataset, the clean frames and the report."""

    dataset: Dataset
    events: pd.DataFrame
    catalog: pd.DataFrame | None
    report: ReadinessReport
    mappings: dict[str, dict[str, str]]  # {"interactions": {role: column}, "catalog": {...}}
    users: pd.DataFrame | None = None  # clean user table (``user_id`` + attributes) or None


def _read_source(source: Source, default_name: str) -> tuple[bytes, str]:
    if isinstance(source, bytes | bytearray | memoryview):
        return bytes(source), default_name
    path = Path(source)
    return path.read_bytes(), path.name


def _merge_catalog(catalog: pd.DataFrame | None, attrs: pd.DataFrame | None) -> pd.DataFrame | None:
    """Catalog rows first; items known only from the log (with log attributes) appended."""
    if attrs is None:
        return catalog
    if catalog is None:
        return attrs
    extra = attrs[~attrs[Col.ITEM].isin(catalog[Col.ITEM])]
    if len(extra) == 0:
        return catalog
    merged = pd.concat([catalog, extra], ignore_index=True, sort=False)
    if Col.PRICE in merged.columns:  # appended items: bands from the joint price quartiles
        merged[Col.PRICE] = merged[Col.PRICE].astype("float64")
        joint = price_bands(merged[Col.PRICE])
        bands = (
            merged[Col.PRICE_BAND].astype(object).to_numpy() if Col.PRICE_BAND in merged else joint
        )
        bands = bands.copy()
        bands[len(catalog) :] = joint[len(catalog) :]
        merged[Col.PRICE_BAND] = bands
    for column in merged.columns:
        if column != Col.PRICE and not pd.api.types.is_numeric_dtype(merged[column]):
            merged[column] = merged[column].fillna("")
    return merged


def load_dataset(
    interactions: Source,
    catalog: Source | None = None,
    *,
    interactions_name: str | None = None,
    catalog_name: str | None = None,
    interactions_map: Mapping[str, str | None] | None = None,
    catalog_map: Mapping[str, str | None] | None = None,
    event_weights: Mapping[str, float] | None = None,
    name: str = "dataset",
    users: Source | None = None,
    users_name: str | None = None,
    users_map: Mapping[str, str | None] | None = None,
) -> LoadResult:
    """Read, clean and validate an upload; build the ``Dataset``.

    Parameters
    ----------
    interactions, catalog : file bytes or a path.
    interactions_name, catalog_name : file names to show (default: the path's name).
    interactions_map, catalog_map : ``{role: column}`` overrides of detected roles.
    users : optional user attribute table (bytes or a path): a user id column plus
        attributes (see :func:`clean_users`); feeds ``Dataset.users``.
    users_name : file name to show; users_map : ``{"user": column}`` override.
    event_weights : weight per event type (default ``DEFAULT_EVENT_WEIGHTS``).
    name : the dataset label.

    Raises
    ------
    DataValidationError
        When the data cannot be used; the partial :class:`ReadinessReport` is attached as
        ``error.report``.
    OSError
        When a path cannot be read.
    """
    report = ReadinessReport()
    try:
        return _load(
            report, interactions, catalog, interactions_name, catalog_name,
            interactions_map, catalog_map, event_weights, name, users, users_name, users_map,
        )  # fmt: skip
    except DataValidationError as err:
        report.usable = False
        report.errors.append(str(err))
        err.report = report  # type: ignore[attr-defined]
        raise


def _load(
    report: ReadinessReport,
    interactions: Source,
    catalog: Source | None,
    interactions_name: str | None,
    catalog_name: str | None,
    interactions_map: Mapping[str, str | None] | None,
    catalog_map: Mapping[str, str | None] | None,
    event_weights: Mapping[str, float] | None,
    name: str,
    users: Source | None = None,
    users_name: str | None = None,
    users_map: Mapping[str, str | None] | None = None,
) -> LoadResult:
    data, default = _read_source(interactions, "interactions.csv")
    raw = read_csv_bytes(data, interactions_name or default)
    del data
    events, parts = clean_interactions(raw, interactions_map, event_weights)
    ifile: FileReport = parts["file"]
    report.files.append(ifile)
    report.warnings.extend(parts["warnings"])

    cat: pd.DataFrame | None = None
    cfile: FileReport | None = None
    if catalog is not None:
        cdata, cdefault = _read_source(catalog, "catalog.csv")
        craw = read_csv_bytes(cdata, catalog_name or cdefault)
        del cdata
        cat, cparts = clean_catalog(craw, catalog_map)
        cfile = cparts["file"]
        report.files.append(cfile)
        report.warnings.extend(cparts["warnings"])
        report.duplicate_catalog_ids = cparts["duplicates"]

    utable: pd.DataFrame | None = None
    ufile: FileReport | None = None
    if users is not None:
        udata, udefault = _read_source(users, "users.csv")
        uraw = read_csv_bytes(udata, users_name or udefault)
        del udata
        utable, uparts = clean_users(uraw, users_map)
        ufile = uparts["file"]
        report.files.append(ufile)
        report.warnings.extend(uparts["warnings"])
        report.duplicate_user_ids = uparts["duplicates"]
        report.user_attributes = list(uparts["attributes"])

    report.n_events = len(events)
    report.event_counts = parts["event_counts"]
    report.unknown_event_values = parts["unknown_event_values"]
    report.timestamps_missing = parts["timestamps_missing"]
    if len(events) == 0:
        reasons = "; ".join(f"{n:,} {r}" for r, n in ifile.dropped.items()) or "no rows"
        raise DataValidationError(
            f"no usable interaction rows: all {ifile.rows_read:,} rows were dropped ({reasons}). "
            "Check the column mapping and the values.",
            file=ifile.name,
        )
    n_users = int(events[Col.USER].nunique())
    n_items_i = int(events[Col.ITEM].nunique())
    if n_users < 2 or n_items_i < 2:
        who = f"{n_users} user(s)" if n_users < 2 else f"{n_items_i} item(s)"
        role = "user" if n_users < 2 else "item"
        raise DataValidationError(
            f"only {who} with usable interactions; training needs at least 2 users and 2 items. "
            f"Check that the {role} column (currently '{ifile.mapping[role]}') really holds "
            f"{role} ids, or upload more data.",
            file=ifile.name,
            column=ifile.mapping[role],
        )

    merged = _merge_catalog(cat, parts["item_attributes"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dataset = Dataset.construct(events, merged, users=utable, name=name)

    pop = dataset.item_popularity()
    report.n_users = dataset.n_users
    report.n_items = dataset.n_items
    report.n_items_with_interactions = int((pop > 0).sum())
    report.n_pairs = len(dataset.interactions)
    report.density = report.n_pairs / max(report.n_users * report.n_items_with_interactions, 1)
    report.users_with_fewer_than_2 = int((dataset.user_activity() < 2).sum())
    if cat is not None:
        in_catalog = np.zeros(dataset.n_items, dtype=bool)
        in_catalog[dataset.item_ids.to_internal(cat[Col.ITEM])] = True
        report.n_items_in_catalog = int(in_catalog.sum())
        report.items_never_interacted = int((in_catalog & (pop == 0)).sum())
        report.items_missing_from_catalog = int((~in_catalog & (pop > 0)).sum())
    if Col.RATING in events.columns:
        r = events[Col.RATING].dropna()
        if len(r):
            distinct = np.unique(r.to_numpy())
            report.rating_min, report.rating_max = float(distinct[0]), float(distinct[-1])
            report.rating_distinct = len(distinct)
            report.rating_values = [float(v) for v in distinct] if len(distinct) <= 20 else []
    if Col.TIMESTAMP in events.columns:
        ts = events[Col.TIMESTAMP].dropna()
        if len(ts):
            report.time_start = str(ts.min())
            report.time_end = str(ts.max())
    if utable is not None:
        known = dataset.user_ids.to_internal(utable[Col.USER], strict=False)
        report.users_not_in_log = int((known < 0).sum())
        report.n_users_with_attributes = int(dataset.users_with_attributes().sum())
        report.users_without_attributes = report.n_users - report.n_users_with_attributes
        if report.users_not_in_log:
            report.warnings.append(
                f"user table: {report.users_not_in_log:,} user(s) are not in the interactions; "
                "their rows are ignored."
            )
        if report.user_attributes and report.n_users_with_attributes == 0:
            report.warnings.append(
                "user table: no user of the interactions is in it; check that both files use "
                "the same user ids."
            )
    _advise(report, has_catalog=cat is not None)
    report.usable = True
    mappings = {"interactions": dict(ifile.mapping)}
    if cfile is not None:
        mappings["catalog"] = dict(cfile.mapping)
    if ufile is not None:
        mappings["users"] = dict(ufile.mapping)
    user_table = utable if utable is not None and len(utable.columns) > 1 else None
    return LoadResult(
        dataset=dataset,
        events=events,
        catalog=merged,
        report=report,
        mappings=mappings,
        users=user_table,
    )


def _advise(report: ReadinessReport, *, has_catalog: bool) -> None:
    """Warnings that do not block training but change what it can do."""
    w = report.warnings
    ifile = report.file("interactions")
    log_attrs = ifile is not None and any(r in ifile.mapping for r in _ITEM_ATTRIBUTE_ROLES)
    if report.items_missing_from_catalog:
        known = (
            "what the interaction log says about them (title, price ...) is used"
            if log_attrs
            else "they are known by id only (no title, category or price)"
        )
        w.append(
            f"{report.items_missing_from_catalog:,} item(s) in the interactions are not in the "
            f"catalog; {known}."
        )
    if report.n_users and report.users_with_fewer_than_2 > 0.5 * report.n_users:
        w.append(
            f"{report.users_with_fewer_than_2:,} of {report.n_users:,} users have fewer than 2 "
            "interactions; offline evaluation will rely on the other users."
        )
    if ifile is not None and "timestamp" not in ifile.mapping:
        w.append("no time column: temporal splits and trending are not available (random split).")
    if not has_catalog and not log_attrs:
        w.append("no catalog: content-based models have no item text to learn from.")


def load_catalog(
    catalog: Source,
    *,
    catalog_name: str | None = None,
    catalog_map: Mapping[str, str | None] | None = None,
) -> tuple[pd.DataFrame, ReadinessReport]:
    """Read and clean a catalog alone (no training possible; for checking a file).

    Raises ``DataValidationError`` (with ``error.report``) when the file cannot be used.
    """
    report = ReadinessReport()
    try:
        data, default = _read_source(catalog, "catalog.csv")
        cat, parts = clean_catalog(read_csv_bytes(data, catalog_name or default), catalog_map)
    except DataValidationError as err:
        report.errors.append(str(err))
        err.report = report  # type: ignore[attr-defined]
        raise
    report.files.append(parts["file"])
    report.warnings.extend(parts["warnings"])
    report.duplicate_catalog_ids = parts["duplicates"]
    report.n_items = report.n_items_in_catalog = report.items_never_interacted = len(cat)
    report.warnings.append("catalog only: upload interactions too before training.")
    report.usable = True
    return cat, report


def validate(
    interactions: Source | None = None, catalog: Source | None = None, **kwargs
) -> ReadinessReport:
    """The readiness report alone; never raises for bad data (``usable=False`` instead).

    ``kwargs`` are those of :func:`load_dataset` (or of :func:`load_catalog` when only a
    catalog is given).
    """
    try:
        if interactions is None:
            if catalog is None:
                raise DataValidationError("give an interactions file, a catalog file or both.")
            return load_catalog(catalog, **kwargs)[1]
        return load_dataset(interactions, catalog, **kwargs).report
    except DataValidationError as err:
        report = getattr(err, "report", None) or ReadinessReport(errors=[str(err)])
        report.usable = False
        return report
