"""Rank and score fusion over a ``CandidatePool`` (after ranx, Bassani & Romelli, 2022).

One module per family (``additive``, ``voting``, ``cascade``, ``stacking``), one registry line
per method (``registry.FUSERS``), one facade (``fuse``). Normalisation is separate
(``recsys.ranking.normalise``) and applied per user over that user's pool. Fusion never rescores
a model: it reads the pool only, and what does not depend on the weights is memoised on it.
"""

from recsys.ranking.fusion.base import FusionContext, FusionMethod, TrainedFuser
from recsys.ranking.fusion.config import FusionConfig
from recsys.ranking.fusion.fuse import contributions, fuse
from recsys.ranking.fusion.registry import FUSERS
from recsys.ranking.fusion.stacking import StackingFuser

__all__ = [
    "FUSERS",
    "FusionConfig",
    "FusionContext",
    "FusionMethod",
    "StackingFuser",
    "TrainedFuser",
    "contributions",
    "fuse",
]
