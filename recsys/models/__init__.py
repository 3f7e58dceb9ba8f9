"""Model registry: name -> class.

One file per family; imports are lazy so that the UI can list models without importing
LightFM, Surprise or implicit.
"""

from __future__ import annotations

from importlib import import_module

from recsys.errors import ConfigError
from recsys.models.base import ParamRange, ProgressCallback, Recommender

#: registry name -> "module:Class"
_MODEL_PATHS: dict[str, str] = {
    "popularity": "recsys.models.popularity:Popularity",
    "trending": "recsys.models.popularity:TrendingPopularity",
    "item_knn": "recsys.models.item_knn:ItemKNN",
    "ease": "recsys.models.ease:EASE",
    "rp3beta": "recsys.models.rp3beta:RP3beta",
    "als": "recsys.models.implicit_models:ImplicitALS",
    "bpr": "recsys.models.implicit_models:ImplicitBPR",
    "content_tfidf": "recsys.models.content:ContentTfidf",
    "lightfm_warp": "recsys.models.lightfm_model:LightFMWarp",
    "lightfm_bpr": "recsys.models.lightfm_model:LightFMBPR",
    "lightfm_logistic": "recsys.models.lightfm_model:LightFMLogistic",
    "lightfm_warp_kos": "recsys.models.lightfm_model:LightFMWarpKOS",
    "svd": "recsys.models.surprise_factors:SurpriseSVD",
    "svdpp": "recsys.models.surprise_factors:SurpriseSVDpp",
    "nmf": "recsys.models.surprise_factors:SurpriseNMF",
    "knn_baseline": "recsys.models.surprise_neighbours:SurpriseKNNBaseline",
    "baseline_only": "recsys.models.surprise_baselines:SurpriseBaselineOnly",
    "slope_one": "recsys.models.surprise_neighbours:SurpriseSlopeOne",
    "coclustering": "recsys.models.surprise_baselines:SurpriseCoClustering",
}

#: Models fused by default (preset "default").
DEFAULT_MODELS: tuple[str, ...] = (
    "ease",
    "rp3beta",
    "als",
    "lightfm_warp",
    "item_knn",
    "svd",
    "content_tfidf",
    "popularity",
)

MODEL_NAMES: tuple[str, ...] = tuple(_MODEL_PATHS)

#: Fewer epochs and factors for quick runs: the app's fast mode (``FUSION_STUDIO_FAST=1``,
#: tests and quick demos). Only keys a model has are applied.
QUICK_PARAMS: dict[str, dict[str, object]] = {
    "lightfm_warp": {"epochs": 3, "no_components": 16},
    "lightfm_bpr": {"epochs": 3, "no_components": 16},
    "lightfm_logistic": {"epochs": 3, "no_components": 16},
    "lightfm_warp_kos": {"epochs": 3, "no_components": 16},
    "svd": {"n_epochs": 5, "n_factors": 20},
    "svdpp": {"n_epochs": 2, "n_factors": 10},
    "nmf": {"n_epochs": 10},
    "coclustering": {"n_epochs": 5},
    "als": {"iterations": 5},
    "bpr": {"iterations": 50},
}


def model_class(name: str) -> type[Recommender]:
    """The class registered under ``name``."""
    if name not in _MODEL_PATHS:
        known = ", ".join(_MODEL_PATHS)
        raise ConfigError(
            f"unknown model '{name}'. Known models: {known}.",
            code="model.unknown",
            params={"name": name, "known": known},
        )
    module, cls = _MODEL_PATHS[name].split(":")
    return getattr(import_module(module), cls)


def make_model(name: str, **params) -> Recommender:
    """A fresh, unfitted model with ``params`` overriding its defaults.

    Unknown parameters and values outside the model's ``param_ranges`` raise ``ConfigError``
    before anything is built.
    """
    cls = model_class(name)
    cls.check_params(params)
    return cls(**params)


__all__ = [
    "DEFAULT_MODELS",
    "MODEL_NAMES",
    "QUICK_PARAMS",
    "ParamRange",
    "ProgressCallback",
    "Recommender",
    "make_model",
    "model_class",
]
