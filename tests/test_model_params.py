"""Hyperparameter bounds: declared once per model, enforced by ``make_model`` before any fit."""

from __future__ import annotations

import functools
import math

import pytest

from recsys.errors import ConfigError
from recsys.models import MODEL_NAMES, ParamRange, make_model, model_class
from recsys.service.preset import Preset


def test_no_components_100000_is_refused_before_anything_is_built(monkeypatch):
    cls = model_class("lightfm_warp")
    real = cls.__init__

    @functools.wraps(real)
    def never(self, *args, **kwargs):
        raise AssertionError("the model was built")

    monkeypatch.setattr(cls, "__init__", never)
    with pytest.raises(ConfigError, match=r"no_components must be between 1 and 512") as err:
        make_model("lightfm_warp", no_components=100000)
    assert err.value.code == "model.param_range" and err.value.params["param"] == "no_components"


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("lightfm_warp", {"no_components": "100000"}),  # a string is not a number
        ("lightfm_warp", {"epochs": 2.5}),  # whole numbers only
        ("lightfm_warp", {"epochs": True}),
        ("als", {"factors": 0}),
        ("als", {"regularization": math.nan}),
        ("ease", {"l2": "huge"}),
        ("item_knn", {"k_neighbors": 10**9}),
        ("knn_baseline", {"max_items": 10**6}),
        ("svd", {"n_factors": -1}),
        ("trending", {"half_life_days": math.inf}),
    ],
)
def test_values_outside_the_ranges_are_refused(name, params):
    with pytest.raises(ConfigError, match=f"model '{name}'"):
        make_model(name, **params)


def test_values_inside_are_accepted():
    assert make_model("ease", l2="auto").l2 == "auto"
    assert make_model("ease", l2=500.0).l2 == 500.0
    assert make_model("content_tfidf", half_life_days=None).half_life_days is None
    assert make_model("svd", random_state=None).random_state is None
    assert make_model("lightfm_warp", no_components=512, epochs=20.0).no_components == 512


def test_a_preset_with_a_huge_setting_is_refused():
    with pytest.raises(ConfigError, match="no_components"):
        Preset.from_dict({"models": {"lightfm_warp": {"no_components": 100000}}})


def test_every_model_declares_ranges_within_what_its_code_accepts():
    for name in MODEL_NAMES:
        for param, bounds in model_class(name).param_ranges.items():
            assert isinstance(bounds, ParamRange) and bounds.low <= bounds.high, (name, param)
