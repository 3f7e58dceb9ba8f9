"""Merchandising rules in an editable table: rows <-> ``Rule`` objects, and the editor widget."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from recsys.errors import RecsysError
from recsys.ranking.rerank import OPS, RULE_KINDS, RULE_SEGMENTS, Rule
from ui.errors import error_text
from ui.i18n import t

COLUMNS = ["enabled", "kind", "column", "op", "value", "factor", "item_id", "position", "segment"]


def parse_value(text: Any) -> Any:
    """Rule value typed in a cell: numbers become numbers, ``a, b`` becomes a list."""
    if text is None or (isinstance(text, float) and pd.isna(text)):
        return None
    if isinstance(text, int | float):
        return text
    raw = str(text).strip()
    if "," in raw:
        return [parse_value(part) for part in raw.split(",") if part.strip()]
    try:
        number = float(raw)
    except ValueError:
        return raw
    return int(number) if number.is_integer() and "." not in raw else number


def _on(cell: Any) -> bool:
    """The "On" cell of a row: a new row (empty cell) is on."""
    if cell is None or (isinstance(cell, float) and pd.isna(cell)) or cell is pd.NA:
        return True
    return bool(cell)


def rules_from_rows(rows: pd.DataFrame) -> tuple[list[Rule], list[str]]:
    """Rows of the rules editor -> (valid ``Rule`` list, translated errors of the invalid rows)."""
    rules, errors = [], []
    for i, row in enumerate(rows.to_dict("records"), start=1):
        kind = row.get("kind")
        if not kind or (isinstance(kind, float) and pd.isna(kind)):
            continue
        data = {
            "kind": str(kind),
            "column": row.get("column") or None,
            "op": row.get("op") or "==",
            "value": parse_value(row.get("value")),
            "factor": float(row["factor"]) if pd.notna(row.get("factor")) else 1.0,
            "item_id": (str(row["item_id"]).strip() or None)
            if pd.notna(row.get("item_id"))
            else None,
            "position": int(row["position"]) if pd.notna(row.get("position")) else 1,
            "segment": row.get("segment") or "all",
            "enabled": _on(row.get("enabled")),
        }
        if data["op"] in ("in", "not_in") and not isinstance(data["value"], list):
            data["value"] = [data["value"]]
        try:
            rules.append(Rule(**data))
        except RecsysError as err:
            errors.append(f"#{i}: {error_text(err)}")
    return rules, errors


def rules_to_rows(rules: list) -> pd.DataFrame:
    """``Rule`` objects (or their dicts) -> editor rows (values as text, lists as ``a, b``)."""
    rows = []
    for r in rules:
        d = r.to_dict() if hasattr(r, "to_dict") else dict(r)
        value = d.get("value")
        if isinstance(value, list | tuple):
            value = ", ".join(map(str, value))
        rows.append(
            {**{c: d.get(c) for c in COLUMNS}, "value": None if value is None else str(value)}
        )
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame["enabled"] = frame["enabled"].map(_on).astype("boolean")  # a new row: <NA> = on
    text = ("kind", "column", "op", "value", "item_id", "segment")
    return frame.astype(dict.fromkeys(text, object))


def rules_editor(base: pd.DataFrame, key: str, catalog_columns: list[str]) -> pd.DataFrame:
    """The editable rules table (a row per rule); returns the edited rows."""
    cc = st.column_config
    return st.data_editor(
        base,
        key=key,
        num_rows="dynamic",
        hide_index=True,
        column_config={
            "enabled": cc.CheckboxColumn(
                t("lab.rule.enabled"), help=t("lab.rule.enabled_help"), default=True, width="small"
            ),
            "kind": cc.SelectboxColumn(
                t("lab.rule.kind"),
                options=list(RULE_KINDS),
                required=True,
                format_func=lambda k: t(f"lab.kind.{k}"),
            ),
            "column": cc.SelectboxColumn(t("lab.rule.column"), options=catalog_columns),
            "op": cc.SelectboxColumn(t("lab.rule.op"), options=list(OPS)),
            "value": cc.TextColumn(t("lab.rule.value"), help=t("lab.rule.value_help")),
            "factor": cc.NumberColumn(
                t("lab.rule.factor"), min_value=0.0, max_value=100.0, step=0.1
            ),
            "item_id": cc.TextColumn(t("lab.rule.item_id")),
            "position": cc.NumberColumn(t("lab.rule.position"), min_value=1, max_value=100, step=1),
            "segment": cc.SelectboxColumn(
                t("lab.rule.segment"),
                options=list(RULE_SEGMENTS),
                format_func=lambda g: t("lab.seg_all") if g == "all" else t(f"seg_short.{g}"),
            ),
        },
    )
