"""Cleaning helpers shared by the interaction, catalog and user tables.

Vectorised parsers of numbers, event names, timestamps and prices, and the bookkeeping of
dropped rows.

Each parser reads every distinct value once (``pd.factorize``), so a 2M-row log with a few
thousand distinct values costs a few thousand parses.
"""

from __future__ import annotations

import re
import unicodedata
import warnings

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from recsys.data.csv_reader import REPORT_LINES
from recsys.data.csv_records import map_text
from recsys.data.limits import MAX_PRICE
from recsys.data.prices import price_bands
from recsys.data.schema import Col

#: Normalised event types, in display order.
EVENT_TYPES: tuple[str, ...] = ("view", "cart", "favorite", "purchase", "other")


class Drops:
    """Collects dropped rows by reason; the first reason that matches a row claims it."""

    def __init__(self, line_numbers: np.ndarray) -> None:
        self.lines = line_numbers
        self.keep = np.ones(len(line_numbers), dtype=bool)
        self.counts: dict[str, int] = {}
        self.first_lines: dict[str, list[int]] = {}

    def add(self, reason: str, mask: np.ndarray) -> None:
        """Drop the kept rows where ``mask`` (n_rows,) is true, counted under ``reason``."""
        hit = np.asarray(mask, dtype=bool) & self.keep
        n = int(hit.sum())
        if n:
            self.counts[reason] = self.counts.get(reason, 0) + n
            self.first_lines.setdefault(reason, self.lines[hit][:REPORT_LINES].tolist())
            self.keep &= ~hit

    def add_lines(self, reason: str, lines: np.ndarray) -> None:
        """Count rows that never reached the frame (their file ``lines``) under ``reason``."""
        if len(lines):
            self.counts[reason] = self.counts.get(reason, 0) + len(lines)
            self.first_lines[reason] = np.asarray(lines)[:REPORT_LINES].tolist()


def kept(values, keep: np.ndarray):
    """``values[keep]``: the rows a :class:`Drops` kept; ``values`` itself (no copy) when all are."""
    return values if keep.all() else values[keep]


def distinct(s: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """``(codes, values)`` as ``pd.factorize``: each distinct value once (object array).

    Each row's code indexes ``values`` (-1 when missing); a categorical column's own codes
    and categories are used as they are (no hash of millions of rows).
    """
    if isinstance(s.dtype, pd.CategoricalDtype):
        cat = s.array
        return np.asarray(cat.codes), np.asarray(cat.categories, dtype=object)
    codes, uniques = pd.factorize(s)
    return codes, np.asarray(uniques, dtype=object)


def strip_text(s: pd.Series) -> pd.Series:
    """Values as ``str``, leading and trailing whitespace removed.

    A categorical column (as ``read_csv_bytes`` gives) stays categorical: only its distinct
    values are stripped.
    """
    if isinstance(s.dtype, pd.CategoricalDtype):
        return map_text(s, lambda c: c.str.strip())
    return s.astype(str).str.strip()


_FLOAT_ID = re.compile(r"-?\d+\.0+")


def clean_ids(s: pd.Series, what: str, column: str, notes: list[str]) -> pd.Series:
    """Strip ids; ``17850.0`` -> ``17850`` only when every non-empty id has that form."""
    s = strip_text(s)
    nonempty = (s != "").to_numpy()
    if nonempty.any() and bool(s.str.fullmatch(_FLOAT_ID.pattern).to_numpy(bool)[nonempty].all()):
        fixed = map_text(s, lambda c: c.str.replace(r"\.0+$", "", regex=True))
        first = str(s.iloc[int(np.argmax(nonempty))])
        notes.append(
            f"{what} ids in '{column}' were all written like '{first}'; read as "
            f"'{first.split('.')[0]}' (spreadsheet number format)."
        )
        return fixed
    return s


def parse_numbers(s: pd.Series) -> pd.Series:
    """Strings -> float64 (NaN when not a finite number). Accepts ``4,5`` decimal commas."""
    codes, uniques = distinct(strip_text(s))  # parse each distinct value once
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
    """One raw event value -> ``view | cart | favorite | purchase | other``.

    ``_cancel`` for cancellations and returns, which ingest drops.
    """
    key = re.sub(r"[\s_\-.]+", "", unicodedata.normalize("NFKC", str(value)).lower())
    return _EVENT_LOOKUP.get(key, "other")


#: ISO 8601 dates and times without a zone (``2024-01-31``, ``2024-01-31 08:26[:05[.123]]``).
_ISO_NAIVE = r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?)?$"


def _iso_timestamps(s: pd.Series) -> pd.Series | None:
    """Zone-less ISO times parsed by Arrow, without a Python object per value; else None.

    The common case of a large log, and the cheap one: the other formats build a Python string
    per distinct value (about 1.3 GB more on a 6M-row log). Empty cells are NaT; one value
    that is not such a time, or not a real date (``2024-02-30``), sends the column the long way.
    """
    try:
        arr = pa.chunked_array([pa.array(s.array)])  # pandas' Arrow strings: no copy
        if not pa.types.is_string(arr.type) and not pa.types.is_large_string(arr.type):
            arr = arr.cast(pa.large_string())
        if pc.any(pc.match_substring_regex(arr, r"^\s|\s$")).as_py():  # copy only if needed
            arr = pc.utf8_trim_whitespace(arr)
        empty = pc.equal(arr, "")
        if not pc.all(pc.or_(pc.match_substring_regex(arr, _ISO_NAIVE), empty)).as_py():
            return None
        if pc.any(empty).as_py():
            arr = pc.if_else(empty, pa.scalar(None, arr.type), arr)
        times = pc.cast(arr, pa.timestamp("ns"))
        del arr
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return None
    ns = pc.fill_null(times.cast(pa.int64()), np.iinfo(np.int64).min).to_numpy()
    return pd.Series(ns.view("datetime64[ns]"), index=s.index, dtype="datetime64[ns]")


def parse_timestamps(s: pd.Series) -> tuple[pd.Series, str]:
    """Strings -> datetime64[ns] (naive UTC; NaT when unreadable) and a description.

    Parses each distinct value once. Numbers: unix seconds, milliseconds, microseconds or
    nanoseconds by magnitude (or ``YYYYMMDD``); text: zone-less ISO by Arrow when every value
    is one, else the format inferred from the data (ISO, ``12/1/2010 8:26`` ...), day-first
    retried when month-first fails, then per value.
    """
    if isinstance(s.dtype, pd.CategoricalDtype):  # each distinct value parsed once
        cat = s.array
        parsed, how = parse_timestamps(pd.Series(cat.categories))
        values = np.append(parsed.to_numpy(dtype="datetime64[ns]"), np.datetime64("NaT", "ns"))
        return pd.Series(values[cat.codes], index=s.index, dtype="datetime64[ns]"), how
    iso = _iso_timestamps(s) if len(s) else None
    if iso is not None and iso.notna().any():
        return iso, "dates/times as text"
    t = strip_text(s)
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


def parse_prices(s: pd.Series) -> tuple[pd.Series, int]:
    """Price strings -> (prices float64, NaN = unknown; count of unreadable non-empty values).

    Strips currency symbols and thousands separators (``$1,299.00``, ``1.299,00 €``,
    ``¥89``); 0 or negative -> unknown; beyond ``MAX_PRICE`` (or not finite) -> unreadable.
    """
    t = strip_text(s)
    digits = t.str.replace(r"[^\d.,\-]", "", regex=True)
    european = digits.str.fullmatch(r"-?\d{1,3}(\.\d{3})*,\d{1,2}") | digits.str.fullmatch(
        r"-?\d+,\d{1,2}"
    )
    digits = digits.where(
        ~european, digits.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    )
    digits = digits.where(european, digits.str.replace(",", "", regex=False))
    price = pd.to_numeric(digits, errors="coerce").astype("float64")
    price = price.where(price.abs() <= MAX_PRICE)  # also inf: 400 digits are not a price
    unreadable = int(((t != "") & price.isna()).sum())
    price = price.where(price > 0)
    return price, unreadable


def item_attributes(frame: pd.DataFrame, notes: list[str]) -> pd.DataFrame:
    """A copy of ``frame`` with its canonical attribute columns cleaned.

    Text stripped, price parsed, ``price_band`` derived, ``A|B`` categories split into
    ``category`` + ``genres``.
    """
    out = frame.copy()
    for column in (Col.TITLE, Col.DESCRIPTION, Col.BRAND, Col.CATEGORY):
        if column in out.columns:
            out[column] = strip_text(out[column])
    if Col.CATEGORY in out.columns and bool(out[Col.CATEGORY].str.contains("|", regex=False).any()):
        out[Col.GENRES] = out[Col.CATEGORY]
        out[Col.CATEGORY] = out[Col.CATEGORY].str.split("|", n=1).str[0].str.strip()
        notes.append(
            "categories like 'A|B' were split: category = the first one, the full list is in 'genres'."
        )
    if Col.PRICE in out.columns:
        price, unreadable = parse_prices(out[Col.PRICE])
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
            given = strip_text(out[Col.PRICE_BAND]).to_numpy(dtype=object)
            out[Col.PRICE_BAND] = np.where(given != "", given, derived.to_numpy())
            notes.append("price bands were taken from the file's 'price_band' column where given.")
        else:
            out[Col.PRICE_BAND] = derived
    return out


def format_lines(lines: np.ndarray) -> str:
    """The first ``REPORT_LINES`` line numbers, comma-separated, ``...`` when there are more."""
    lines = np.asarray(lines)
    text = ", ".join(map(str, lines[:REPORT_LINES].tolist()))
    return text + (", ..." if len(lines) > REPORT_LINES else "")


def quartile_bands(values: pd.Series) -> pd.Series:
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


__all__ = [
    "EVENT_TYPES",
    "Drops",
    "clean_ids",
    "distinct",
    "format_lines",
    "item_attributes",
    "kept",
    "normalize_event",
    "parse_numbers",
    "parse_prices",
    "parse_timestamps",
    "quartile_bands",
    "strip_text",
]
