"""Fusion lab: what each merchandising rule does, under the rules table (before it ships).

One row per rule: on or off, the share of lists it changes, the share of list slots matching
its condition without and with it (for a pin: lists with the item at its position), and its
metric cost (the glossary's metrics, on minus off). Below, one shopper's list before and after.
Computed only while the rules table is open and has rules, once per setting
(``recsys.service.evaluating.Evaluating.rule_impact``).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import streamlit as st

from recsys.errors import RecsysError
from recsys.ranking.rerank import FLAG_NAMES, RerankConfig, Rule
from recsys.ranking.rerank.impact import ImpactReport, moves
from ui.errors import error_text, show_error
from ui.i18n import t
from ui.lab_state import eval_cached
from ui.labels import metric_help, metric_label
from ui.tables import item_columns, localized_titles

#: Impact reports kept per session (one per setting).
CACHE_SIZE = 8
#: Shoppers offered in the before/after picker (those whose list the rules changed first).
PICKER_USERS = 200
NO_RULES = -1


def rule_text(rule: Rule) -> str:
    """A rule in the interface's language: its name, or ``bury category == case ×0.5``."""
    if rule.name:
        return rule.name
    kind = t(f"lab.kind.{rule.kind}")
    if rule.kind == "pin":
        who = t("lab.seg_all") if rule.segment == "all" else t(f"seg_short.{rule.segment}")
        return t("lab.impact.pin_text", kind=kind, item=rule.item_id, pos=rule.position, who=who)
    value = ", ".join(map(str, rule.value)) if isinstance(rule.value, list) else rule.value
    text = f"{kind} {rule.column} {rule.op} {value}"
    return f"{text} ×{rule.factor:g}" if rule.kind in ("boost", "bury") else text


def cached_impact(run, fusion, rerank: RerankConfig) -> ImpactReport:
    """The impact report of a setting, computed once per setting in this session."""
    sample = not st.session_state.get("lab_all_users", False)
    key = json.dumps(
        {"f": fusion.to_dict(), "r": rerank.to_dict(), "sample": sample},
        sort_keys=True,
        default=str,
    )
    cache = st.session_state.setdefault("lab_impact_cache", {})
    if key not in cache:
        if len(cache) >= CACHE_SIZE:
            cache.clear()
        current = eval_cached(run, fusion, rerank)  # the lab's figures of this setting
        cache[key] = run.rule_impact(fusion, rerank, sample=sample, current=current)
    return cache[key]


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.0f} %"


def impact_table(report: ImpactReport, rules: list[Rule]) -> None:
    """One row per rule: on/off, lists touched, share before -> after, metric cost."""
    keys = report.cost_keys()
    rows = []
    for row, rule in zip(report.rules, rules, strict=True):
        what = "pin" if rule.kind == "pin" else "match"
        rows.append(
            {
                "rule": rule_text(rule),
                "on": rule.enabled,
                "lists": None if row.lists_changed is None else 100 * row.lists_changed,
                "share": "—"
                if row.error
                else t(
                    f"lab.impact.share_{what}",
                    before=_pct(row.share_before),
                    after=_pct(row.share_after),
                ),
                **{key: row.cost(key) for key in keys},
            }
        )
    cc = st.column_config
    cost_help = t("lab.impact.cost_help")
    st.dataframe(
        pd.DataFrame(rows, columns=["rule", "on", "lists", "share", *keys]),
        hide_index=True,
        column_config={
            "rule": cc.TextColumn(t("lab.impact.rule")),
            "on": cc.CheckboxColumn(
                t("lab.rule.enabled"), help=t("lab.impact.on_help"), width="small"
            ),
            "lists": cc.NumberColumn(
                t("lab.impact.lists"), help=t("lab.impact.lists_help"), format="%.0f %%"
            ),
            "share": cc.TextColumn(t("lab.impact.share"), help=t("lab.impact.share_help")),
            **{
                key: cc.NumberColumn(
                    metric_label(key, report.k),
                    help=metric_help(key, k=report.k, extra=cost_help),
                    format="%+.4f",
                )
                for key in keys
            },
        },
    )
    for row, rule in zip(report.rules, rules, strict=True):
        if row.error is not None:
            st.warning(t("lab.impact.failed", rule=rule_text(rule), err=error_text(row.error)))


def _comparison_label(j: int, rules: list[Rule]) -> str:
    if j == NO_RULES:
        return t("lab.impact.vs_none")
    key = "lab.impact.vs_without" if rules[j].enabled else "lab.impact.vs_with"
    return t(key, rule=rule_text(rules[j]))


def _picker_rows(report: ImpactReport) -> np.ndarray:
    """Rows of the lab's users, those whose list the rules changed first."""
    changed = (report.current.topk.items != report.no_rules.topk.items).any(axis=1)
    order = np.argsort(~changed, kind="stable")
    return order[:PICKER_USERS]


def user_moves(run, report: ImpactReport, rules: list[Rule]) -> None:
    """A shopper's list before and after: rank, places moved, which rule touched each item."""
    ds = run.dataset
    rows = _picker_rows(report)
    if len(rows) == 0:
        return
    users = ds.user_ids.to_external(report.current.topk.users[rows])
    c1, c2 = st.columns(2)
    pick = c1.selectbox(
        t("lab.impact.user"),
        range(len(rows)),
        format_func=lambda i: str(users[i]),
        key="lab_impact_user",
    )
    choices = [NO_RULES] + [j for j, r in enumerate(report.rules) if r.error is None]
    vs = c2.selectbox(
        t("lab.impact.vs"),
        choices,
        format_func=lambda j: _comparison_label(j, rules),
        key="lab_impact_vs",
    )
    row = int(rows[pick or 0])
    if vs == NO_RULES or vs is None:
        before, after = report.no_rules, report.current
        differ = [r for r in rules if r.enabled]
    else:
        before, after = report.off_and_on(vs)
        differ = [rules[vs]]
    frame = moves(before, after, row, rules=differ, items=run.items)
    names = {r.label: rule_text(r) for r in rules}
    names |= {n: t(f"lab.impact.touched.{n}") for n in FLAG_NAMES.values() if n in _KNOBS}
    frame["touched_by"] = [[names.get(n, n) for n in ns] for ns in frame["touched_by"]]
    frame["moved"] = [
        _moved_text(s, m) for s, m in zip(frame["status"], frame["moved"], strict=True)
    ]
    frame["rank_before"] = [("—" if pd.isna(r) else str(r)) for r in frame["rank_before"]]
    frame["item_id"] = ds.item_ids.to_external(frame["item"].to_numpy())
    catalog = ds.catalog
    if "title" in catalog.columns:
        frame["title"] = catalog["title"].astype(str).to_numpy()[frame["item"].to_numpy()]
        frame = localized_titles(frame, ds)
    shown = [c for c in ("rank_after", "item_id", "title") if c in frame.columns]
    cc = st.column_config
    st.dataframe(
        frame[[*shown, "rank_before", "moved", "touched_by"]],
        hide_index=True,
        column_config=item_columns(
            title=cc.TextColumn(t("common.title"), width="medium"),
            rank_after=cc.NumberColumn(t("lab.impact.rank_after"), width="small"),
            rank_before=cc.TextColumn(t("lab.impact.rank_before"), width="small"),
            moved=cc.TextColumn(t("lab.impact.moved"), help=t("lab.impact.moved_help")),
            touched_by=cc.ListColumn(t("lab.impact.touched_by")),
        ),
    )


def _moved_text(status: str, moved) -> str:
    """``▲ 2`` / ``▼ 1`` / same / new in the list / left the list."""
    if status == "up":
        return t("lab.impact.moved_up", n=int(moved))
    if status == "down":
        return t("lab.impact.moved_down", n=-int(moved))
    return t(f"lab.impact.status.{status}")


_KNOBS = ("diversity", "cap", "novelty")


def rule_impact(run, fusion, rerank: RerankConfig) -> None:
    """The impact table and one shopper's before/after (nothing without rules)."""
    if not rerank.rules:
        return
    try:
        report = cached_impact(run, fusion, rerank)
    except RecsysError as err:
        show_error(err)
        return
    st.markdown(f"**{t('lab.impact.title')}**")
    st.caption(t("lab.impact.help", n=len(report.current.topk.users)))
    impact_table(report, rerank.rules)
    user_moves(run, report, rerank.rules)
