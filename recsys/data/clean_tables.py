"""Cleaning the three tables of an upload: the interaction log, the catalog, the user table.

Each ``clean_*`` function takes a :class:`~recsys.data.csv_reader.RawTable`, maps its columns to
roles, parses and normalises the values and drops unusable rows, counting every reason with the
first offending file lines. All vectorised; no per-row Python.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from recsys.data.cleaning import (
    EVENT_TYPES,
    Drops,
    clean_ids,
    format_lines,
    item_attributes,
    kept,
    parse_numbers,
    quartile_bands,
    strip_text,
)
from recsys.data.column_roles import ITEM_ATTRIBUTE_ROLES, resolve_mapping
from recsys.data.csv_reader import REPORT_LINES, RawTable
from recsys.data.limits import release_memory
from recsys.data.log_columns import (
    add_weights,
    checked_event_weights,
    event_column,
    quantity_column,
    rating_column,
    timestamp_column,
)
from recsys.data.report import FileReport
from recsys.data.schema import ROLE_COLUMN, Col
from recsys.errors import DataValidationError

#: A user attribute with more distinct values than this, and mostly unique, is free text.
MAX_USER_ATTRIBUTE_VALUES = 50
#: Numeric user attributes with more distinct values than this are cut into quartile bands.
_NUMERIC_BAND_MIN_DISTINCT = 8


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
    weights = checked_event_weights(event_weights)
    name = raw.file_name
    df = raw.frame
    roles = resolve_mapping(list(df.columns), "interactions", mapping, name)
    if len(df) == 0:
        raise DataValidationError(
            "the file has a header but no data rows.",
            file=name,
            rows=list(raw.bad_lines[:REPORT_LINES]),
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
    drops = Drops(raw.line_numbers)

    # The order of the steps is the order of the drop reasons: a row is claimed by the first.
    users = clean_ids(df[roles["user"]], "user", roles["user"], report.notes)
    items = clean_ids(df[roles["item"]], "item", roles["item"], report.notes)
    drops.add("no user id", (users == "").to_numpy())
    drops.add("no item id", (items == "").to_numpy())
    # cancellations: Online Retail invoices 'C536379', cancel/return events, negative quantities
    if "order" in roles:
        cancelled = strip_text(df[roles["order"]]).str.match(r"^[Cc]\d").to_numpy()
        drops.add(f"cancelled order ('{roles['order']}' starts with C)", cancelled)
    events_norm, unknown = event_column(df, roles, drops)
    quantity = quantity_column(df, roles, drops, warn, name)
    rating = rating_column(df, roles, drops, warn, report)
    timestamps, ts_missing = timestamp_column(df, roles, drops, warn, report.notes)
    release_memory()  # the time parser's Arrow scratch, before the kept rows are gathered
    # drops for wrong field counts come last in the report but were never in the frame
    drops.add_lines("more fields than the header", raw.bad_lines)
    if len(raw.short_lines):
        report.notes.append(
            f"{len(raw.short_lines):,} row(s) had fewer fields than the header; the missing cells "
            f"were left empty (lines {format_lines(raw.short_lines)})."
        )

    keep = drops.keep
    out: dict[str, object] = {
        Col.USER: kept(users.array, keep),  # categorical (or strings): no string per row made
        Col.ITEM: kept(items.array, keep),
    }
    rating_shift = add_weights(out, keep, weights, events_norm, rating, quantity, warn)
    if rating is not None:
        out[Col.RATING] = kept(rating.to_numpy(), keep)
    if timestamps is not None:
        out[Col.TIMESTAMP] = kept(timestamps.to_numpy(), keep)
    if quantity is not None:
        out[Col.QUANTITY] = kept(quantity.to_numpy(), keep)
    out[Col.WEIGHT] = np.asarray(out[Col.WEIGHT], dtype=np.float32)
    del users, items, events_norm, rating, timestamps, quantity  # what ``out`` did not keep
    events = pd.DataFrame(out, copy=False)
    item_attrs = _log_item_attributes(df, roles, keep, events, report.notes)

    report.rows_kept = len(events)
    report.dropped = dict(drops.counts)
    report.dropped_lines = dict(drops.first_lines)
    counts: dict[str, int] = {}
    if Col.EVENT in events.columns:
        vc = events[Col.EVENT].value_counts()
        counts = {e: int(vc[e]) for e in EVENT_TYPES if e in vc.index and vc[e] > 0}
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


def _log_item_attributes(
    df: pd.DataFrame,
    roles: Mapping[str, str],
    keep: np.ndarray,
    events: pd.DataFrame,
    notes: list[str],
) -> pd.DataFrame | None:
    """Item attributes carried by the log: the first non-empty value per item, or ``None``."""
    attr_roles = [r for r in ITEM_ATTRIBUTE_ROLES if r in roles]
    if not (attr_roles and len(events)):
        return None
    sub = pd.DataFrame(
        {
            ROLE_COLUMN[r]: strip_text(df[roles[r]])[keep].astype(str).reset_index(drop=True)
            for r in attr_roles
        }
    )
    sub = sub.replace("", np.nan)
    sub.insert(0, Col.ITEM, events[Col.ITEM].to_numpy())
    first = sub.groupby(Col.ITEM, sort=False).first().reset_index()
    for column in first.columns:
        if column != Col.ITEM:
            first[column] = first[column].fillna("").astype(str)
    return item_attributes(first, notes)


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
    roles = resolve_mapping(list(df.columns), "catalog", mapping, name)
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
    drops = Drops(raw.line_numbers)
    items = clean_ids(df[roles["item"]], "item", roles["item"], report.notes)
    drops.add("no item id", (items == "").to_numpy())
    dup = items.duplicated(keep="first").to_numpy()
    drops.add("duplicate item id (first row kept)", dup)
    n_dup = drops.counts.get("duplicate item id (first row kept)", 0)
    drops.add_lines("more fields than the header", raw.bad_lines)
    if len(raw.short_lines):
        report.notes.append(
            f"{len(raw.short_lines):,} row(s) had fewer fields than the header; the missing cells "
            f"were left empty (lines {format_lines(raw.short_lines)})."
        )
    keep = drops.keep
    canonical = {ROLE_COLUMN[r] for r in roles} | {Col.GENRES}
    data: dict[str, np.ndarray] = {Col.ITEM: items.to_numpy()[keep]}
    for role, column in roles.items():
        if role != "item":
            data[ROLE_COLUMN[role]] = df[column].to_numpy()[keep]
    for column in extras:
        target = column if column not in canonical else f"{column}_raw"
        data[target] = df[column].to_numpy()[keep]
    catalog = pd.DataFrame(data)
    catalog[Col.ITEM] = catalog[Col.ITEM].astype(str)
    catalog = item_attributes(catalog, report.notes)
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
            f"(lines {format_lines(np.asarray(drops.first_lines['duplicate item id (first row kept)']))})."
        )
    return catalog, {"file": report, "warnings": warn, "duplicates": n_dup}


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
    roles = resolve_mapping(list(df.columns), "users", mapping, name)
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
    drops = Drops(raw.line_numbers)
    ids = clean_ids(df[roles["user"]], "user", roles["user"], report.notes)
    drops.add("no user id", (ids == "").to_numpy())
    drops.add("duplicate user id (first row kept)", ids.duplicated(keep="first").to_numpy())
    n_dup = drops.counts.get("duplicate user id (first row kept)", 0)
    drops.add_lines("more fields than the header", raw.bad_lines)
    keep = drops.keep
    data: dict[str, pd.Series] = {Col.USER: ids[keep].astype(str).reset_index(drop=True)}
    for column in (c for c in df.columns if c != roles["user"]):
        values = strip_text(df[column][keep]).astype(str).reset_index(drop=True)
        nonempty = values[values != ""]
        if len(nonempty) == 0:
            report.ignored_columns.append(column)
            report.notes.append(f"user column '{column}' is empty; ignored.")
            continue
        numbers = parse_numbers(nonempty)
        n_distinct = int(nonempty.nunique())
        if numbers.notna().all() and n_distinct > _NUMERIC_BAND_MIN_DISTINCT:
            parsed = pd.Series(np.nan, index=values.index, dtype="float64")
            parsed[nonempty.index] = numbers
            values = quartile_bands(parsed)
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
            f"(lines {format_lines(np.asarray(drops.first_lines['duplicate user id (first row kept)']))})."
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


__all__ = ["MAX_USER_ATTRIBUTE_VALUES", "clean_catalog", "clean_interactions", "clean_users"]
