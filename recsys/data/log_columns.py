"""The value columns of an interaction log: events, quantities, ratings, times, weights.

Each parser reads one column of the raw table (all strings), drops the rows it cannot use
through the shared :class:`~recsys.data.cleaning.Drops` and returns typed values. Numbers that
are not ordinary numbers (not finite, or beyond ``±MAX_ABS_VALUE`` once parsed, such as
``1e308``) are refused with the file, column and lines: they would overflow later, in weights,
sums and model training. All vectorised; no per-row Python.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from recsys.data.cleaning import (
    Drops,
    distinct,
    format_lines,
    kept,
    normalize_event,
    parse_numbers,
    parse_timestamps,
    strip_text,
)
from recsys.data.csv_reader import REPORT_LINES
from recsys.data.limits import MAX_ABS_VALUE
from recsys.data.report import FileReport
from recsys.data.schema import DEFAULT_EVENT_WEIGHTS, Col
from recsys.errors import DataValidationError

_NON_FINITE_TEXT = r"[+-]?(?:nan|inf|infinity)"


def bounded_numbers(
    raw: pd.Series, column: str, what: str, drops: Drops, file_name: str
) -> pd.Series:
    """``parse_numbers(raw)``, refusing values that are not ordinary numbers.

    Raises
    ------
    DataValidationError
        When a kept row holds ``inf``, ``nan``, a number too large for a float (``1e309``) or
        one beyond ``±MAX_ABS_VALUE`` (``1e308``); names the file, column and first lines.
    """
    values = parse_numbers(raw)
    text = strip_text(raw)
    codes, uniques = distinct(text)  # judge each distinct value once
    u = pd.Series(np.asarray(uniques, dtype=object), dtype=object)
    spelled = u.str.fullmatch(_NON_FINITE_TEXT, case=False).to_numpy(dtype=bool)
    parsed = pd.to_numeric(
        u.where(u.str.contains(".", regex=False), u.str.replace(",", ".", regex=False)),
        errors="coerce",
    ).to_numpy(dtype="float64")
    with np.errstate(invalid="ignore"):
        huge = np.isinf(parsed) | (np.abs(parsed) > MAX_ABS_VALUE)
    bad = np.append(spelled | huge, False)[codes] & drops.keep
    if bad.any():
        examples = ", ".join(repr(v) for v in pd.unique(text.to_numpy()[bad])[:3])
        raise DataValidationError(
            f"{int(bad.sum()):,} {what} value(s) are not ordinary numbers (e.g. {examples}): "
            f"{what}s must be finite and between -{MAX_ABS_VALUE:,.0f} and "
            f"{MAX_ABS_VALUE:,.0f}. Fix or remove these rows, then upload again.",
            file=file_name,
            column=column,
            rows=drops.lines[bad][:REPORT_LINES].tolist(),
            code="data.number_range",
            params={"what": what, "count": int(bad.sum()), "limit": MAX_ABS_VALUE},
        )
    return values


def checked_event_weights(event_weights: Mapping[str, float] | None) -> dict[str, float]:
    """The default event weights updated by ``event_weights``; each must be finite and > 0."""
    weights = {**DEFAULT_EVENT_WEIGHTS, **(event_weights or {})}
    for event, w in weights.items():
        ok = isinstance(w, int | float) and not isinstance(w, bool)
        if not (ok and np.isfinite(w) and 0 < w <= MAX_ABS_VALUE):
            raise DataValidationError(
                f"the weight of event '{event}' must be a positive number up to "
                f"{MAX_ABS_VALUE:,.0f}, not {w!r}.",
                code="data.event_weight",
                params={"event": event, "limit": MAX_ABS_VALUE},
            )
    return weights


def event_column(
    df: pd.DataFrame, roles: Mapping[str, str], drops: Drops
) -> tuple[pd.Categorical | None, dict[str, int]]:
    """Normalised events, (n_rows,) categorical, and the unrecognised values with their counts.

    Drops cancellation / return events; ``(None, {})`` without an event column.
    """
    if "event" not in roles:
        return None, {}
    codes, uniques = distinct(strip_text(df[roles["event"]]))
    mapped, names = pd.factorize(
        pd.Series([normalize_event(u) for u in uniques] + ["other"], dtype=object)
    )
    # code -1 (missing) -> "other"; one small code per row
    events_norm = pd.Categorical.from_codes(mapped[codes], pd.Index(names, dtype=str))
    drops.add("cancellation / return / removal event", events_norm == "_cancel")
    unknown: dict[str, int] = {}
    is_unknown = (events_norm == "other") & drops.keep
    if is_unknown.any():
        vc = pd.Series(np.asarray(df[roles["event"]])[is_unknown]).value_counts().head(10)
        unknown = {(str(k) if str(k).strip() else "(empty)"): int(v) for k, v in vc.items()}
    return events_norm, unknown


def quantity_column(
    df: pd.DataFrame, roles: Mapping[str, str], drops: Drops, warn: list[str], name: str
) -> pd.Series | None:
    """Quantities (float64, NaN when unreadable); drops rows with a quantity <= 0 (returns)."""
    if "quantity" not in roles:
        return None
    quantity = bounded_numbers(df[roles["quantity"]], roles["quantity"], "quantity", drops, name)
    drops.add(
        f"zero or negative quantity in '{roles['quantity']}' (returns)",
        (quantity <= 0).to_numpy(),
    )
    bad_q = (quantity.isna() & (strip_text(df[roles["quantity"]]) != "")).to_numpy() & drops.keep
    if bad_q.any():
        warn.append(
            f"column '{roles['quantity']}': {int(bad_q.sum()):,} quantity value(s) are not "
            f"numbers (lines {format_lines(drops.lines[bad_q])}); those rows are kept without a quantity."
        )
    return quantity


def rating_column(
    df: pd.DataFrame,
    roles: Mapping[str, str],
    drops: Drops,
    warn: list[str],
    report: FileReport,
) -> pd.Series | None:
    """Ratings (float64), or ``None`` when there is no rating column or it is empty.

    Raises
    ------
    DataValidationError
        When most non-empty values are not numbers (the column is not a rating).
    """
    if "rating" not in roles:
        return None
    rcol = roles["rating"]
    raw_r = strip_text(df[rcol])
    rating = bounded_numbers(raw_r, rcol, "rating", drops, report.name)
    nonempty = (raw_r != "").to_numpy()
    bad = nonempty & rating.isna().to_numpy()
    n_nonempty = int(nonempty.sum())
    if n_nonempty == 0:
        warn.append(f"column '{rcol}' (rating) is empty; it was ignored.")
        report.mapping.pop("rating", None)
        return None
    if int(bad.sum()) > 0.5 * n_nonempty:
        examples = ", ".join(repr(v) for v in pd.unique(np.asarray(raw_r)[bad])[:3])
        raise DataValidationError(
            f"most values are not numbers (e.g. {examples}), so this is not a rating column. "
            "Fix the values, or map another column as the rating (or none).",
            file=report.name,
            column=rcol,
            rows=drops.lines[bad][:REPORT_LINES].tolist(),
        )
    drops.add(f"rating in '{rcol}' is not a number", bad)
    if "event" not in roles:
        drops.add(f"no rating in '{rcol}'", ~nonempty)
    return rating


def timestamp_column(
    df: pd.DataFrame,
    roles: Mapping[str, str],
    drops: Drops,
    warn: list[str],
    notes: list[str],
) -> tuple[pd.Series | None, int]:
    """Timestamps (datetime64[ns], NaT when unreadable) and how many kept rows have none."""
    if "timestamp" not in roles:
        return None, 0
    tcol = roles["timestamp"]
    try:
        timestamps, how = parse_timestamps(df[tcol])
        notes.append(f"time read from '{tcol}' as {how}.")
    except Exception:  # noqa: BLE001 - a time column must never crash ingest
        timestamps = pd.Series(pd.NaT, index=df.index, dtype="datetime64[ns]")
    unreadable = timestamps.isna().to_numpy() & drops.keep
    ts_missing = int(unreadable.sum())
    if ts_missing:
        share = ts_missing / max(int(drops.keep.sum()), 1)
        warn.append(
            f"column '{tcol}': {ts_missing:,} time value(s) ({share:.0%}) could not be read "
            f"(lines {format_lines(drops.lines[unreadable])}); those rows are kept without a time."
        )
    return timestamps, ts_missing


def add_weights(
    out: dict[str, object],
    keep: np.ndarray,
    weights: Mapping[str, float],
    events_norm: pd.Categorical | None,
    rating: pd.Series | None,
    quantity: pd.Series | None,
    warn: list[str],
) -> float:
    """Put ``weight`` (and ``event`` when implied) into ``out``; return the rating shift.

    The weight comes from the event (``weights``), else the rating (shifted up to stay > 0),
    else a quantity (each row a purchase), else 1.
    """
    rating_shift = 0.0
    if events_norm is not None:
        ev = kept(events_norm, keep)
        out[Col.EVENT] = ev  # categorical: a few distinct values
        table = np.array([weights.get(u, weights["other"]) for u in ev.categories] + [0.0])
        out[Col.WEIGHT] = table.astype(np.float32)[ev.codes]  # float32, as the events keep it
    elif rating is not None:
        r = kept(rating.to_numpy(), keep)
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
    return rating_shift


__all__ = [
    "add_weights",
    "bounded_numbers",
    "checked_event_weights",
    "event_column",
    "quantity_column",
    "rating_column",
    "timestamp_column",
]
