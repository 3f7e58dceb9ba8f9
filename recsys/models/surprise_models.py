"""Compatibility names for the Surprise family, which now lives in four modules.

:mod:`recsys.models.surprise_base` (shared machinery, derived ratings),
:mod:`recsys.models.surprise_factors` (SVD, SVD++, NMF),
:mod:`recsys.models.surprise_baselines` (BaselineOnly, CoClustering) and
:mod:`recsys.models.surprise_neighbours` (KNNBaseline, SlopeOne). Code that imported the
classes from here before the split keeps working. (Stored models never name a module: the
workspace stores arrays and picks the class by registry name.)
"""

from __future__ import annotations

from recsys.models.surprise_base import IMPLICIT_RATINGS, SurpriseRecommender, derive_ratings
from recsys.models.surprise_baselines import SurpriseBaselineOnly, SurpriseCoClustering
from recsys.models.surprise_factors import SurpriseNMF, SurpriseSVD, SurpriseSVDpp
from recsys.models.surprise_neighbours import SurpriseKNNBaseline, SurpriseSlopeOne

__all__ = [
    "IMPLICIT_RATINGS",
    "SurpriseBaselineOnly",
    "SurpriseCoClustering",
    "SurpriseKNNBaseline",
    "SurpriseNMF",
    "SurpriseRecommender",
    "SurpriseSVD",
    "SurpriseSVDpp",
    "SurpriseSlopeOne",
    "derive_ratings",
]
