"""Data-readiness report: what ingest read, what it kept, what it dropped and why.

The report is built by :mod:`recsys.data.ingest`; the app shows :meth:`ReadinessReport.to_text`
(or the fields one by one), the CLI prints it and can write :meth:`ReadinessReport.to_dict`
as JSON.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from recsys.jsonable import jsonable

_DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}


def delimiter_name(delimiter: str) -> str:
    """``","`` -> ``"comma"`` and so on (for display)."""
    return _DELIMITER_NAMES.get(delimiter, repr(delimiter))


@dataclass
class FileReport:
    """What happened to one uploaded file.

    Attributes
    ----------
    kind : ``"interactions"``, ``"catalog"`` or ``"users"``.
    name, encoding, delimiter : as found.
    rows_read : data rows in the file (header excluded).
    rows_kept : rows that survived cleaning.
    dropped : reason -> number of rows dropped for it.
    dropped_lines : reason -> first 1-based file line numbers (header = line 1).
    mapping : role -> column taken for it.
    extra_columns : catalog columns kept as item attributes (user table: user attributes).
    ignored_columns : columns not used.
    notes : what ingest changed on purpose (e.g. ``17850.0`` ids read as ``17850``).
    """

    kind: str
    name: str
    encoding: str = ""
    delimiter: str = ","
    rows_read: int = 0
    rows_kept: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    dropped_lines: dict[str, list[int]] = field(default_factory=dict)
    mapping: dict[str, str] = field(default_factory=dict)
    extra_columns: list[str] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class ReadinessReport:
    """Everything a merchandiser needs to judge an upload before training.

    Counts refer to the data after cleaning. ``density = pairs / (users * items with
    interactions)``. ``usable`` is False when the data was refused; ``errors`` then says why.
    """

    files: list[FileReport] = field(default_factory=list)
    n_users: int = 0
    n_items: int = 0
    n_items_with_interactions: int = 0
    n_items_in_catalog: int = 0
    n_events: int = 0
    n_pairs: int = 0
    density: float = 0.0
    users_with_fewer_than_2: int = 0
    items_never_interacted: int = 0
    items_missing_from_catalog: int = 0
    duplicate_catalog_ids: int = 0
    user_attributes: list[str] = field(default_factory=list)  # user table columns kept
    n_users_with_attributes: int = 0  # users of the log with at least one attribute
    users_without_attributes: int = 0  # users of the log absent from the user table
    users_not_in_log: int = 0  # user table rows ignored: the user has no interactions
    duplicate_user_ids: int = 0
    rating_min: float | None = None
    rating_max: float | None = None
    rating_distinct: int = 0
    rating_values: list[float] = field(default_factory=list)  # listed when <= 20 distinct
    event_counts: dict[str, int] = field(default_factory=dict)
    unknown_event_values: dict[str, int] = field(default_factory=dict)
    time_start: str | None = None
    time_end: str | None = None
    timestamps_missing: int = 0
    #: columns that look like personal data: file, column, kind, share, action (no values)
    personal_columns: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    usable: bool = False

    def file(self, kind: str) -> FileReport | None:
        """The report of the ``"interactions"``, ``"catalog"`` or ``"users"`` file, if any."""
        return next((f for f in self.files if f.kind == kind), None)

    # ------------------------------------------------------------------ output
    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict (plain ints, floats, strings; NaN -> None)."""
        return jsonable(asdict(self))

    def to_text(self) -> str:
        """Plain-language summary, one fact per line."""
        out: list[str] = []
        has_log = self.file("interactions") is not None
        if not self.usable:
            out.append("Data is NOT usable.")
        elif has_log:
            out.append("Data is usable for training.")
        else:
            out.append("Catalog is readable (training also needs an interaction log).")
        for f in self.files:
            out.append("")
            out.extend(_file_lines(f))
        if not has_log and self.n_items_in_catalog:
            out.append("")
            out.append(f"Items in the catalog: {self.n_items_in_catalog:,}.")
            if self.duplicate_catalog_ids:
                out.append(f"Duplicate catalog ids (first kept): {self.duplicate_catalog_ids:,}.")
        if has_log and (self.n_users or self.n_items):
            out.append("")
            out.extend(self._log_lines())
        out.extend(self._value_lines())
        if self.warnings:
            out.append("")
            out.extend(f"Warning: {w}" for w in self.warnings)
        if self.errors:
            out.append("")
            out.extend(f"Error: {e}" for e in self.errors)
        return "\n".join(out).strip() + "\n"

    def _log_lines(self) -> list[str]:
        """The counts of the cleaned log: users, items, pairs, catalog and user-table overlap."""
        out = [
            f"Users: {self.n_users:,}; items: {self.n_items:,} "
            f"({self.n_items_with_interactions:,} with interactions, "
            f"{self.n_items_in_catalog:,} in the catalog).",
            f"Interactions: {self.n_events:,} events -> {self.n_pairs:,} user-item pairs; "
            f"density {self.density:.4%}.",
            f"Users with fewer than 2 interactions: {self.users_with_fewer_than_2:,}.",
        ]
        if self.n_items_in_catalog:
            out.append(f"Catalog items nobody interacted with: {self.items_never_interacted:,}.")
            out.append(
                f"Interaction items missing from the catalog: {self.items_missing_from_catalog:,}."
            )
        if self.duplicate_catalog_ids:
            out.append(f"Duplicate catalog ids (first kept): {self.duplicate_catalog_ids:,}.")
        if self.file("users") is not None:
            attrs = ", ".join(self.user_attributes) or "none"
            out.append(
                f"User attributes ({attrs}): {self.n_users_with_attributes:,} users have "
                f"them, {self.users_without_attributes:,} do not; "
                f"{self.users_not_in_log:,} table row(s) without interactions ignored."
            )
            if self.duplicate_user_ids:
                out.append(f"Duplicate user ids (first kept): {self.duplicate_user_ids:,}.")
        return out

    def _value_lines(self) -> list[str]:
        """Ratings, event types and the time span, when the log has them."""
        out: list[str] = []
        if self.rating_min is not None:
            values = (
                " (values: " + ", ".join(f"{v:g}" for v in self.rating_values) + ")"
                if self.rating_values
                else ""
            )
            out.append(
                f"Ratings: {self.rating_min:g} to {self.rating_max:g}, "
                f"{self.rating_distinct} distinct values{values}."
            )
        if self.event_counts:
            counts = ", ".join(f"{k} {v:,}" for k, v in self.event_counts.items())
            out.append(f"Event types: {counts}.")
        if self.unknown_event_values:
            unknown = ", ".join(f"'{k}' ({v:,})" for k, v in self.unknown_event_values.items())
            out.append(f"Event values not recognised (counted as 'other'): {unknown}.")
        if self.time_start:
            out.append(f"Time span: {self.time_start} to {self.time_end}.")
        if self.timestamps_missing:
            out.append(f"Rows without a readable time: {self.timestamps_missing:,}.")
        return out


def _file_lines(f: FileReport) -> list[str]:
    """One file's part of the summary: format, rows, columns, drops and notes."""
    out = [
        f"{f.kind.capitalize()} file '{f.name}': {f.encoding}, "
        f"{delimiter_name(f.delimiter)}-separated; {f.rows_read:,} rows read, "
        f"{f.rows_kept:,} kept."
    ]
    if f.mapping:
        mapped = ", ".join(f"{role} <- '{col}'" for role, col in f.mapping.items())
        out.append(f"  columns used: {mapped}")
    if f.extra_columns:
        what = "user" if f.kind == "users" else "item"
        out.append(f"  kept as {what} attributes: " + ", ".join(f.extra_columns))
    if f.ignored_columns:
        out.append("  not used: " + ", ".join(f.ignored_columns))
    for reason, count in f.dropped.items():
        lines = f.dropped_lines.get(reason, [])
        where = f" (lines {', '.join(map(str, lines))}{', ...' if count > len(lines) else ''})"
        out.append(f"  dropped {count:,} rows: {reason}{where if lines else ''}")
    out.extend(f"  note: {note}" for note in f.notes)
    return out
