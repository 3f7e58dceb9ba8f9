"""Learning-to-rank fusion: it recovers a planted signal, explains itself exactly, refuses cleanly."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from recsys.errors import ConfigError
from recsys.ranking.candidates import CandidatePool
from recsys.ranking.fusion import FUSERS, FusionConfig, FusionContext, contributions, fuse
from recsys.ranking.fusion.ltr import LTRFuser
from recsys.ranking.normalise import descending_ranks

N_USERS, N_CANDIDATES, N_ITEMS = 400, 30, 60


def _pool(seed: int) -> tuple[CandidatePool, sp.csr_matrix, np.ndarray, FusionContext]:
    """Three models; the relevant items are those with a high *product* of a model's score and
    the user's affinity to the item's category (no model and no linear blend ranks them alone)."""
    rng = np.random.default_rng(seed)
    items = np.stack([rng.choice(N_ITEMS, N_CANDIDATES, replace=False) for _ in range(N_USERS)])
    items = np.sort(items, axis=1).astype(np.int32)
    category = np.arange(N_ITEMS) % 3
    share = rng.dirichlet(np.ones(3), N_USERS).astype(np.float32)
    signal = rng.random((N_USERS, N_CANDIDATES)).astype(np.float32)
    affinity = share[np.arange(N_USERS)[:, None], category[items]]
    utility = signal * affinity
    scores = np.stack(
        [rng.random((N_USERS, N_CANDIDATES)), signal, rng.random((N_USERS, N_CANDIDATES))]
    )
    scores = scores.astype(np.float32)
    pool = CandidatePool(
        np.arange(N_USERS, dtype=np.int32),
        items,
        scores,
        descending_ranks(scores),
        ("noise1", "signal", "noise2"),
        N_CANDIDATES,
    )
    cut = np.quantile(utility, 0.9, axis=1, keepdims=True)
    rel = utility >= cut
    rows = np.repeat(np.arange(N_USERS), N_CANDIDATES)[rel.ravel()]
    truth = sp.csr_matrix(
        (np.ones(len(rows), np.float32), (rows, items[rel])), shape=(N_USERS, N_ITEMS)
    )
    ctx = FusionContext(
        item_popularity=np.ones(N_ITEMS),
        user_activity=np.ones(N_USERS),
        user_category_share=sp.csr_matrix(share),
        item_category=category,
    )
    return pool, truth, utility, ctx


def _top3_overlap(pred: np.ndarray, utility: np.ndarray) -> float:
    top_pred = np.argsort(-pred, axis=1)[:, :3]
    top_true = np.argsort(-utility, axis=1)[:, :3]
    return float(
        np.mean([len(set(a) & set(b)) / 3 for a, b in zip(top_pred, top_true, strict=True)])
    )


def test_ltr_recovers_a_planted_signal_that_a_weighted_sum_cannot():
    pool, truth, _, ctx = _pool(0)
    fuser = LTRFuser(n_estimators=150, random_state=0, n_jobs=1).fit(pool, truth, ctx)
    test_pool, _, utility, test_ctx = _pool(1)
    pred = fuse(test_pool, FusionConfig("ltr"), trained=fuser, context=test_ctx)
    best_linear = fuse(test_pool, FusionConfig(weights={"noise1": 0, "signal": 1, "noise2": 0}))
    assert pred.shape == (N_USERS, N_CANDIDATES)
    assert _top3_overlap(pred, utility) > _top3_overlap(best_linear, utility) + 0.15
    assert _top3_overlap(pred, utility) > 0.6


def test_ltr_contributions_add_up_to_the_score():
    pool, truth, _, ctx = _pool(0)
    fuser = LTRFuser(n_estimators=40, random_state=0, n_jobs=1).fit(pool, truth, ctx)
    names, parts = contributions(pool, FusionConfig("ltr"), fuser, ctx)
    assert names == ["noise1", "signal", "noise2", "context", "base"]
    np.testing.assert_allclose(parts.sum(axis=0), fuser.predict(pool, ctx), rtol=1e-4, atol=1e-4)
    # the signal model explains more of the ranking than the noise models
    spread = np.abs(parts).mean(axis=(1, 2))
    assert spread[1] > spread[0] and spread[1] > spread[2]


def test_ltr_refuses_cleanly():
    pool, truth, _, ctx = _pool(0)
    assert FUSERS["ltr"].needs_training and not FUSERS["ltr"].uses_weights
    with pytest.raises(ConfigError, match="not trained"):
        fuse(pool, FusionConfig("ltr"))
    with pytest.raises(ConfigError, match="not trained"):
        LTRFuser().predict(pool, ctx)
    with pytest.raises(ConfigError, match="cannot learn"):
        LTRFuser().fit(pool, sp.csr_matrix(truth.shape, dtype=np.float32), ctx)


def _reference_features(fuser, pool, r, cols, ctx):
    """The feature build as first written (fancy indexing, one ``np.stack``): the oracle."""
    items = pool.items[r, cols].astype(np.int64)
    users = pool.users[r].astype(np.int64)
    norm = pool.normalized("minmax")
    filled = pool.normalized("minmax", fill=0.0)
    parts = []
    for m in range(pool.n_models):
        parts += [pool.scores[m, r, cols], pool.ranks[m, r, cols], norm[m, r, cols]]
    parts.append(fuser._weights(pool) @ filled[:, r, cols])
    parts.append(pool.retrieved[:, r, cols].sum(axis=0).astype(np.float32))
    parts.append(pool.valid[r].sum(axis=1).astype(np.float32))
    parts.append(np.log1p(np.maximum(np.asarray(ctx.item_popularity, np.float32)[items], 0.0)))
    parts.append(np.asarray(ctx.item_recency, np.float32)[items])
    parts.append(np.log1p(np.maximum(np.asarray(ctx.user_activity, np.float32)[users], 0.0)))
    for share, label in (
        (ctx.user_category_share, ctx.item_category),
        (ctx.user_brand_share, ctx.item_brand),
    ):
        codes = np.asarray(label, np.int64)[items]
        dense = share.toarray()
        parts.append(np.where(codes >= 0, dense[users, np.maximum(codes, 0)], np.nan))
    return np.stack([np.asarray(p, np.float32) for p in parts], axis=1)


def test_ltr_features_equal_the_reference_build_on_padded_pools_with_gaps():
    """The vectorised feature build gives the same bits as the plain one (padding, NaN scores,
    users that are not the first rows of the context, unknown labels, subsets of rows)."""
    rng = np.random.default_rng(7)
    pool, _, _, _ = _pool(3)
    items = pool.items.copy()
    width = rng.integers(5, N_CANDIDATES + 1, N_USERS)
    items[np.arange(N_CANDIDATES)[None, :] >= width[:, None]] = -1
    scores = pool.scores.copy()
    scores[:, items < 0] = np.nan
    scores[rng.random(scores.shape) < 0.2] = np.nan
    users = (np.arange(N_USERS) * 3 + 11).astype(np.int32)  # global ids, not 0..n-1
    padded = CandidatePool(
        users, items, scores, descending_ranks(scores), pool.model_names, per_model=12
    )
    n_all = int(users.max()) + 5
    category = (np.arange(N_ITEMS) % 4) - 1  # -1: unknown
    brand = np.arange(N_ITEMS) % 5
    ctx = FusionContext(
        item_popularity=rng.integers(0, 50, N_ITEMS),
        item_recency=rng.random(N_ITEMS) * 30,
        user_activity=rng.integers(0, 9, n_all),
        user_category_share=sp.random(n_all, 3, density=0.6, random_state=1, format="csr"),
        item_category=category,
        user_brand_share=sp.random(n_all, 5, density=0.5, random_state=2, format="csr"),
        item_brand=brand,
    )
    fuser = LTRFuser()
    fuser.blend_weights_ = {"noise1": 0.3, "signal": 1.7}
    for rows in (np.arange(N_USERS), np.array([5, 0, 17, 399, 42])):
        x, cells = fuser.features(padded, rows, ctx)
        want = _reference_features(fuser, padded, cells[:, 0], cells[:, 1], ctx)
        assert x.shape == want.shape and x.dtype == np.float32
        np.testing.assert_array_equal(x, want)  # NaN equal to NaN, every other value exact
        assert (padded.items[cells[:, 0], cells[:, 1]] >= 0).all()
        assert len(x) == int(padded.valid[rows].sum())
