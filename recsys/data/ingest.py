"""Ingest: uploaded CSV bytes -> clean events + catalog + :class:`ReadinessReport` -> ``Dataset``.

Pipeline (all vectorised; no per-row Python), one module per step; this module is the facade
that keeps every public name importable from ``recsys.data.ingest``:

1. :func:`read_csv_bytes` (:mod:`recsys.data.csv_reader`, parsing with pyarrow's CSV reader)
   refuses non-CSV files (images, Excel, PDF, binary junk), finds the encoding (UTF-8, UTF-8
   with BOM, GBK/GB18030, UTF-16 with BOM, else charset-normalizer's guess) and the delimiter
   (comma, semicolon, tab, pipe; quote-aware), and reads every column as a string, so ids are
   strings end to end (``00123`` stays ``00123``). It records the file line of each row,
   removes NUL bytes and truncates cells longer than ``MAX_CELL_CHARS``.
2. :func:`detect_roles` (:mod:`recsys.data.column_roles`) maps columns to roles from common
   English / Chinese names (case-, space- and underscore-insensitive); an explicit
   ``{role: column}`` mapping wins.
3. :func:`clean_interactions`, :func:`clean_catalog` and :func:`clean_users`
   (:mod:`recsys.data.clean_tables`; value parsers in :mod:`recsys.data.cleaning`) parse,
   normalise and drop bad rows, counting each reason with the first offending line numbers.
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

import logging
import os
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from recsys.data.clean_tables import (
    MAX_USER_ATTRIBUTE_VALUES,
    clean_catalog,
    clean_interactions,
    clean_users,
)
from recsys.data.cleaning import EVENT_TYPES, normalize_event
from recsys.data.column_roles import ITEM_ATTRIBUTE_ROLES, detect_roles, role_aliases
from recsys.data.csv_reader import MAX_CELL_CHARS, RawTable, check_upload_cost, read_csv_bytes
from recsys.data.dataset import Dataset
from recsys.data.limits import SAMPLE_BYTES, release_memory
from recsys.data.prices import price_bands
from recsys.data.privacy import screen_personal
from recsys.data.report import FileReport, ReadinessReport
from recsys.data.schema import Col
from recsys.errors import DataValidationError, warnings_logged

log = logging.getLogger(__name__)

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

Source = bytes | str | Path


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
    """The file's bytes and name; a path is judged (size, columns, memory) before it is read."""
    if isinstance(source, bytes | bytearray | memoryview):
        return bytes(source), default_name
    path = Path(source)
    with path.open("rb") as fh:
        check_upload_cost(os.fstat(fh.fileno()).st_size, fh.read(SAMPLE_BYTES), path.name)
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
    personal: str = "keep",
    personal_key: bytes | None = None,
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
    personal : what to do with columns that look like personal data
        (``recsys.data.privacy``): ``keep`` (only reported), ``drop`` or ``hash``
        (HMAC-SHA-256 with ``personal_key``); id columns are hashed, never dropped.

    Raises
    ------
    DataValidationError
        When the data cannot be used; the partial :class:`ReadinessReport` is attached as
        ``error.report``.
    OSError
        When a path cannot be read.
    """
    report = ReadinessReport()
    t0 = time.perf_counter()
    try:
        with warnings_logged("reading the upload"):
            result = _load(
                report, interactions, catalog, interactions_name, catalog_name,
                interactions_map, catalog_map, event_weights, name, users, users_name, users_map,
                (personal, personal_key),
            )  # fmt: skip
    except DataValidationError as err:
        report.usable = False
        report.errors.append(str(err))
        err.report = report  # type: ignore[attr-defined]
        log.info("data refused after %.1f s (the user sees why)", time.perf_counter() - t0)
        raise
    log.info(
        "data loaded: %d events -> %d users x %d items, %d pairs, %d warning(s), %.1f s",
        report.n_events,
        report.n_users,
        report.n_items,
        report.n_pairs,
        len(report.warnings),
        time.perf_counter() - t0,
    )
    return result


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
    personal: tuple[str, bytes | None] = ("keep", None),
) -> LoadResult:
    data, default = _read_source(interactions, "interactions.csv")
    raw = screen_personal(
        report,
        read_csv_bytes(data, interactions_name or default),
        "interactions",
        personal,
        interactions_map,
    )
    del data
    events, parts = clean_interactions(raw, interactions_map, event_weights)
    del raw  # the raw table: hundreds of MB on a large log
    release_memory()
    ifile: FileReport = parts["file"]
    report.files.append(ifile)
    report.warnings.extend(parts["warnings"])

    cat: pd.DataFrame | None = None
    cfile: FileReport | None = None
    if catalog is not None:
        cdata, cdefault = _read_source(catalog, "catalog.csv")
        craw = screen_personal(
            report,
            read_csv_bytes(cdata, catalog_name or cdefault),
            "catalog",
            personal,
            catalog_map,
        )
        del cdata
        cat, cparts = clean_catalog(craw, catalog_map)
        del craw
        cfile = cparts["file"]
        report.files.append(cfile)
        report.warnings.extend(cparts["warnings"])
        report.duplicate_catalog_ids = cparts["duplicates"]

    utable: pd.DataFrame | None = None
    ufile: FileReport | None = None
    if users is not None:
        udata, udefault = _read_source(users, "users.csv")
        uraw = screen_personal(
            report, read_csv_bytes(udata, users_name or udefault), "users", personal, users_map
        )
        del udata
        utable, uparts = clean_users(uraw, users_map)
        del uraw
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
    _advise_catalog(report, merged)
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
    log_attrs = ifile is not None and any(r in ifile.mapping for r in ITEM_ATTRIBUTE_ROLES)
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
    _advise_size(report)


#: Readiness thresholds: a warning above this share of dropped rows in a file ...
MAX_DROPPED_SHARE = 0.05
#: ... below this many days between the first and the last event ...
MIN_SPAN_DAYS = 14
#: ... and above this share of catalog items without a price.
MAX_MISSING_PRICE_SHARE = 0.2


def _advise_size(report: ReadinessReport) -> None:
    """Warnings about how much of the upload is usable: drop rate, time span, repeat users."""
    w = report.warnings
    for f in report.files:
        if f.rows_read and (f.rows_read - f.rows_kept) / f.rows_read > MAX_DROPPED_SHARE:
            share = (f.rows_read - f.rows_kept) / f.rows_read
            w.append(
                f"{f.kind} file '{f.name}': {share:.0%} of its rows were dropped "
                f"({f.rows_read - f.rows_kept:,} of {f.rows_read:,}); check the reasons in the "
                "file's report and the column mapping before training."
            )
    if report.time_start and report.time_end:
        span = pd.Timestamp(report.time_end) - pd.Timestamp(report.time_start)
        if span < pd.Timedelta(days=MIN_SPAN_DAYS):
            w.append(
                f"the interactions cover only {span.total_seconds() / 86400:.1f} days "
                f"({report.time_start[:10]} to {report.time_end[:10]}): a temporal test split "
                "holds the last hours or days, which may not be typical."
            )


def _advise_catalog(report: ReadinessReport, catalog: pd.DataFrame | None) -> None:
    """Warnings about the catalog: titles shared by several items, prices mostly missing."""
    if catalog is None or not len(catalog):
        return
    w = report.warnings
    if Col.TITLE in catalog.columns:
        titles = catalog[Col.TITLE].astype("string").str.strip()
        titles = titles[titles.notna() & (titles != "")]
        shared = titles[titles.duplicated(keep=False)]
        if len(shared):
            w.append(
                f"{shared.nunique():,} title(s) are shared by {len(shared):,} items (e.g. "
                f"'{shared.iloc[0]}'): shoppers cannot tell these items apart; add the variant "
                "(colour, size) to the title."
            )
    if Col.PRICE in catalog.columns:
        missing = float(catalog[Col.PRICE].isna().mean())
        if missing > MAX_MISSING_PRICE_SHARE:
            w.append(
                f"{missing:.0%} of the items have no price: price filters and rules leave them out."
            )


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
