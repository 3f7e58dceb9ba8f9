"""The lab's stratified user sample and its confidence intervals."""

from __future__ import annotations

import numpy as np
import pytest

from recsys.evaluation.sampling import SEGMENT_FLOOR, mean_interval, stratified_sample


def test_small_populations_are_kept_whole():
    labels = np.array(["cold", "heavy", "regular"] * 10)
    assert stratified_sample(labels, max_users=100).tolist() == list(range(30))


def test_sample_is_proportional_with_a_floor_and_seeded():
    labels = np.array(["regular"] * 90_000 + ["heavy"] * 9_900 + ["cold"] * 100)
    rows = stratified_sample(labels, max_users=5_000, seed=1)
    picked = labels[rows]
    assert (picked == "cold").sum() == 100  # the floor: all of a small segment
    assert (picked == "heavy").sum() == 495  # 9,900 / 100,000 x 5,000
    assert (picked == "regular").sum() == 4_500
    assert np.all(np.diff(rows) > 0)
    assert np.array_equal(rows, stratified_sample(labels, max_users=5_000, seed=1))
    assert not np.array_equal(rows, stratified_sample(labels, max_users=5_000, seed=2))
    assert SEGMENT_FLOOR == 200


def test_mean_interval_hand_computed():
    iv = mean_interval(np.array([1.0, 2.0, 3.0, np.nan]))
    # mean 2, sd 1, n 3: half width 1.96 / sqrt(3)
    assert iv.mean == 2.0 and iv.n == 3
    assert iv.half_width == pytest.approx(1.959963984540054 / np.sqrt(3))
    assert np.isnan(mean_interval(np.array([np.nan])).mean)
