"""The registry of fusion methods: one line per method (the UI lists it, configs check it).

To add a method: write its function (and ``parts`` if it is a weighted sum of per-model terms,
or a ``trainer`` if it learns) in a module of this package, then add one line below.
"""

from __future__ import annotations

from recsys.ranking.fusion.additive import (
    borda_count,
    borda_count_parts,
    comb_mnz,
    comb_mnz_parts,
    reciprocal_rank,
    reciprocal_rank_parts,
    weighted_sum,
    weighted_sum_parts,
)
from recsys.ranking.fusion.base import FusionMethod
from recsys.ranking.fusion.cascade import cascade
from recsys.ranking.fusion.ltr import LTRFuser, ltr_untrained
from recsys.ranking.fusion.stacking import StackingFuser, stacking_untrained
from recsys.ranking.fusion.voting import condorcet

#: method name -> FusionMethod
FUSERS: dict[str, FusionMethod] = {
    m.name: m
    for m in (
        FusionMethod("weighted", "Weighted sum (CombSUM)", "Sum of each model's normalised score times its weight.", weighted_sum, parts=weighted_sum_parts),
        FusionMethod("combmnz", "CombMNZ", "Weighted sum times the number of models that retrieved the item: rewards agreement.", comb_mnz, parts=comb_mnz_parts),
        FusionMethod("rrf", "Reciprocal rank fusion", "Sum of weight / (60 + rank): robust, uses ranks only.", reciprocal_rank, uses_normalization=False, parts=reciprocal_rank_parts),
        FusionMethod("borda", "Borda count", "Each model gives points by rank (top = most); weighted sum of points.", borda_count, uses_normalization=False, parts=borda_count_parts),
        FusionMethod("condorcet", "Condorcet (Copeland)", "Items that beat most others in weighted head-to-head votes come first.", condorcet, uses_normalization=False),
        FusionMethod("cascade", "Cascade", "A primary model decides; the next models break its ties and fill in when it is not confident.", cascade, uses_weights=False),
        FusionMethod("stacking", "Stacking (learned)", "A small classifier learns how to combine the models on a validation split.", stacking_untrained, uses_weights=False, uses_normalization=False, trainer=StackingFuser),
        FusionMethod("ltr", "Learning to rank (LambdaRank)", "A LightGBM ranker learns on the validation split to order each shopper's candidates from every model's score and rank, popularity, recency and the shopper's category and brand tastes.", ltr_untrained, uses_weights=False, uses_normalization=False, trainer=LTRFuser),
    )
}  # fmt: skip
