"""Outcome files of an online A/B test: columns recognised, values checked, one row per user.

An outcomes CSV has a user id column (the names the interaction log accepts), a variant column
and any subset of ``impressions``, ``clicks``, ``orders``, ``revenue``. ``read_outcomes`` reads
it as an upload is read (``recsys.data.csv_reader``) and ``prepare_outcomes`` turns it into the
per-user frame ``recsys.evaluation.abtest.analyse`` takes; a bad cell is reported with its
file, column and lines.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from recsys.data.cleaning import parse_numbers, parse_prices
from recsys.data.column_roles import resolve_mapping
from recsys.data.csv_reader import read_csv_source
from recsys.errors import DataValidationError

#: Outcome columns, each recognised by these names (case, spaces, ``_`` and ``-`` ignored).
OUTCOME_ALIASES: dict[str, tuple[str, ...]] = {
    "variant": ("variant", "group", "arm", "bucket", "treatment", "variation", "实验组", "分组"),
    "impressions": ("impressions", "impression", "exposures", "shown", "曝光", "曝光数"),
    "clicks": ("clicks", "click", "点击", "点击数"),
    "orders": ("orders", "order", "conversions", "purchases", "订单", "订单数"),
    "revenue": ("revenue", "sales", "gmv", "amount", "收入", "销售额"),
}
OUTCOME_METRICS: tuple[str, ...] = ("impressions", "clicks", "orders", "revenue")


def _norm(name: str) -> str:
    return "".join(ch for ch in str(name).lower() if ch not in " _-.")


def outcome_roles(columns: Sequence[str]) -> dict[str, str]:
    """Which column is the variant, impressions, clicks, orders, revenue (those found)."""
    keys = {_norm(c): c for c in columns}
    out = {}
    for role, aliases in OUTCOME_ALIASES.items():
        hit = next((keys[_norm(a)] for a in aliases if _norm(a) in keys), None)
        if hit is not None:
            out[role] = hit
    return out


def prepare_outcomes(
    frame: pd.DataFrame,
    user_column: str,
    *,
    file_name: str = "outcomes.csv",
    line_numbers: np.ndarray | None = None,
    assignment: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per user: ``user_id, variant`` and the outcome columns found, as numbers.

    Several rows of a user are summed. Bad cells (not a number, negative, more clicks than
    impressions, a user in two variants) raise ``DataValidationError`` naming the file, the
    column and the first lines. With ``assignment`` (``user_id, variant``) the variant may be
    missing from the outcomes, and assigned users without a row count as zeros.
    """
    lines = np.arange(2, len(frame) + 2) if line_numbers is None else np.asarray(line_numbers)
    roles = outcome_roles([c for c in frame.columns if c != user_column])
    metrics = [m for m in OUTCOME_METRICS if m in roles]
    if not metrics:
        raise DataValidationError(
            "no outcome column found: name one impressions, clicks, orders or revenue.",
            file=file_name,
        )
    out = pd.DataFrame({"user_id": frame[user_column].astype(str).str.strip()})
    blank = (out["user_id"] == "").to_numpy()
    if blank.any():
        raise DataValidationError(
            f"{int(blank.sum()):,} rows have no user id.",
            file=file_name,
            column=user_column,
            rows=lines[blank],
        )
    for m in metrics:
        raw = frame[roles[m]].astype(str).str.strip()
        raw = raw.where(raw != "", "0")  # an empty cell: nothing happened
        values = parse_numbers(raw)
        if m == "revenue":  # currency symbols and thousands separators, as prices
            values = parse_prices(raw)[0].where(lambda v: v.notna(), values)
        bad = values.isna().to_numpy() | (values.to_numpy() < 0)
        if bad.any():
            raise DataValidationError(
                f"{int(bad.sum()):,} cells are not non-negative numbers.",
                file=file_name,
                column=roles[m],
                rows=lines[bad],
            )
        out[m] = values.to_numpy(np.float64)
    if "variant" in roles:
        out["variant"] = frame[roles["variant"]].astype(str).str.strip()
    elif assignment is None:
        raise DataValidationError(
            "no variant column found (variant, group, arm ...); add one or give the "
            "assignment file.",
            file=file_name,
        )
    if assignment is not None:
        out = _with_assignment(out, assignment, metrics, file_name, lines)
    if "clicks" in metrics and "impressions" in metrics:
        bad = (out["clicks"] > out["impressions"]).to_numpy()
        if bad.any():
            raise DataValidationError(
                f"{int(bad.sum()):,} rows have more clicks than impressions.",
                file=file_name,
                column=roles["clicks"],
                rows=lines[bad] if len(bad) == len(lines) else (),
            )
    counts = out.groupby("user_id")["variant"].nunique()
    mixed = counts.index[counts.to_numpy() > 1]
    if len(mixed):
        rows = lines[out["user_id"].isin(mixed).to_numpy()[: len(lines)]]
        raise DataValidationError(
            f"{len(mixed):,} user id(s) appear in more than one variant; each user must stay in one.",
            file=file_name,
            column=roles.get("variant"),
            rows=rows,
        )
    return out.groupby(["user_id", "variant"], as_index=False, sort=False)[metrics].sum()


def _with_assignment(
    out: pd.DataFrame,
    assignment: pd.DataFrame,
    metrics: list[str],
    file_name: str,
    lines: np.ndarray,
) -> pd.DataFrame:
    """Outcome rows joined to the assignment; assigned users without a row get zeros."""
    plan = assignment[["user_id", "variant"]].astype(str).drop_duplicates("user_id")
    joined = out.merge(plan, on="user_id", how="left", suffixes=("", "_assigned"))
    if "variant_assigned" in joined.columns:
        given = joined["variant"].to_numpy()
        planned = joined["variant_assigned"].to_numpy()
        wrong = pd.notna(planned) & (given != planned)
        if wrong.any():
            raise DataValidationError(
                f"{int(wrong.sum()):,} rows name another variant than the assignment file.",
                file=file_name,
                rows=lines[wrong],
            )
        joined = joined.drop(columns="variant_assigned")
    unknown = joined["variant"].isna().to_numpy()
    if unknown.any():
        raise DataValidationError(
            f"{int(unknown.sum()):,} rows are users the assignment file does not have.",
            file=file_name,
            rows=lines[unknown],
        )
    missing = plan.loc[~plan["user_id"].isin(joined["user_id"])]
    zeros = missing.assign(**{m: 0.0 for m in metrics})
    return pd.concat([joined, zeros], ignore_index=True)


def read_outcomes(
    source: bytes | str | Path,
    *,
    file_name: str | None = None,
    user_column: str | None = None,
    assignment: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Read an outcomes CSV (bytes or a path) into ``prepare_outcomes``' per-user frame."""
    raw, name = read_csv_source(source, file_name, "outcomes.csv")
    columns = list(raw.frame.columns)
    mapping = {"user": user_column} if user_column else None
    user = resolve_mapping(columns, "users", mapping, name)["user"]
    return prepare_outcomes(
        raw.frame, user, file_name=name, line_numbers=raw.line_numbers, assignment=assignment
    )


def read_assignment(source: bytes | str | Path, *, file_name: str | None = None) -> pd.DataFrame:
    """Read an assignment CSV (``user_id, variant`` as ``abtest assign`` writes it)."""
    raw, name = read_csv_source(source, file_name, "assignment.csv")
    columns = list(raw.frame.columns)
    user = resolve_mapping(columns, "users", None, name)["user"]
    roles = outcome_roles([c for c in columns if c != user])
    if "variant" not in roles:
        raise DataValidationError("no variant column found (variant, group, arm ...).", file=name)
    frame = pd.DataFrame(
        {
            "user_id": raw.frame[user].astype(str).str.strip(),
            "variant": raw.frame[roles["variant"]].astype(str).str.strip(),
        }
    )
    blank = (frame["user_id"] == "").to_numpy() | (frame["variant"] == "").to_numpy()
    if blank.any():
        raise DataValidationError(
            f"{int(blank.sum()):,} rows have no user id or no variant.",
            file=name,
            rows=raw.line_numbers[blank],
        )
    return frame


__all__ = [
    "OUTCOME_ALIASES",
    "OUTCOME_METRICS",
    "outcome_roles",
    "prepare_outcomes",
    "read_assignment",
    "read_outcomes",
]
