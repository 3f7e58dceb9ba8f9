"""What every part of a ``Run`` shares: its data, preset, splits, stages and how it fuses a pool."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import pandas as pd

from recsys.data.dataset import Dataset
from recsys.data.features import item_category_sets, item_dense_vectors, item_label_codes
from recsys.data.schema import Col
from recsys.data.split import Split
from recsys.errors import ConfigError
from recsys.evaluation.metrics import MetricReport, evaluate_lists
from recsys.ranking.candidates import CandidatePool
from recsys.ranking.fusion import FUSERS, FusionConfig, FusionContext, TrainedFuser, fuse
from recsys.ranking.rerank import ItemTable, RankedLists, RerankConfig, rerank
from recsys.ranking.topk import TopK
from recsys.service.preset import Preset
from recsys.service.side_info import fusion_context
from recsys.service.stage import Stage
from recsys.service.strategy import StrategyChoice


class RunBase:
    """A trained strategy over one dataset: state and fusion shared by evaluation and serving.

    Build a ``Run`` with ``recsys.service.training.train_run``; restore one with
    ``recsys.service.persistence.load_run``.
    """

    def __init__(self, dataset: Dataset, preset: Preset, split_: Split, val_split: Split) -> None:
        self.dataset = dataset
        self.preset = preset
        self.split = split_
        self.val_split = val_split
        self.stages: dict[str, Stage] = {}
        self.timings: dict[str, float] = {}
        self.items = item_table(dataset)
        #: learned fusers by method name, fitted on the validation stage on demand
        self.trained_fusers: dict[str, TrainedFuser] = {}
        self.weights_tuned = False  # the preset's fusion weights came from Run.autotune
        self.strategy_choice: StrategyChoice | None = None  # what won on validation
        #: tuned vs untuned weights on the test users: {"objective", "before", "tuned"}
        self.tuning_check: dict = {}
        self.created_at = time.time()

    # ------------------------------------------------------------------ basics
    @property
    def model_names(self) -> list[str]:
        """The run's models, in preset order."""
        return list(self.preset.models)

    @property
    def k(self) -> int:
        """List length of the preset's re-ranking."""
        return int(self.preset.rerank.k)

    def _fusion(self, fusion: FusionConfig | None) -> FusionConfig:
        return fusion or self.preset.fusion

    def _rerank(self, rerank_cfg: RerankConfig | None) -> RerankConfig:
        return rerank_cfg or self.preset.rerank

    def segments(self, stage: str, users: np.ndarray) -> np.ndarray:
        """Segment label per user (``new|cold|regular|heavy``) from the stage's training activity."""
        st = self.stages[stage]
        return st.segment_rule.labels(st.activity[users])

    # ------------------------------------------------------------------ fusion on a pool
    def context(self, stage: Stage) -> FusionContext:
        """Side information learned fusers read (built once per stage).

        Carries the preset's weights for the learned methods' blend feature.
        """
        if stage.context is None:
            stage.context = fusion_context(stage.train, self.items)
        return replace(stage.context, blend_weights=dict(self.preset.fusion.weights))

    def trained_fuser(self, method: str) -> TrainedFuser:
        """The learned fuser of ``method``, fitted once on the validation stage's pool."""
        if method not in self.trained_fusers:
            trainer = FUSERS[method].trainer
            if trainer is None:
                raise ConfigError(f"fusion method '{method}' does not learn.")
            if "validation" not in self.stages:
                raise ConfigError(
                    f"{FUSERS[method].label} learns on the validation split: "
                    "train the run with all stages."
                )
            st = self.stages["validation"]
            truth = st.graded if st.graded is not None else st.truth
            self.trained_fusers[method] = trainer().fit(st.require_pool(), truth, self.context(st))
        return self.trained_fusers[method]

    def fuse_pool(self, stage: str, pool: CandidatePool, fusion: FusionConfig) -> np.ndarray:
        """(n, C) fused scores of ``pool`` (a pool of ``stage``'s users)."""
        if FUSERS[fusion.method].needs_training:
            st = self.stages[stage]
            return fuse(pool, fusion, self.trained_fuser(fusion.method), self.context(st))
        return fuse(pool, fusion)

    def _rank(
        self, stage: str, pool: CandidatePool, fusion: FusionConfig, rr: RerankConfig
    ) -> tuple[np.ndarray, RankedLists]:
        fused = self.fuse_pool(stage, pool, fusion)
        ranked = rerank(pool, fused, rr, self.items, user_segments=self.segments(stage, pool.users))
        return fused, ranked

    def stage_metrics(self, stage: Stage, topk: TopK, k: int) -> MetricReport:
        """Every metric of ``topk`` against the stage's held-out truth."""
        if stage.truth is None:
            raise ConfigError(f"the {stage.name} stage has no held-out part to evaluate on.")
        return evaluate_lists(
            topk,
            stage.truth,
            k=k,
            train=stage.train.matrix("ones"),
            item_vectors=self.items.vectors,
            item_category=self.items.category,
            item_brand=self.items.brand,
            segment_rule=stage.segment_rule,
            item_table=self.items,  # its multi-valued categories, when the catalog has them
        )


def item_table(ds: Dataset) -> ItemTable:
    """The per-item arrays re-ranking and metrics read (categories, brands, popularity, vectors).

    Built once per dataset object (kept in its cache): every run opened on a shared dataset
    reuses it (its dense item vectors take a TF-IDF and an SVD).
    """
    key = ("run_base.item_table",)
    if key not in ds._cache:
        ds._cache[key] = _item_table(ds)
    return ds._cache[key]


def _item_table(ds: Dataset) -> ItemTable:
    return ItemTable.from_arrays(
        category=item_label_codes(ds, Col.CATEGORY),
        brand=item_label_codes(ds, Col.BRAND),
        popularity=ds.item_popularity(),
        vectors=item_dense_vectors(ds),
        catalog=ds.catalog,
        category_names=_label_names(ds, Col.CATEGORY),
        brand_names=_label_names(ds, Col.BRAND),
        category_sets=item_category_sets(ds),
    )


def _label_names(ds: Dataset, column: str) -> Sequence[str]:
    values = ds.catalog_column(column)
    if values is None:
        return []
    return list(pd.Series(values).dropna().astype(str).pipe(lambda s: s[s != ""]).unique())
