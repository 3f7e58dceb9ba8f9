"""Merchandising rules on catalog columns: filter, boost, bury, pin (for everyone or a segment)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from recsys.errors import ConfigError
from recsys.evaluation.segments import SEGMENTS
from recsys.ranking.rerank.items import ItemTable

RULE_KINDS = ("filter", "boost", "bury", "pin")
OPS = ("==", "!=", "<", "<=", ">", ">=", "between", "in", "not_in", "contains")
#: Who a pin rule applies to: everyone or one user segment (``recsys.evaluation.segments``).
RULE_SEGMENTS: tuple[str, ...] = ("all", *SEGMENTS)


@dataclass
class Rule:
    """A merchandising rule on any catalog column.

    kind : ``filter`` (keep only matching items), ``boost`` (factor > 1) / ``bury``
        (0 <= factor < 1) multiply the normalised score of matching items, ``pin`` puts
        ``item_id`` at 1-based ``position`` for users of ``segment`` (all|cold|regular|heavy).
    op : one of ``==, !=, <, <=, >, >=, between, in, not_in, contains``; ``between`` takes
        ``[low, high]`` (inclusive), ``in``/``not_in`` a list, ``contains`` a substring
        (case-insensitive). Missing values never match (except under ``!=`` and ``not_in``).
    enabled : a rule switched off stays in the config and in saved presets but is not applied
        (presets saved before the switch existed load with their rules on).
    """

    kind: str
    column: str | None = None
    op: str = "=="
    value: Any = None
    factor: float = 1.0
    item_id: str | None = None
    position: int = 1
    segment: str = "all"
    name: str = ""
    enabled: bool = True

    def __post_init__(self) -> None:
        self.enabled = _as_bool(self.enabled)
        if self.kind not in RULE_KINDS:
            known = ", ".join(RULE_KINDS)
            raise ConfigError(
                f"unknown rule kind '{self.kind}'. Known: {known}.",
                code="rule.unknown_kind",
                params={"kind": self.kind, "known": known},
            )
        if self.kind == "pin":
            if self.item_id is None or str(self.item_id) == "":
                raise ConfigError(
                    "a pin rule needs the id of the item to pin.", code="rule.pin_needs_item"
                )
            if int(self.position) < 1:
                raise ConfigError("a pin position starts at 1.", code="rule.pin_position")
            self.position = int(self.position)
            if self.segment not in RULE_SEGMENTS:
                known = ", ".join(RULE_SEGMENTS)
                raise ConfigError(
                    f"unknown segment '{self.segment}'. Known: {known}.",
                    code="rule.unknown_segment",
                    params={"segment": self.segment, "known": known},
                )
            return
        if not self.column:
            raise ConfigError(
                f"a {self.kind} rule needs a catalog column.",
                code="rule.needs_column",
                params={"kind": self.kind},
            )
        if self.op not in OPS:
            known = ", ".join(OPS)
            raise ConfigError(
                f"unknown operator '{self.op}'. Known: {known}.",
                code="rule.unknown_op",
                params={"op": self.op, "known": known},
            )
        if self.op == "between" and (
            not isinstance(self.value, list | tuple) or len(self.value) != 2
        ):
            raise ConfigError(
                "'between' needs two values: [low, high].", code="rule.between_two_values"
            )
        if self.op in ("in", "not_in") and not isinstance(self.value, list | tuple | set):
            raise ConfigError(
                f"'{self.op}' needs a list of values.",
                code="rule.needs_list",
                params={"op": self.op},
            )
        self.factor = float(self.factor)
        if self.kind == "boost" and not self.factor > 1:
            raise ConfigError(
                "a boost factor must be above 1 (use bury to push items down).",
                code="rule.boost_factor",
            )
        if self.kind == "bury" and not 0 <= self.factor < 1:
            raise ConfigError("a bury factor must be between 0 and 1.", code="rule.bury_factor")

    @property
    def label(self) -> str:
        """The rule's name, or a readable summary such as ``boost brand == Anker x1.2``."""
        if self.name:
            return self.name
        if self.kind == "pin":
            return f"pin {self.item_id} at {self.position}" + (
                "" if self.segment == "all" else f" ({self.segment})"
            )
        extra = f" x{self.factor:g}" if self.kind in ("boost", "bury") else ""
        return f"{self.kind} {self.column} {self.op} {self.value}{extra}"

    def to_dict(self) -> dict:
        """JSON-safe dict (one entry of a preset's ``rules``)."""
        value = list(self.value) if isinstance(self.value, tuple | set) else self.value
        return {
            "kind": self.kind,
            "column": self.column,
            "op": self.op,
            "value": value,
            "factor": self.factor,
            "item_id": self.item_id,
            "position": self.position,
            "segment": self.segment,
            "name": self.name,
            "enabled": self.enabled,
        }

    @classmethod
    def from_dict(cls, data: dict) -> Rule:
        """Inverse of :meth:`to_dict`; unknown keys or a missing kind raise ``ConfigError``."""
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(data) - known)
        if unknown:
            names = ", ".join(unknown)
            raise ConfigError(
                f"unknown rule setting(s) {names}.",
                code="rule.unknown_settings",
                params={"names": names},
            )
        if "kind" not in data:
            raise ConfigError(
                "a rule needs a kind (filter, boost, bury or pin).", code="rule.needs_kind"
            )
        return cls(**data)

    def mask(self, items: ItemTable) -> np.ndarray:
        """(n_items,) bool: the catalog items this filter/boost/bury rule matches (cached)."""
        what = {k: v for k, v in self.to_dict().items() if k not in ("name", "enabled")}
        key = ("rule", repr(what))
        if key in items._cache:
            return items._cache[key]
        cat = items.catalog
        if cat is None or self.column not in cat.columns:
            known = ", ".join(map(str, cat.columns)) if cat is not None else "none"
            raise ConfigError(
                f"rule '{self.label}': the catalog has no column '{self.column}' (columns: {known}).",
                code="rule.no_column",
                params={"rule": self.label, "column": self.column, "known": known},
            )
        col = cat[self.column]
        out = _match(col, self.op, self.value, self.label)
        out = np.asarray(out, dtype=bool)
        items._cache[key] = out
        return out


def _as_bool(value: Any) -> bool:
    """A rule's on/off flag from JSON or a table cell (missing = on; ``"false"``, ``0`` = off)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return True
    if isinstance(value, str):
        text = value.strip().lower()
        if text in ("true", "1", "yes", "on", ""):
            return True
        if text in ("false", "0", "no", "off"):
            return False
        raise ConfigError(
            f"a rule's on/off setting must be true or false, not '{value}'.",
            code="rule.enabled_flag",
            params={"value": value},
        )
    return bool(value)


def _coerce(col: pd.Series, value):
    """Bring a JSON value to the column's type (numbers for numeric, bools for booleans)."""
    if pd.api.types.is_bool_dtype(col) and isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
        try:
            return float(value)
        except (TypeError, ValueError):
            return value
    if isinstance(value, bool):
        return value
    return value


def _match(col: pd.Series, op: str, value, label: str) -> np.ndarray:
    numeric = pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col)
    try:
        if op in ("<", "<=", ">", ">=", "between"):
            x = pd.to_numeric(col, errors="coerce") if not numeric else col
            if op == "between":
                lo, hi = (float(v) for v in value)
                m = (x >= lo) & (x <= hi)
            else:
                v = float(value)
                m = {"<": x < v, "<=": x <= v, ">": x > v, ">=": x >= v}[op]
            return m.fillna(False).to_numpy(bool)
        if op in ("==", "!="):
            v = _coerce(col, value)
            if numeric or pd.api.types.is_bool_dtype(col):
                m = col == v
            else:
                m = col.astype(str).str.lower() == str(v).lower()
                m &= col.notna()
            m = m.fillna(False).to_numpy(bool)
            return m if op == "==" else ~m
        if op in ("in", "not_in"):
            vals = [_coerce(col, v) for v in value]
            if numeric or pd.api.types.is_bool_dtype(col):
                m = col.isin(vals)
            else:
                m = col.astype(str).str.lower().isin([str(v).lower() for v in vals]) & col.notna()
            m = m.fillna(False).to_numpy(bool)
            return m if op == "in" else ~m
        # contains
        m = col.astype(str).str.contains(str(value), case=False, regex=False) & col.notna()
        return m.fillna(False).to_numpy(bool)
    except (TypeError, ValueError) as exc:
        raise ConfigError(
            f"rule '{label}' cannot compare column values with {value!r}: {exc}",
            code="rule.cannot_compare",
            params={"rule": label, "value": repr(value), "reason": str(exc)},
        ) from None
