"""Explanations: the breakdown sums to the fused score, anchors, diversity moves, rule names."""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recsys.ranking.candidates import build_pool
from recsys.ranking.explain import explain, explain_many, history_anchors
from recsys.ranking.fusion import FusionConfig, contributions, fuse
from recsys.ranking.rerank import ItemTable, RerankConfig, Rule, rerank


def _setup():
    rng = np.random.default_rng(3)
    n_users, n_items = 6, 12
    mats = {m: rng.normal(size=(n_users, n_items)).astype(np.float32) for m in ("svd", "knn")}
    mats["knn"][:, 5] = -np.inf  # knn cannot score item 5
    pool = build_pool(
        {m: (lambda u, m=m: mats[m][u]) for m in mats}, np.arange(n_users), per_model=4
    )
    vec = rng.normal(size=(n_items, 3)).astype(np.float32)
    catalog = pd.DataFrame(
        {
            "item_id": [f"i{j}" for j in range(n_items)],
            "title": [f"Item {j}" for j in range(n_items)],
            "brand": ["x", "y"] * (n_items // 2),
        }
    )
    items = ItemTable.from_arrays(catalog=catalog, vectors=vec)
    return pool, items, catalog


def test_breakdown_sums_to_fused_score_for_weighted_fusion():
    pool, items, catalog = _setup()
    cfg = FusionConfig("weighted", weights={"svd": 2.0, "knn": 0.5})
    fused = fuse(pool, cfg)
    contrib = contributions(pool, cfg)[1]
    ranked = rerank(pool, fused, RerankConfig(k=4), items)
    history = np.array([0, 7])
    df = explain(pool, ranked, contrib, None, 2, history, items.vectors, catalog, fused=fused)
    assert list(df["position"]) == [1, 2, 3, 4]
    parts = df[["contrib_svd", "contrib_knn"]].sum(axis=1).to_numpy()
    np.testing.assert_allclose(parts, df["fused_score"], rtol=1e-5)
    row_fused = fused[2][ranked.pool_pos[2]]
    np.testing.assert_allclose(df["fused_score"], row_fused, rtol=1e-6)
    assert (df["moved"] == 0).all() and not df["diversity_moved"].any()
    assert df["item_id"].tolist() == [f"i{j}" for j in ranked.topk.items[2]]
    # without `fused` the score is the sum of contributions
    df2 = explain(pool, ranked, contrib, ["svd", "knn"], 2, history, items.vectors)
    np.testing.assert_allclose(df2["fused_score"], df["fused_score"], rtol=1e-5)


def test_anchor_is_most_similar_history_item():
    vec = np.array([[1, 0], [0, 1], [0.8, 0.6], [0.6, 0.8], [-1, 0]], np.float32)
    rec = np.array([[2, 3, 0], [4, -1, 1]])
    history = sp.csr_matrix(np.array([[1, 1, 0, 0, 0], [0, 0, 0, 0, 0]], np.float32))
    anchor, sim = history_anchors(rec, history, vec)
    # item 2 vs {0: .8, 1: .6} -> 0; item 3 vs {0: .6, 1: .8} -> 1; item 0 is in the history
    # itself -> never its own anchor -> 1 (cos 0)
    np.testing.assert_array_equal(anchor, [[0, 1, 1], [-1, -1, -1]])
    np.testing.assert_allclose(sim[0], [0.8, 0.8, 0.0], atol=1e-6)
    assert np.isnan(sim[1]).all()


def test_rules_and_diversity_show_up():
    pool, items, catalog = _setup()
    cfg = FusionConfig("weighted")
    fused = fuse(pool, cfg)
    rule = Rule("boost", "brand", "==", "y", factor=3.0)
    ranked = rerank(pool, fused, RerankConfig(k=4, mmr_lambda=0.3, rules=[rule]), items)
    df = explain(
        pool,
        ranked,
        contributions(pool, cfg)[1],
        None,
        0,
        np.array([1]),
        items.vectors,
        catalog,
    )
    boosted = catalog["brand"].to_numpy()[df["item_idx"]] == "y"
    assert [rule.label in r for r in df["rules"]] == boosted.tolist()
    flags = (ranked.touched_by[0, : len(df)] & 16) > 0
    np.testing.assert_array_equal(df["diversity_moved"], flags)
    np.testing.assert_array_equal(df["moved"], ranked.fused_rank[0, : len(df)] - np.arange(len(df)))
    assert (df["anchor_item_idx"] == 1).all() and df["anchor_title"].eq("Item 1").all()


def test_explain_many_matches_per_user_explain():
    pool, items, catalog = _setup()
    cfg = FusionConfig("rrf")
    fused = fuse(pool, cfg)
    contrib = contributions(pool, cfg)[1]
    ranked = rerank(pool, fused, RerankConfig(k=3, mmr_lambda=0.5), items)
    hist = sp.csr_matrix(
        np.eye(6, 12, k=2, dtype=np.float32) + np.eye(6, 12, k=5, dtype=np.float32)
    )
    many = explain_many(
        pool, ranked, contrib, None, np.arange(6), hist, items.vectors, catalog, fused
    )
    for u in range(6):
        one = explain(
            pool, ranked, contrib, None, u, hist[u].indices, items.vectors, catalog, fused
        )
        part = many[many["user_row"] == u].drop(columns="user_row").reset_index(drop=True)
        pd.testing.assert_frame_equal(one, part)
    np.testing.assert_allclose(
        many.filter(like="contrib_").sum(axis=1), many["fused_score"], rtol=1e-5
    )
