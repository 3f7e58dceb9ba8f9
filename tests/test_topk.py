"""Top-k selection: hand-checked ties and padding, and a property test against a full sort."""

from __future__ import annotations

import numpy as np
import pytest

from recsys.ranking import topk
from recsys.ranking.topk import top_k_indices

NEG = -np.inf


def reference_top_k(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The contract, one row at a time: order by (score descending, column ascending), NaN as
    -inf, then non-finite entries reported as (-1, -inf)."""
    s = np.where(np.isnan(scores), NEG, scores).astype(np.float32)
    n, m = s.shape
    k = min(k, m)
    idx = np.empty((n, k), np.int32)
    for row in range(n):
        idx[row] = np.lexsort((np.arange(m), -s[row].astype(np.float64)))[:k]
    vals = np.take_along_axis(s, idx, axis=1)
    bad = ~np.isfinite(vals)
    idx[bad] = -1
    vals[bad] = NEG
    return idx, vals


def test_ties_take_the_lower_column_and_padding_is_minus_one():
    s = np.array(
        [
            [1, 3, 3, 0, 3, 2],  # the k-th value 3 is tied across the boundary
            [0, 0, 0, 5, 0, 0],  # one positive, then the lowest zero columns
            [NEG, 2, NEG, np.nan, NEG, NEG],  # fewer than k finite values
        ],
        np.float32,
    )
    idx, vals = top_k_indices(s, 3)
    np.testing.assert_array_equal(idx, [[1, 2, 4], [3, 0, 1], [1, -1, -1]])
    np.testing.assert_array_equal(vals, [[3, 3, 3], [5, 0, 0], [2, NEG, NEG]])


def test_input_is_not_modified_and_k_is_capped():
    s = np.array([[np.nan, 1.0, 2.0]], np.float32)
    before = s.copy()
    idx, vals = top_k_indices(s, 10)
    np.testing.assert_array_equal(s, before)  # NaN stays NaN in the caller's array
    np.testing.assert_array_equal(idx, [[2, 1, -1]])
    assert top_k_indices(np.zeros((0, 4), np.float32), 2)[0].shape == (0, 2)
    assert top_k_indices(s, 0)[0].shape == (1, 0)


def _random_scores(rng: np.random.Generator, kind: str, n: int, m: int) -> np.ndarray:
    if kind == "distinct":
        return rng.standard_normal((n, m)).astype(np.float32)
    if kind == "few values":  # ties everywhere, also across the boundary
        return rng.integers(-3, 4, (n, m)).astype(np.float32)
    if kind == "sparse":  # a neighbour model: mostly zeros, some rows with few positives
        s = rng.random((n, m)).astype(np.float32)
        s[rng.random((n, m)) < rng.random((n, 1))] = 0
        return s
    if kind == "masked":  # counts (many ties) with excluded items
        s = rng.integers(0, 5, (n, m)).astype(np.float32)
        s[rng.random((n, m)) < rng.random((n, 1))] = NEG
        return s
    if kind == "nan and inf":
        s = rng.standard_normal((n, m)).astype(np.float32)
        s[rng.random((n, m)) < 0.3] = np.nan
        s[rng.random((n, m)) < 0.02] = np.inf
        s[rng.random((n, m)) < 0.2] = 0
        return s
    s = np.round(rng.standard_normal((n, m)), 1).astype(np.float32)  # signed zeros, negatives
    s[rng.random((n, m)) < 0.3] = -0.0
    s[rng.random((n, m)) < 0.2] = NEG
    return s


KINDS = ("distinct", "few values", "sparse", "masked", "nan and inf", "signed zeros")


@pytest.mark.parametrize("kind", KINDS)
def test_matches_a_full_sort_on_random_inputs(kind):
    rng = np.random.default_rng(KINDS.index(kind))
    for _ in range(40):
        n = int(rng.integers(1, 30))
        m = int(rng.integers(1, 400))
        k = int(rng.integers(1, m + 3))
        s = _random_scores(rng, kind, n, m)
        got_idx, got_vals = top_k_indices(s, k)
        want_idx, want_vals = reference_top_k(s, k)
        np.testing.assert_array_equal(got_idx, want_idx, err_msg=f"{kind} n={n} m={m} k={k}")
        np.testing.assert_array_equal(got_vals, want_vals)


@pytest.mark.parametrize("kind", KINDS)
def test_long_rows_and_small_chunks_match_a_full_sort(kind, monkeypatch):
    """Rows long enough for the sampled prefilter, split into several chunks."""
    monkeypatch.setattr(topk, "_CHUNK_CELLS", 3 * 3000)
    rng = np.random.default_rng(100 + KINDS.index(kind))
    for k in (1, 7, 20, 100):
        s = _random_scores(rng, kind, 13, 3000)
        got = top_k_indices(s, k)
        want = reference_top_k(s, k)
        np.testing.assert_array_equal(got[0], want[0], err_msg=f"{kind} k={k}")
        np.testing.assert_array_equal(got[1], want[1])


def test_rows_where_the_sample_misleads_fall_back_to_a_partition():
    # the sampled threshold sees only the large values of the first half of each row
    m = 4000
    s = np.zeros((4, m), np.float32)
    s[:, : m // 2] = np.arange(m // 2, dtype=np.float32)[::-1]
    s[1] = s[1][::-1]
    s[2, ::2] = 7  # a mass of ties at the k-th value
    s[3, :] = NEG
    for k in (5, 50):
        np.testing.assert_array_equal(top_k_indices(s, k)[0], reference_top_k(s, k)[0])
