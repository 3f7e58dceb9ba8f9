"""LightFM early stopping on the inner holdout."""

from __future__ import annotations

import numpy as np
import pytest

from recsys.models.lightfm_model import LightFMWarp
from tests.fixtures_data import make_dataset


@pytest.fixture(scope="module")
def data():
    return make_dataset(n_users=120, n_items=40, n_cold_items=2, events_per_user=10, seed=2)


def test_early_stopping_refits_on_all_data_for_the_best_epoch_count(data):
    params = dict(
        no_components=8, epochs=25, patience=2, min_epochs=4, random_state=3, early_stopping=True
    )
    model = LightFMWarp(**params).fit(data)
    scores = model.epoch_scores_
    best = int(np.argmax(scores)) + 1
    assert model.best_epochs_ == best
    # stopped after `patience` epochs without a new best (or at the maximum)
    assert len(scores) == 25 or (len(scores) >= 4 and len(scores) - best == 2)
    plain = LightFMWarp(**{**params, "early_stopping": False, "epochs": best}).fit(data)
    np.testing.assert_array_equal(model.item_emb_, plain.item_emb_)
    np.testing.assert_array_equal(model.user_emb_, plain.user_emb_)


def test_min_epochs_are_always_tried(data):
    model = LightFMWarp(
        no_components=8, epochs=30, patience=1, min_epochs=12, early_stopping=True
    ).fit(data)
    assert len(model.epoch_scores_) >= 12


def test_by_default_trains_the_given_epochs(data):
    calls = []
    model = LightFMWarp(no_components=8, epochs=4).fit(data, progress=lambda f, m: calls.append(m))
    assert model.best_epochs_ == 4 and not hasattr(model, "epoch_scores_")
    assert calls[-1] == "epoch 4/4"
