"""Re-ranking: MMR by hand, caps, novelty, each rule kind, pins by segment, exclusions, configs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from recsys.errors import ConfigError
from recsys.ranking.candidates import CandidatePool
from recsys.ranking.rerank import (
    BOOST,
    CAP,
    MMR,
    NOVELTY,
    PIN,
    ItemTable,
    RerankConfig,
    Rule,
    exclusion_matrix,
    rerank,
)


def make_pool(items) -> CandidatePool:
    items = np.asarray(items, np.int32)
    n, c = items.shape
    scores = np.where(items >= 0, 1.0, np.nan).astype(np.float32)[None]
    return CandidatePool(np.arange(n, dtype=np.int32), items, scores, scores.copy(), ("m",), None)


def table(n_items=5, **kw) -> ItemTable:
    catalog = pd.DataFrame(
        {
            "item_id": [f"i{j}" for j in range(n_items)],
            "category": kw.pop("category", ["a"] * n_items),
            "brand": kw.pop("brand", ["x"] * n_items),
            "price": kw.pop("price", np.arange(n_items) * 100.0),
            "in_stock": kw.pop("in_stock", [True] * n_items),
        }
    )
    return ItemTable.from_arrays(catalog=catalog, **kw)


def test_mmr_by_hand():
    # rel [1, .9, .8, 0]; v0 = v1 = (1, 0), v2 = (0, 1), v3 = (.6, .8); lambda .5, k 3
    # step 1: 0. step 2: mmr = .5 rel - .5 maxsim -> [_, -.05, .4, -.3] -> 2.
    # step 3: maxsim [_, 1, _, .8] -> [_, -.05, _, -.4] -> 1.
    pool = make_pool([[0, 1, 2, 3]])
    fused = np.array([[1.0, 0.9, 0.8, 0.0]], np.float32)
    vec = np.array([[1, 0], [1, 0], [0, 1], [0.6, 0.8]], np.float32)
    items = table(4, vectors=vec)
    out = rerank(pool, fused, RerankConfig(k=3, mmr_lambda=0.5), items)
    np.testing.assert_array_equal(out.topk.items, [[0, 2, 1]])
    np.testing.assert_array_equal(out.fused_rank, [[0, 2, 1]])
    np.testing.assert_array_equal(out.pool_pos, [[0, 2, 1]])
    assert out.touched_by[0, 1] & MMR and not out.touched_by[0, 2] & MMR
    assert out.stats["diversity"]["picks_below_best_relevance"] == 1
    plain = rerank(pool, fused, RerankConfig(k=3), items)
    np.testing.assert_array_equal(plain.topk.items, [[0, 1, 2]])
    np.testing.assert_allclose(plain.topk.scores, [[1, 0.9, 0.8]])
    with pytest.raises(ConfigError, match="vectors"):
        rerank(pool, fused, RerankConfig(k=3, mmr_lambda=0.5), table(4))


def test_category_and_brand_caps():
    pool = make_pool([[0, 1, 2, 3, 4], [0, 1, 2, 3, 4]])
    fused = np.array([[5, 4, 3, 2, 1], [5, 4, 3, 2, 1]], np.float32)
    items = table(5, category=["a", "a", "a", "b", "b"], brand=["x", "y", "y", "y", "x"])
    out = rerank(pool, fused, RerankConfig(k=4, category_cap=2), items)
    np.testing.assert_array_equal(out.topk.items[0], [0, 1, 3, 4])
    assert out.touched_by[0, 2] & CAP and not out.touched_by[0, 1] & CAP
    # picks 3 and 4 would have been item 2 without the cap: 2 per user
    assert out.touched_by[0, 3] & CAP
    assert out.stats["caps"]["picks_changed_by_cap"] == 4
    out = rerank(pool, fused, RerankConfig(k=4, brand_cap=1), items)
    np.testing.assert_array_equal(out.topk.items[0], [0, 1, -1, -1])  # two brands only
    assert out.stats["caps"]["short_lists"] == 2


def test_novelty_discounts_popular_items():
    # norm [1, .9, 0]; pop_norm [1, 0, 0] (log1p(100)/log1p(100)); gamma .2 -> [.8, .9, 0]
    pool = make_pool([[0, 1, 2]])
    fused = np.array([[1.0, 0.9, 0.0]], np.float32)
    items = table(3, popularity=[100, 0, 0])
    out = rerank(pool, fused, RerankConfig(k=2, novelty=0.2), items)
    np.testing.assert_array_equal(out.topk.items, [[1, 0]])
    np.testing.assert_allclose(out.topk.scores, [[0.9, 0.8]], atol=1e-6)
    out = rerank(pool, fused, RerankConfig(k=1, novelty=0.2), items)
    np.testing.assert_array_equal(out.topk.items, [[1]])
    assert out.touched_by[0, 0] & NOVELTY
    assert out.stats["novelty"]["entered_top_k"] == 1 and out.stats["novelty"]["left_top_k"] == 1


def test_filter_rule_between_and_equality():
    pool = make_pool([[0, 1, 2, 3]])
    fused = np.array([[4, 3, 2, 1]], np.float32)
    items = table(4, price=[100.0, 600.0, 300.0, np.nan], in_stock=[True, True, False, True])
    out = rerank(
        pool, fused, RerankConfig(k=4, rules=[Rule("filter", "price", "between", [0, 500])]), items
    )
    np.testing.assert_array_equal(out.topk.items, [[0, 2, -1, -1]])
    assert out.stats["filter price between [0, 500]"]["removed_cells"] == 2
    rules = [Rule("filter", "in_stock", "==", "true"), Rule("filter", "price", "<", 500)]
    out = rerank(pool, fused, RerankConfig(k=4, rules=rules), items)
    np.testing.assert_array_equal(out.topk.items[0][:1], [0])
    assert (out.topk.items[0] >= 0).sum() == 1
    assert out.touched_names(0, 0) == [r.label for r in rules]


def test_boost_and_bury():
    pool = make_pool([[0, 1, 2, 3]])
    fused = np.array([[1.0, 0.8, 0.6, 0.0]], np.float32)  # already in [0, 1]
    items = table(4, brand=["x", "y", "z", "y"])
    out = rerank(
        pool, fused, RerankConfig(k=3, rules=[Rule("boost", "brand", "==", "z", factor=2)]), items
    )
    np.testing.assert_array_equal(out.topk.items, [[2, 0, 1]])
    np.testing.assert_allclose(out.topk.scores, [[1.2, 1.0, 0.8]], atol=1e-6)
    assert out.touched_by[0, 0] & BOOST and out.rule_hits[0, 0] == 1
    assert out.stats["boost brand == z x2"]["matched_cells"] == 1
    out = rerank(
        pool,
        fused,
        RerankConfig(k=3, rules=[Rule("bury", "brand", "in", ["x"], factor=0.5)]),
        items,
    )
    np.testing.assert_array_equal(out.topk.items, [[1, 2, 0]])
    np.testing.assert_array_equal(out.fused_rank, [[1, 2, 0]])


def test_pin_by_segment():
    pool = make_pool([[0, 1, 2, 3], [0, 1, 2, 3], [0, 1, 2, 3]])
    fused = np.tile(np.array([[4, 3, 2, 1]], np.float32), (3, 1))
    items = table(5)
    segments = np.array(["cold", "regular", "cold"])
    rule = Rule("pin", item_id="i4", position=1, segment="cold")  # i4 is not in the pool
    out = rerank(pool, fused, RerankConfig(k=3, rules=[rule]), items, user_segments=segments)
    np.testing.assert_array_equal(out.topk.items, [[4, 0, 1], [0, 1, 2], [4, 0, 1]])
    assert out.pool_pos[0, 0] == -1 and out.fused_rank[0, 0] == -1
    assert out.touched_by[0, 0] & PIN and not out.touched_by[1, 0] & PIN
    assert out.stats[rule.label] == {
        "kind": "pin",
        "users": 2,
        "moved": 0,
        "added": 2,
        "not_shown": 0,
    }
    # pinning an item already in the list moves it; position 2 for everyone
    out = rerank(
        pool, fused, RerankConfig(k=3, rules=[Rule("pin", item_id="i2", position=1)]), items
    )
    np.testing.assert_array_equal(out.topk.items[1], [2, 0, 1])
    np.testing.assert_array_equal(out.pool_pos[1], [2, 0, 1])
    np.testing.assert_array_equal(out.fused_rank[1], [2, 0, 1])
    with pytest.raises(ConfigError, match="segment"):
        rerank(pool, fused, RerankConfig(k=3, rules=[rule]), items)
    with pytest.raises(ConfigError, match="not in the catalog"):
        rerank(pool, fused, RerankConfig(k=3, rules=[Rule("pin", item_id="zz")]), items)


def test_padding_and_short_pool():
    pool = make_pool([[0, 1, -1], [2, -1, -1]])
    fused = np.array([[1, 2, -np.inf], [5, -np.inf, -np.inf]], np.float32)
    out = rerank(pool, fused, RerankConfig(k=4), table(3))
    np.testing.assert_array_equal(out.topk.items, [[1, 0, -1, -1], [2, -1, -1, -1]])
    assert np.isneginf(out.topk.scores[1, 1:]).all()
    assert out.stats["changed"]["short_lists"] == 2


def test_exclusion_matrix_modes_and_repurchasable():
    seen = sp.csr_matrix(np.array([[1, 1, 0, 1], [0, 1, 1, 0]], np.float32))
    bought = sp.csr_matrix(np.array([[0, 1, 0, 1], [0, 0, 0, 0]], np.float32))
    cats = np.array(["phone", "cable", "case", "cable"], dtype=object)
    np.testing.assert_array_equal(
        exclusion_matrix(seen, bought, cats, "seen").toarray(), seen.toarray()
    )
    np.testing.assert_array_equal(
        exclusion_matrix(seen, bought, cats, "purchased").toarray(), bought.toarray()
    )
    assert exclusion_matrix(seen, bought, cats, "none").nnz == 0
    out = exclusion_matrix(seen, bought, cats, "seen", repurchasable_categories=["cable"])
    np.testing.assert_array_equal(out.toarray(), [[1, 0, 0, 0], [0, 0, 1, 0]])
    with pytest.raises(ConfigError):
        exclusion_matrix(seen, None, cats, "purchased")
    with pytest.raises(ConfigError):
        exclusion_matrix(seen, bought, cats, "everything")


def test_configs_round_trip_and_validate():
    cfg = RerankConfig(
        k=5,
        mmr_lambda=0.7,
        category_cap=2,
        novelty=0.1,
        rules=[
            Rule("filter", "price", "between", [0, 500]),
            Rule("pin", item_id="i1", position=2, segment="heavy"),
        ],
    )
    again = RerankConfig.from_dict(cfg.to_dict())
    assert again == cfg and isinstance(again.rules[0], Rule)
    for bad in (
        {"k": 0},
        {"mmr_lambda": 1.5},
        {"category_cap": 0},
        {"novelty": -1},
        {"exclude": "all"},
        {"colour": "red"},
    ):
        with pytest.raises(ConfigError):
            RerankConfig.from_dict(bad)
    for bad in (
        {"kind": "shout"},
        {"kind": "filter", "column": "price", "op": "~", "value": 1},
        {"kind": "filter", "column": "price", "op": "between", "value": 3},
        {"kind": "boost", "column": "brand", "op": "==", "value": "x", "factor": 0.5},
        {"kind": "bury", "column": "brand", "op": "==", "value": "x", "factor": 2},
        {"kind": "pin"},
        {"kind": "pin", "item_id": "i1", "segment": "vip"},
    ):
        with pytest.raises(ConfigError):
            Rule.from_dict(bad)
    with pytest.raises(ConfigError, match="no column"):
        Rule("filter", "colour", "==", "red").mask(table(3))


def test_rule_ops_on_catalog():
    items = table(4, brand=["Apple", "Samsung", None, "apple"], price=[10.0, 20.0, 30.0, np.nan])
    m = {
        op: Rule("filter", "price", op, v).mask(items)
        for op, v in [("<", 20), ("<=", 20), (">", 20), (">=", 20), ("!=", 20)]
    }
    np.testing.assert_array_equal(m["<"], [1, 0, 0, 0])
    np.testing.assert_array_equal(m["<="], [1, 1, 0, 0])
    np.testing.assert_array_equal(m[">"], [0, 0, 1, 0])
    np.testing.assert_array_equal(m[">="], [0, 1, 1, 0])
    np.testing.assert_array_equal(m["!="], [1, 0, 1, 1])
    np.testing.assert_array_equal(Rule("filter", "brand", "==", "apple").mask(items), [1, 0, 0, 1])
    np.testing.assert_array_equal(
        Rule("filter", "brand", "in", ["samsung"]).mask(items), [0, 1, 0, 0]
    )
    np.testing.assert_array_equal(
        Rule("filter", "brand", "not_in", ["samsung"]).mask(items), [1, 0, 1, 1]
    )
    np.testing.assert_array_equal(
        Rule("filter", "brand", "contains", "SUNG").mask(items), [0, 1, 0, 0]
    )
    assert items.category.dtype == np.int32 and items.brand[2] == -1


def test_category_cap_counts_every_genre_of_an_item():
    from recsys.data.features import category_sets

    genres = ["Action|Comedy", "Comedy", "Action", "Drama", "Romance|Comedy"]
    pool = make_pool([[0, 1, 2, 3, 4]])
    fused = np.array([[5, 4, 3, 2, 1]], np.float32)
    items = table(
        5, category=[g.split("|")[0] for g in genres], category_sets=category_sets(genres)
    )
    np.testing.assert_array_equal(items.category_lists[0], [0, 1])  # Action, Comedy
    out = rerank(pool, fused, RerankConfig(k=4, category_cap=1), items)
    # 0 fills Action and Comedy: 1 (Comedy) and 2 (Action) wait, 3 (Drama) comes next and
    # 4 (Romance|Comedy) waits for Comedy; the first-genre rule would have taken 1 and 2
    np.testing.assert_array_equal(out.topk.items[0], [0, 3, -1, -1])
    single = table(5, category=[g.split("|")[0] for g in genres])
    np.testing.assert_array_equal(
        rerank(pool, fused, RerankConfig(k=4, category_cap=1), single).topk.items[0], [0, 1, 3, 4]
    )
