"""Rule impact in the Fusion lab (``AppTest``): a rule typed into the rules table gets an impact
row; switching it off removes its effect on the metrics but keeps the row."""

from __future__ import annotations

import pandas as pd
import pytest
from app_session import small_lab
from streamlit.testing.v1 import AppTest
from test_app_i18n import _metric_problems, _texts

from recsys.evaluation.metrics.glossary import is_metric
from ui import labels

EDITOR = "lab_rules_ed_0"
BURY = {"kind": "bury", "column": "category", "op": "==", "value": "case", "factor": 0.1}


@pytest.fixture
def lab(tmp_path, monkeypatch):
    """A new session on the Fusion lab of a small trained run whose catalog has categories."""
    root = tmp_path / "ws"
    monkeypatch.setenv("FUSION_STUDIO_WORKSPACE", str(root))
    monkeypatch.setenv("FUSION_STUDIO_FAST", "1")
    catalog = pd.DataFrame(
        {
            "item_id": [f"i{j}" for j in range(23)],
            "title": [f"Item {j}" for j in range(23)],
            "category": ["case" if j % 3 == 0 else "cable" for j in range(23)],
        }
    )
    at = small_lab(root, ("popularity", "item_knn"), catalog)
    return at


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _tables(at: AppTest, column: str) -> list[pd.DataFrame]:
    """The tables shown with ``column``: ``lists`` (impact), ``moved`` (one shopper's list)."""
    return [d.value for d in at.dataframe if column in d.value.columns]


def _impact(at: AppTest) -> pd.DataFrame:
    (table,) = _tables(at, "lists")
    return table


def _type_rows(at: AppTest, *rows: dict) -> None:
    """Rows typed into the rules table (what the editor sends), then a rerun."""
    at.session_state[EDITOR] = {"edited_rows": {}, "added_rows": list(rows), "deleted_rows": []}
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def test_a_typed_rule_gets_an_impact_row_and_switching_it_off_keeps_the_row(lab):
    at = lab
    plain = _metrics(at)
    assert not _tables(at, "lists"), "no rules: no table"
    at.session_state["lab_rules_open"] = True
    at.run()
    assert not at.exception, at.exception
    assert not _tables(at, "lists"), "no rules yet"

    _type_rows(at, BURY)
    (rule,) = at.session_state["cur_rerank"]["rules"]
    assert rule["enabled"] is True and rule["value"] == "case"
    buried = _metrics(at)
    assert buried != plain, "the rule changes the lab's figures"
    table = _impact(at)
    assert len(table) == 1 and bool(table["on"].iloc[0])
    touched = float(table["lists"].iloc[0])  # per cent
    assert 0 < touched <= 100
    share = table["share"].iloc[0]
    before, after = (int(part.split("%")[0]) for part in share.split("→"))
    assert after < before, share  # a x0.1 bury pushes the buried category out of the lists
    costs = [c for c in table.columns if is_metric(c)]
    assert costs == ["ndcg@10", "precision@10", "recall@10", "coverage"]
    (moves,) = _tables(at, "moved")
    assert len(moves) > 10, "one shopper's list (10) and the items that left it"
    assert "left the list" in set(moves["moved"]), moves

    labels.UNKNOWN_METRICS.clear()
    at.run()
    assert not _metric_problems(at, _texts(at)), "every metric shown comes from the glossary"
    assert not labels.UNKNOWN_METRICS

    _type_rows(at, {**BURY, "enabled": False})  # untick "On"
    (rule,) = at.session_state["cur_rerank"]["rules"]
    assert rule["enabled"] is False, "switched off, the rule is kept"
    assert _metrics(at) == plain, "switched off, it no longer changes the figures"
    table = _impact(at)
    assert len(table) == 1 and not bool(table["on"].iloc[0]), "its row stays"
    assert float(table["lists"].iloc[0]) == pytest.approx(touched), "what it would do"


def test_the_impact_is_computed_once_per_setting(lab, monkeypatch):
    from recsys.service.evaluating import Evaluating

    calls = []
    original = Evaluating.rule_impact

    def counted(self, *args, **kwargs):
        calls.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Evaluating, "rule_impact", counted)
    at = lab
    at.session_state["lab_rules_open"] = True
    at.run()
    _type_rows(at, BURY)
    assert len(calls) == 1
    at.selectbox(key="lab_impact_user").select_index(1).run()
    at.run()
    assert not at.exception, at.exception
    assert len(calls) == 1, "picking a shopper or a rerun does not recompute it"
    at.session_state["lab_rules_open"] = False
    at.run()
    at.slider(key="lab_w_popularity").set_value(0.0).run()
    assert not at.exception, at.exception
    assert at.session_state["cur_rerank"]["rules"], "closed, the rule still applies"
    assert len(calls) == 1, "closed: not computed for the new setting"
