"""Candidate pool: union / dedupe / padding, gathered scores, ranks, exclusions, one scoring pass."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from recsys.errors import ConfigError
from recsys.ranking.candidates import CandidatePool, _row_union, build_pool, concat
from recsys.ranking.normalise import descending_ranks

NEG = -np.inf


def _scorers():
    a = np.array([[5, 4, 3, 2, 1, 0], [1, 2, 3, 4, 5, 6]], np.float32)
    b = np.array([[0, 0, 0, 9, 8, NEG], [NEG, NEG, NEG, NEG, NEG, 7]], np.float32)
    return {"a": lambda u: a[u], "b": lambda u: b[u]}


def test_row_union_sorts_dedupes_and_pads():
    idx = np.array([[3, 1, 3, -1], [-1, -1, -1, -1], [2, 2, 0, 5]])
    out = _row_union(idx)
    np.testing.assert_array_equal(out, [[1, 3, -1], [-1, -1, -1], [0, 2, 5]])


def test_pool_union_scores_and_ranks():
    pool = build_pool(_scorers(), np.array([0, 1]), per_model=2)
    assert pool.model_names == ("a", "b")
    # user 0: a's top2 {0, 1}, b's top2 {3, 4}; user 1: a's {4, 5}, b's {5} -> padded
    np.testing.assert_array_equal(pool.items, [[0, 1, 3, 4], [4, 5, -1, -1]])
    np.testing.assert_allclose(pool.scores[0, 0], [5, 4, 2, 1])
    np.testing.assert_allclose(pool.scores[1, 0], [0, 0, 9, 8])
    # b cannot score item 4 for user 1; padding is NaN everywhere
    np.testing.assert_array_equal(np.isnan(pool.scores[1, 1]), [True, False, True, True])
    np.testing.assert_allclose(pool.ranks[0, 0], [1, 2, 3, 4])
    np.testing.assert_allclose(pool.ranks[1, 0], [3, 4, 1, 2])  # ties -> lower item first
    np.testing.assert_array_equal(np.isnan(pool.ranks[1, 1]), [True, False, True, True])
    assert pool.ranks[1, 1, 1] == 1
    # retrieved = in that model's top-2
    np.testing.assert_array_equal(pool.retrieved[1, 0], [False, False, True, True])
    assert pool.model_index("b") == 1
    with pytest.raises(ConfigError):
        pool.model_index("nope")


def test_exclusions_are_never_candidates():
    exclude = sp.csr_matrix(np.array([[1, 0, 0, 1, 0, 0], [0, 0, 0, 0, 0, 1]], np.float32))
    pool = build_pool(_scorers(), np.array([0, 1]), per_model=2, exclude=exclude)
    assert 0 not in pool.items[0] and 3 not in pool.items[0]
    assert 5 not in pool.items[1]
    # user 0: a top2 after masking = {1, 2}; b top2 = {4, 1 or 2 (ties at 0)} -> union {1, 2, 4}
    np.testing.assert_array_equal(pool.items[0][pool.items[0] >= 0], [1, 2, 4])


def test_whole_catalog_when_m_exceeds_items():
    pool = build_pool(_scorers(), np.array([0]), per_model=50)
    np.testing.assert_array_equal(pool.items[0], np.arange(6))


def test_scorers_called_once_per_block():
    calls = {"a": 0, "b": 0}
    base = _scorers()

    def counting(name):
        def f(u):
            calls[name] += 1
            return base[name](u)

        return f

    build_pool({n: counting(n) for n in base}, np.array([0, 1, 0]), per_model=2, block_size=2)
    assert calls == {"a": 2, "b": 2}


def test_subset_and_concat_round_trip():
    pool = build_pool(_scorers(), np.array([0, 1]), per_model=2)
    second = pool.subset(np.array([1]))
    assert second.items.shape == (1, 2)  # trimmed to its width
    joined = concat([pool.subset(np.array([0])), second])
    np.testing.assert_array_equal(joined.items, pool.items)
    np.testing.assert_array_equal(np.isnan(joined.scores), np.isnan(pool.scores))
    np.testing.assert_allclose(np.nan_to_num(joined.ranks), np.nan_to_num(pool.ranks))
    assert joined.per_model == 2


def test_bad_inputs():
    with pytest.raises(ConfigError):
        build_pool({}, np.array([0]))
    with pytest.raises(ValueError):
        build_pool({"a": lambda u: np.zeros((len(u) + 1, 3))}, np.array([0]))
    assert isinstance(build_pool(_scorers(), np.array([], np.int32)), CandidatePool)


def test_threaded_pool_equals_serial_pool():
    rng = np.random.default_rng(7)
    a = rng.random((1300, 60)).astype(np.float32)
    b = rng.random((1300, 60)).astype(np.float32)
    scorers = {"a": lambda users: a[users], "b": lambda users: b[users]}
    users = np.arange(1300, dtype=np.int32)
    serial = build_pool(scorers, users, per_model=7, block_size=256, n_jobs=1)
    threaded = build_pool(scorers, users, per_model=7, block_size=256, n_jobs=2)
    np.testing.assert_array_equal(serial.items, threaded.items)
    np.testing.assert_array_equal(serial.scores, threaded.scores)
    np.testing.assert_array_equal(serial.ranks, threaded.ranks)


def test_blocks_threads_and_narrowing_do_not_change_the_pool():
    """Many small threaded blocks (the widest union in a late block, NaN scores, exclusions)
    give the same pool as one block: the outputs are preallocated at the widest possible
    union and narrowed in place at the end."""
    rng = np.random.default_rng(3)
    n_users, n_items = 700, 90
    a = rng.random((n_users, n_items)).astype(np.float32)
    b = np.round(rng.random((n_users, n_items)), 1).astype(np.float32)  # ties
    b[rng.random((n_users, n_items)) < 0.2] = np.nan
    c = a.copy()
    c[650:] = rng.random((50, n_items))  # late users: the models disagree, a wider union
    exclude = sp.random(n_users, n_items, density=0.1, format="csr", random_state=1)
    scorers = {"a": lambda u: a[u], "b": lambda u: b[u].astype(np.float64), "c": lambda u: c[u]}
    users = rng.permutation(n_users).astype(np.int32)
    one = build_pool(scorers, users, per_model=6, exclude=exclude, block_size=n_users, n_jobs=1)
    many = build_pool(scorers, users, per_model=6, exclude=exclude, block_size=37, n_jobs=3)
    assert many.items.shape == one.items.shape and many.items.flags.c_contiguous
    np.testing.assert_array_equal(many.items, one.items)
    np.testing.assert_array_equal(many.scores, one.scores)
    np.testing.assert_array_equal(many.ranks, one.ranks)
    assert many.scores.dtype == many.ranks.dtype == np.float32
    for row, user in enumerate(users[:50]):  # every model's own top-6 is in the pool
        for name, m in (("a", a), ("c", c)):
            s = m[user].copy()
            s[exclude[user].indices] = -np.inf
            top = np.argsort(-s, kind="stable")[:6]
            assert set(top) <= set(many.items[row]), name


def test_everything_excluded_gives_an_empty_pool_row():
    exclude = sp.csr_matrix(np.ones((2, 6), np.float32))
    pool = build_pool(_scorers(), np.array([0, 1]), per_model=2, exclude=exclude)
    assert pool.items.shape == (2, 0) and pool.scores.shape == (2, 2, 0)


def test_descending_ranks_match_a_stable_sort():
    rng = np.random.default_rng(5)
    for _ in range(20):
        shape = (int(rng.integers(1, 4)), int(rng.integers(1, 30)), int(rng.integers(1, 50)))
        s = np.round(rng.standard_normal(shape), 1).astype(np.float32)  # ties, signed zeros
        s[rng.random(shape) < 0.3] = np.nan
        order = np.argsort(-np.where(np.isnan(s), -np.inf, s), axis=-1, kind="stable")
        want = np.empty(shape, np.float32)
        positions = np.broadcast_to(np.arange(1, shape[-1] + 1, dtype=np.float32), shape)
        np.put_along_axis(want, order, positions, -1)
        want[np.isnan(s)] = np.nan
        np.testing.assert_array_equal(descending_ranks(s), want)
