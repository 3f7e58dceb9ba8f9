"""Normalisers and every fusion method on a 2-model x 4-item pool computed by hand."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from recsys.errors import ConfigError
from recsys.ranking.candidates import CandidatePool, build_pool
from recsys.ranking.fusion import (
    FUSERS,
    FusionConfig,
    FusionContext,
    StackingFuser,
    contributions,
    fuse,
)
from recsys.ranking.normalise import NORMALIZERS, descending_ranks, normalize_scores

NAN = np.nan


def make_pool(a, b, per_model=None) -> CandidatePool:
    """One user, 4 items; model b may miss items (NaN)."""
    scores = np.array([[a], [b]], np.float32)
    return CandidatePool(
        users=np.array([0], np.int32),
        items=np.arange(len(a), dtype=np.int32)[None],
        scores=scores,
        ranks=descending_ranks(scores),
        model_names=("A", "B"),
        per_model=per_model,
    )


# A = [4, 3, 2, 1]; B = [1, 3, 2, -] (B cannot score item 3)
POOL = make_pool([4, 3, 2, 1], [1, 3, 2, NAN], per_model=2)


# ---------------------------------------------------------------- normalisers
def test_minmax_with_nan_and_constant_row():
    x = np.array([[4, 3, 2, 1], [5, 5, NAN, 5]], np.float32)
    out = normalize_scores(x, "minmax")
    np.testing.assert_allclose(out[0], [1, 2 / 3, 1 / 3, 0], atol=1e-6)
    np.testing.assert_allclose(out[1], [1, 1, NAN, 1])


def test_zscore_with_nan_and_constant_row():
    x = np.array([[4, 3, 2, 1], [5, 5, NAN, 5]], np.float32)
    out = normalize_scores(x, "zscore")
    s = np.sqrt(1.25)
    np.testing.assert_allclose(out[0], [1.5 / s, 0.5 / s, -0.5 / s, -1.5 / s], atol=1e-6)
    np.testing.assert_allclose(out[1], [0, 0, NAN, 0])


def test_rank_and_borda_normalisers():
    rank = POOL.normalized("rank")[:, 0]
    np.testing.assert_allclose(rank[0], [1, 0.75, 0.5, 0.25])
    np.testing.assert_allclose(rank[1], [1 / 3, 1, 2 / 3, NAN], atol=1e-6)  # n_m = 3
    borda = POOL.normalized("borda")[:, 0]
    np.testing.assert_allclose(borda[0], [1, 0.75, 0.5, 0.25])
    # B scored 3 of 4: ranks 3,1,2 -> (4-r+1)/4; unscored item shares the rest: (4-3+1)/2/4
    np.testing.assert_allclose(borda[1], [0.5, 1, 0.75, 0.25])
    assert set(NORMALIZERS) == {"minmax", "zscore", "rank", "borda"}


# ---------------------------------------------------------------- methods
def fused(method, weights=None, **params):
    return fuse(POOL, FusionConfig(method=method, weights=weights or {}, params=params))[0]


def test_weighted_sum():
    np.testing.assert_allclose(fused("weighted"), [1, 5 / 3, 5 / 6, 0], atol=1e-6)
    np.testing.assert_allclose(fused("weighted", {"A": 2}), [2, 7 / 3, 7 / 6, 0], atol=1e-6)


def test_combmnz():
    # retrieved (top-2): A -> items 0, 1; B -> items 1, 2; counts [1, 2, 1, 0]
    np.testing.assert_allclose(fused("combmnz"), [1, 10 / 3, 5 / 6, 0], atol=1e-6)


def test_rrf():
    expected = [1 / 61 + 1 / 63, 1 / 62 + 1 / 61, 1 / 63 + 1 / 62, 1 / 64]
    np.testing.assert_allclose(fused("rrf"), expected, rtol=1e-6)
    expected_w = [2 / 61 + 1 / 63, 2 / 62 + 1 / 61, 2 / 63 + 1 / 62, 2 / 64]
    np.testing.assert_allclose(fused("rrf", {"A": 2}), expected_w, rtol=1e-6)
    np.testing.assert_allclose(
        fused("rrf", k=0), [1 + 1 / 3, 1 / 2 + 1, 1 / 3 + 1 / 2, 1 / 4], rtol=1e-6
    )


def test_borda():
    np.testing.assert_allclose(fused("borda"), [1.5, 1.75, 1.25, 0.5])


def test_condorcet_copeland():
    # pairs: (0,1) tie, (0,2) tie, (0,3) 0, (1,2) 1, (1,3) 1, (2,3) 2 -> wins + ties/2
    np.testing.assert_allclose(fused("condorcet", tie_break=False), [2, 2.5, 1.5, 0])
    # A weighted 2: A's preference wins every split vote -> A's order
    np.testing.assert_allclose(fused("condorcet", {"A": 2}, tie_break=False), [3, 2, 1, 0])
    with_tb = fused("condorcet")
    np.testing.assert_allclose(np.floor(with_tb * 2) / 2, [2, 2.5, 1.5, 0])
    np.testing.assert_allclose(
        with_tb - [2, 2.5, 1.5, 0], 0.49 * np.array([1.5, 1.75, 1.25, 0.5]) / 2, atol=1e-6
    )


def _reference_condorcet(pool: CandidatePool, w: np.ndarray) -> np.ndarray:
    """Copeland scores of the whole pool, by adding every model's weighted votes pair by pair."""
    n, c = pool.items.shape
    raw = np.where(np.isnan(pool.scores), -np.inf, pool.scores)
    out = np.zeros((n, c))
    for u in range(n):
        for i in range(c):
            if not pool.valid[u, i]:
                continue
            for j in range(c):
                if i == j or not pool.valid[u, j]:
                    continue
                vij = sum(w[m] * (raw[m, u, i] > raw[m, u, j]) for m in range(len(w)))
                vji = sum(w[m] * (raw[m, u, j] > raw[m, u, i]) for m in range(len(w)))
                out[u, i] += 1.0 if vij > vji else 0.5 if vij == vji else 0.0
    return out


def test_condorcet_packed_votes_match_the_direct_vote_and_depth_keeps_the_top():
    rng = np.random.default_rng(3)
    n, c, m = 12, 15, 4
    scores = rng.integers(0, 4, size=(m, n, c)).astype(np.float32)  # many ties
    scores[1, :, -3:] = np.nan  # a model that cannot score some items
    items = np.tile(np.arange(c, dtype=np.int32), (n, 1))
    items[0, -2:] = -1  # padding
    scores[:, 0, -2:] = np.nan
    pool = CandidatePool(
        np.arange(n, dtype=np.int32), items, scores, descending_ranks(scores), tuple("abcd"), c
    )
    w = np.array([0.5, 1.0, 0.25, 2.0], np.float32)
    weights = dict(zip("abcd", w.tolist(), strict=True))
    whole = fuse(pool, FusionConfig("condorcet", weights=weights, params={"depth": 0}))
    untied = fuse(
        pool,
        FusionConfig("condorcet", weights=weights, params={"depth": 0, "tie_break": False}),
    )
    ref = _reference_condorcet(pool, w)
    np.testing.assert_allclose(untied[pool.valid], ref[pool.valid])
    assert np.all(np.isneginf(whole[~pool.valid]))
    # a vote among each user's 8 best by Borda: those 8 come first, the rest in Borda order
    shallow = fuse(pool, FusionConfig("condorcet", weights=weights, params={"depth": 8}))
    borda = fuse(pool, FusionConfig("borda", weights=weights))
    for u in range(n):
        ok = np.flatnonzero(pool.valid[u])
        by_borda = ok[np.argsort(-borda[u, ok], kind="stable")]
        by_vote = ok[np.argsort(-shallow[u, ok], kind="stable")]
        assert set(by_vote[:8].tolist()) == set(by_borda[:8].tolist())
        rest = by_vote[8:]
        assert np.all(np.diff(borda[u, rest]) <= 1e-6)
    # the packed table and the direct sum agree on many models (m > 8: 16-bit patterns)
    from recsys.ranking.fusion.voting import _copeland, _copeland_direct

    big = rng.normal(size=(10, 6, 9)).astype(np.float32)
    big[big < -1] = -np.inf
    valid = rng.random((6, 9)) > 0.1
    wb = rng.random(10).astype(np.float32)
    np.testing.assert_allclose(_copeland(big, valid, wb), _copeland_direct(big, valid, wb))


def test_cascade_min_relevance_fill_rule():
    # A minmax [1, .9, .1, 0], B minmax [0, .125, .25, 1]; tau .2: items 2, 3 fail A,
    # pass B -> tier 1, ordered by B: 3 before 2.
    pool = make_pool([10, 9, 1, 0], [0, 1, 2, 8])
    out = fuse(pool, FusionConfig("cascade", params={"order": ["A", "B"], "min_relevance": 0.2}))[0]
    np.testing.assert_allclose(out, [1, 0.75, 0.25, 0.5])
    # B primary: items 3 (1.0) and 2 (.25) pass B -> first, by B; then A fills: 0, 1
    out = fuse(pool, FusionConfig("cascade", params={"order": ["B", "A"], "min_relevance": 0.2}))[0]
    np.testing.assert_allclose(out, [0.5, 0.25, 0.75, 1])
    # tau above B's .25: only item 3 passes B; A's relevant 0, 1 fill; item 2 (A .1, B .3) last
    out = fuse(pool, FusionConfig("cascade", params={"order": ["B", "A"], "min_relevance": 0.3}))[0]
    np.testing.assert_allclose(out, [0.75, 0.5, 0.25, 1])


def test_cascade_near_ties_go_to_next_model():
    # A minmax [1, .97, .5, 0]; eps .05: items 0 and 1 tie -> B decides (B: 1 > 0)
    pool = make_pool([1, 0.97, 0.5, 0], [0, 5, 1, 2])
    cfg = FusionConfig("cascade", params={"order": ["A", "B"], "epsilon": 0.05})
    np.testing.assert_allclose(fuse(pool, cfg)[0], [0.75, 1, 0.5, 0.25])
    cfg = FusionConfig("cascade", params={"order": ["A", "B"], "epsilon": 0.0})
    np.testing.assert_allclose(fuse(pool, cfg)[0], [1, 0.75, 0.5, 0.25])


def test_padding_is_minus_inf_for_every_method():
    scores = np.array([[[3, 1, NAN]], [[1, 2, NAN]]], np.float32)
    pool = CandidatePool(
        np.array([0], np.int32),
        np.array([[0, 1, -1]], np.int32),
        scores,
        descending_ranks(scores),
        ("A", "B"),
        5,
    )
    for method in FUSERS:
        if FUSERS[method].needs_training:
            continue
        out = fuse(pool, FusionConfig(method))
        assert out.dtype == np.float32 and out[0, 2] == -np.inf and np.isfinite(out[0, :2]).all(), (
            method
        )


# ---------------------------------------------------------------- config and facade
def test_config_round_trip_and_validation():
    cfg = FusionConfig("rrf", "zscore", {"A": 0.5}, {"k": 10})
    assert FusionConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ConfigError, match="weighted"):
        FusionConfig("magic")
    with pytest.raises(ConfigError, match="minmax"):
        FusionConfig(normalization="l2")
    with pytest.raises(ConfigError):
        FusionConfig(weights={"A": -1})
    with pytest.raises(ConfigError):
        FusionConfig.from_dict({"method": "rrf", "color": 1})
    with pytest.raises(ConfigError, match="not in the pool"):
        fuse(POOL, FusionConfig(weights={"Z": 1}))
    with pytest.raises(ConfigError, match="above zero"):
        fuse(POOL, FusionConfig(weights={"A": 0, "B": 0}))
    with pytest.raises(ConfigError, match="trained"):
        fuse(POOL, FusionConfig("stacking"))
    assert set(FUSERS) == {
        "weighted", "combmnz", "rrf", "borda", "condorcet", "cascade", "stacking", "ltr"
    }  # fmt: skip
    assert FUSERS["stacking"].needs_training and not FUSERS["weighted"].needs_training


@pytest.mark.parametrize("method", ["weighted", "combmnz", "rrf", "borda"])
def test_contributions_sum_to_fused_for_additive_methods(method):
    cfg = FusionConfig(method, weights={"A": 0.3, "B": 2.0})
    contrib = contributions(POOL, cfg)[1]
    assert contrib.shape == (2, 1, 4)
    np.testing.assert_allclose(contrib.sum(axis=0), fuse(POOL, cfg), rtol=1e-5, atol=1e-7)


def test_fusion_never_rescores_and_reuses_normalised_tensor():
    rng = np.random.default_rng(0)
    mats = {m: rng.normal(size=(30, 20)).astype(np.float32) for m in ("a", "b", "c")}
    calls = dict.fromkeys(mats, 0)

    def scorer(name):
        def f(users):
            calls[name] += 1
            return mats[name][users]

        return f

    pool = build_pool({m: scorer(m) for m in mats}, np.arange(30), per_model=5, block_size=10)
    assert calls == {"a": 3, "b": 3, "c": 3}
    first = pool.normalized("minmax", fill=0.0)
    for method in ("weighted", "combmnz", "rrf", "borda", "condorcet", "cascade"):
        for w in (0.1, 1.0, 5.0):
            fuse(pool, FusionConfig(method, weights={"a": w}))
    assert calls == {"a": 3, "b": 3, "c": 3}
    assert pool.normalized("minmax", fill=0.0) is first


# ---------------------------------------------------------------- stacking
def _stacking_pool(seed):
    rng = np.random.default_rng(seed)
    n, c = 300, 20
    signal = rng.random((n, c)).astype(np.float32)
    noise = rng.random((2, n, c)).astype(np.float32)
    scores = np.stack([noise[0], signal, noise[1]])
    items = np.tile(np.arange(c, dtype=np.int32), (n, 1))
    pool = CandidatePool(
        np.arange(n, dtype=np.int32),
        items,
        scores,
        descending_ranks(scores),
        ("n1", "signal", "n2"),
        c,
    )
    truth = sp.csr_matrix((signal > 0.85).astype(np.float32))
    return pool, truth, signal


@pytest.mark.parametrize(("estimator", "min_overlap"), [("logistic", 0.9), ("hgb", 0.75)])
def test_stacking_learns_the_signal_model(estimator, min_overlap):
    pool, truth, _ = _stacking_pool(0)
    ctx = FusionContext(item_popularity=np.arange(20), user_activity=np.ones(300))
    with threadpool_limits(1):  # HGB's OpenMP threads crawl on a busy 2-core box
        stacker = StackingFuser(estimator=estimator, random_state=0).fit(pool, truth, ctx)
    test_pool, _, signal = _stacking_pool(1)
    pred = fuse(test_pool, FusionConfig("stacking"), trained=stacker, context=ctx)
    assert pred.shape == (300, 20)
    top_pred = np.argsort(-pred, axis=1)[:, :3]
    top_true = np.argsort(-signal, axis=1)[:, :3]
    overlap = np.mean([len(set(a) & set(b)) / 3 for a, b in zip(top_pred, top_true, strict=True)])
    assert overlap > min_overlap


def test_stacking_errors():
    pool, truth, _ = _stacking_pool(0)
    with pytest.raises(ConfigError, match="not trained"):
        StackingFuser().predict(pool)
    with pytest.raises(ConfigError, match="never"):
        StackingFuser().fit(pool, sp.csr_matrix(truth.shape, dtype=np.float32))
    stacker = StackingFuser().fit(pool, truth)
    with pytest.raises(ConfigError, match="retrain"):
        stacker.predict(POOL)


def test_cascade_packed_sort_equals_lexsort():
    from recsys.ranking.fusion.cascade import _sort_rows

    rng = np.random.default_rng(11)
    n, c = 40, 30
    tier = rng.integers(0, 4, (n, c)).astype(np.int64)
    buckets = [np.floor(rng.random((n, c)) * 12) for _ in range(5)]
    buckets[1][rng.random((n, c)) < 0.2] = np.inf  # missing scores
    pos = np.broadcast_to(np.arange(c), (n, c))
    expected = np.lexsort([pos, *buckets[::-1], tier], axis=-1)
    np.testing.assert_array_equal(_sort_rows([tier, *buckets]), expected)
    floats = [rng.random((n, c)) for _ in range(3)]  # not whole numbers: lexsort path
    expected = np.lexsort([pos, *floats[::-1], tier], axis=-1)
    np.testing.assert_array_equal(_sort_rows([tier, *floats]), expected)
    wide = [np.floor(rng.random((n, c)) * 1e6) for _ in range(4)]  # > 63 bits: lexsort path
    expected = np.lexsort([pos, *wide[::-1], tier], axis=-1)
    np.testing.assert_array_equal(_sort_rows([tier, *wide]), expected)
