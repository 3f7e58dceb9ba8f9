"""Rule impact, computed by hand: a planted bury rule, a pin, a rule switched off, one user's moves."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from recsys.ranking.candidates import CandidatePool
from recsys.ranking.rerank import ItemTable, RerankConfig, Rule, rerank
from recsys.ranking.rerank.impact import (
    lists_changed,
    matching_share,
    moves,
    pinned_share,
    rule_impact,
)
from recsys.ranking.topk import TopK


def make_pool(items) -> CandidatePool:
    items = np.asarray(items, np.int32)
    n, _ = items.shape
    scores = np.where(items >= 0, 1.0, np.nan).astype(np.float32)[None]
    return CandidatePool(np.arange(n, dtype=np.int32), items, scores, scores.copy(), ("m",), None)


def table() -> ItemTable:
    """Six items: 0 and 1 are of category ``a``, the rest ``b``."""
    catalog = pd.DataFrame(
        {
            "item_id": [f"i{j}" for j in range(6)],
            "category": ["a", "a", "b", "b", "b", "b"],
            "brand": ["x"] * 6,
        }
    )
    return ItemTable.from_arrays(catalog=catalog)


# users 0 and 1 rank the two ``a`` items first; users 2 and 3 rank them 4th and 5th
POOL = make_pool([[0, 1, 2, 3, 4, 5]] * 2 + [[2, 3, 4, 0, 1, 5]] * 2)
FUSED = np.tile(np.array([[6, 5, 4, 3, 2, 1]], np.float32), (4, 1))
BURY_A = Rule("bury", "category", "==", "a", factor=0.1)


def hits(topk: TopK) -> dict[str, float]:
    """A stand-in metric: share of slots holding item 0 or 1 (what every user 'went on to use')."""
    return {"precision@3": float(np.isin(topk.items, [0, 1]).mean()), "coverage": 0.5}


def test_a_planted_bury_rule_by_hand():
    # without the rule: lists [0 1 2] [0 1 2] [2 3 4] [2 3 4] -> 4 of 12 slots are category a
    # with it (a x0.1): users 0, 1 get [2 3 4]; users 2, 3 keep [2 3 4] -> half the lists change
    items = table()
    report = rule_impact(POOL, FUSED, RerankConfig(k=3, rules=[BURY_A]), items, hits)
    (row,) = report.rules
    assert row.enabled and row.error is None
    assert row.lists_changed == pytest.approx(0.5)
    assert row.share_before == pytest.approx(4 / 12) and row.share_after == 0.0
    assert row.metrics_off["precision@3"] == pytest.approx(4 / 12)
    assert row.metrics_on["precision@3"] == 0.0
    assert row.cost("precision@3") == pytest.approx(-4 / 12)
    assert row.cost("coverage") == 0.0 and row.cost("ndcg@3") is None
    np.testing.assert_array_equal(report.current.topk.items, [[2, 3, 4]] * 4)
    np.testing.assert_array_equal(report.no_rules.topk.items, [[0, 1, 2]] * 2 + [[2, 3, 4]] * 2)
    assert report.cost_keys() == ["ndcg@3", "precision@3", "recall@3", "coverage"]


def test_a_rule_switched_off_is_kept_but_not_applied_and_shows_what_it_would_do():
    items = table()
    off = Rule("bury", "category", "==", "a", factor=0.1, enabled=False)
    config = RerankConfig(k=3, rules=[off])
    plain = rerank(POOL, FUSED, RerankConfig(k=3), items)
    ranked = rerank(POOL, FUSED, config, items)
    np.testing.assert_array_equal(ranked.topk.items, plain.topk.items)
    assert not ranked.rule_hits.any()
    (row,) = rule_impact(POOL, FUSED, config, items, hits).rules
    assert not row.enabled
    assert row.lists_changed == pytest.approx(0.5)  # what switching it on would do
    assert (row.share_before, row.share_after) == (pytest.approx(4 / 12), 0.0)
    assert row.cost("precision@3") == pytest.approx(-4 / 12)


def test_a_pin_and_a_rule_that_cannot_apply():
    items = table()
    pin = Rule("pin", item_id="i5", position=1)
    broken = Rule("boost", "colour", "==", "red", factor=2, enabled=False)  # no such column
    report = rule_impact(POOL, FUSED, RerankConfig(k=3, rules=[pin, broken]), items, hits)
    pinned, bad = report.rules
    assert pinned.lists_changed == 1.0
    assert (pinned.share_before, pinned.share_after) == (0.0, 1.0)
    assert bad.error is not None and "colour" in str(bad.error) and bad.lists_changed is None
    assert report.other[1] is None
    with pytest.raises(ValueError):
        report.off_and_on(1)


def test_shares_and_changes_by_hand():
    topk = TopK(np.arange(2), np.array([[0, 2, -1], [3, 1, 0]]), np.zeros((2, 3), np.float32))
    same = TopK(np.arange(2), np.array([[0, 2, -1], [1, 3, 0]]), np.zeros((2, 3), np.float32))
    a = np.array([True, True, False, False, False, False])
    assert matching_share(topk, a) == pytest.approx(3 / 5)  # 0, 1, 0 of 5 filled slots
    assert pinned_share(topk, 0, 1) == 0.5 and pinned_share(topk, 0, 4) == 0.0
    assert lists_changed(topk, same) == 0.5  # the second list only changed its order


def test_one_users_moves():
    items = table()
    report = rule_impact(POOL, FUSED, RerankConfig(k=3, rules=[BURY_A]), items, hits)
    off, on = report.off_and_on(0)
    frame = moves(off, on, 0, rules=[BURY_A], items=items)
    # before [0 1 2], after [2 3 4]: 2 moves up two places, 3 and 4 are new, 0 and 1 left
    assert frame["item"].tolist() == [2, 3, 4, 0, 1]
    assert frame["rank_after"].tolist()[:3] == [1, 2, 3]
    assert frame["rank_before"].tolist()[0] == 3 and frame["moved"].tolist()[0] == 2
    assert frame["status"].tolist() == ["up", "new", "new", "dropped", "dropped"]
    assert frame["rank_before"].isna().tolist() == [False, True, True, False, False]
    assert frame["touched_by"].tolist()[3:] == [[BURY_A.label]] * 2
    untouched = moves(off, on, 2, rules=[BURY_A], items=items)
    assert untouched["status"].tolist() == ["same"] * 3
    assert untouched["moved"].tolist() == [0, 0, 0]


def test_enabled_round_trips_and_old_rules_load_as_on():
    rule = Rule("boost", "brand", "==", "x", factor=2, enabled=False)
    assert Rule.from_dict(rule.to_dict()) == rule
    old = {k: v for k, v in rule.to_dict().items() if k != "enabled"}
    assert Rule.from_dict(old).enabled is True
    assert Rule.from_dict({**old, "enabled": "false"}).enabled is False
    config = RerankConfig(k=3, rules=[rule])
    assert RerankConfig.from_dict(config.to_dict()).rules[0].enabled is False


def test_presets_keep_switched_off_rules_and_old_presets_load_them_on(tmp_path):
    from recsys.service.preset import Preset, default_preset
    from recsys.service.workspace import Workspace

    ws = Workspace(tmp_path)
    off = Rule("boost", "brand", "==", "x", factor=2, enabled=False)
    on = Rule("bury", "category", "==", "a", factor=0.5)
    preset = default_preset(("popularity",))
    preset = preset.with_rerank(RerankConfig(k=3, rules=[off, on]))
    preset.name = "with a rule off"
    pid = ws.save_preset(preset, as_new=True)
    assert [r.enabled for r in ws.load_preset(pid).rerank.rules] == [False, True]
    # a preset saved before rules could be switched off: no ``enabled`` key
    record = preset.to_dict()
    for rule in record["rerank"]["rules"]:
        del rule["enabled"]
    old = json.loads(json.dumps(record))
    assert [r.enabled for r in Preset.from_dict(old).rerank.rules] == [True, True]


def test_a_runs_rule_impact_uses_the_labs_own_metrics():
    """On a trained run: the figures with a rule on / off are the lab's evaluations of both."""
    from recsys.data.ingest import load_dataset
    from recsys.service.preset import default_preset
    from recsys.service.training import train_run

    events = pd.DataFrame(
        {
            "user_id": [f"u{u}" for u in range(60) for _ in range(6)],
            "item_id": [f"i{(u * 5 + j * 3) % 23}" for u in range(60) for j in range(6)],
        }
    )
    run = train_run(
        load_dataset(events.to_csv(index=False).encode(), name="shop").dataset,
        default_preset(("popularity", "item_knn")),
    )
    rule = Rule("bury", "item_id", "in", ["i3", "i8", "i13"], factor=0.2)
    on = RerankConfig.from_dict({**run.preset.rerank.to_dict(), "rules": [rule.to_dict()]})
    off = RerankConfig.from_dict({**on.to_dict(), "rules": [{**rule.to_dict(), "enabled": False}]})
    ev_on = run.evaluate(run.preset.fusion, on, sample=True)
    ev_off = run.evaluate(run.preset.fusion, off, sample=True)
    plain = RerankConfig.from_dict({**on.to_dict(), "rules": []})
    no_rule = run.evaluate(run.preset.fusion, plain, sample=True)
    np.testing.assert_array_equal(ev_off.ranked.topk.items, no_rule.ranked.topk.items)
    for config, current in ((on, ev_on), (off, None)):
        report = run.rule_impact(run.preset.fusion, config, current=current)
        (row,) = report.rules
        assert row.error is None and 0 < row.lists_changed <= 1
        assert row.share_after < row.share_before  # buried items fill fewer slots
        for key in report.cost_keys():
            assert row.metrics_on[key] == pytest.approx(ev_on.fusion.values[key])
            assert row.metrics_off[key] == pytest.approx(ev_off.fusion.values[key])
