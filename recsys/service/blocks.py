"""Final lists for a block of users: pool, fuse, re-rank, table; shared by serving and export.

``BlockRanker`` holds what one block needs (the models fitted on all data, exclusions, the
fusion and re-ranking configuration, a learned fuser if any) and nothing else, so that it can
be pickled and sent once to the workers of a Dask cluster. ``Serving.recommend`` uses the same
``recommend_pool``, so a streamed or distributed export gives the rows the app shows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recsys.data.dataset import Dataset
from recsys.data.privacy import PSEUDONYMISED_COLUMN, PSEUDONYMISED_VALUE, pseudonymise
from recsys.data.schema import Col
from recsys.evaluation.segments import SegmentRule, serving_strategy
from recsys.models import Recommender
from recsys.ranking.candidates import CandidatePool, pool_block_rows
from recsys.ranking.fusion import FUSERS, FusionConfig, FusionContext, TrainedFuser, fuse
from recsys.ranking.rerank import ItemTable, RankedLists, RerankConfig, rerank
from recsys.service.pools import strategy_pool

if TYPE_CHECKING:
    from recsys.service.run_base import RunBase

#: Catalog columns that travel with every exported recommendation row.
EXPORT_ITEM_COLUMNS: tuple[str, ...] = (Col.TITLE, Col.CATEGORY, Col.BRAND, Col.PRICE)


@dataclass
class Recommendations:
    """Final lists for a set of users with everything needed to show or export them."""

    dataset: Dataset
    pool: CandidatePool
    ranked: RankedLists
    fused: np.ndarray
    config: FusionConfig
    rerank_config: RerankConfig
    strategy: np.ndarray  # (n,) str: warm | cold | new | history
    user_ids: np.ndarray  # (n,) external ids

    def table(self) -> pd.DataFrame:
        """One row per (user, rank): ids as uploaded, score, item info, per-model scores, strategy."""
        topk = self.ranked.topk
        rows, cols = np.nonzero(topk.items >= 0)
        items = topk.items[rows, cols]
        out = pd.DataFrame(
            {
                "user_id": self.user_ids[rows],
                "rank": (cols + 1).astype(np.int32),
                "item_id": self.dataset.item_ids.to_external(items),
                "score": np.round(topk.scores[rows, cols].astype(np.float64), 6),
            }
        )
        out = self.dataset.with_item_info(out, items, EXPORT_ITEM_COLUMNS)
        pool_pos = self.ranked.pool_pos[rows, cols]
        for m, name in enumerate(self.pool.model_names):
            out[f"score_{name}"] = np.round(
                self.pool.scores[m, rows, pool_pos].astype(np.float64), 6
            )
        out["strategy"] = self.strategy[rows]
        return out


@dataclass(frozen=True, eq=False)
class BlockRanker:
    """What scoring, fusing, re-ranking and tabling a block of known users needs.

    Attributes
    ----------
    dataset : the run's data (``slim()`` keeps only the id maps and exported catalog columns).
    models : the models fitted on all data, by name.
    activity : (n_users,) training interactions per user; ``exclude`` (n_users, n_items) the
        items never recommended to a user (None: none).
    segment_rule : user segments (for segment pins). ``items`` : per-item arrays re-ranking reads.
    fusion, rerank : the strategy; ``trained`` and ``context`` its learned fuser, if any.
    cold_threshold, per_model : serving strategy and candidates per model (see ``Preset``).
    columns : constant columns appended to every table (e.g. ``preset_id``).
    pool_jobs : threads of the pool build (None: one per core; 1 on a Dask worker).
    pseudonym_key : with a key, ``user_id`` is replaced by its HMAC-SHA-256 pseudonym
        (``recsys.data.privacy.pseudonymise``) in every table, which says so in its
        ``user_id_pseudonymised`` column.
    """

    dataset: Dataset
    models: Mapping[str, Recommender]
    activity: np.ndarray
    exclude: sp.csr_matrix | None
    segment_rule: SegmentRule
    items: ItemTable
    fusion: FusionConfig
    rerank: RerankConfig
    cold_threshold: int
    per_model: int
    trained: TrainedFuser | None = None
    context: FusionContext | None = None
    columns: Mapping[str, str] = field(default_factory=dict)
    pool_jobs: int | None = None
    pseudonym_key: bytes | None = None

    @classmethod
    def from_run(
        cls,
        run: RunBase,
        fusion: FusionConfig | None = None,
        rerank_cfg: RerankConfig | None = None,
        *,
        columns: Mapping[str, str] | None = None,
    ) -> BlockRanker:
        """The ranker of ``run``'s ``full`` stage for ``fusion`` and ``rerank_cfg``.

        Both default to the preset's. A learned fuser is fitted here, once (on the validation
        stage).
        """
        fusion = fusion or run.preset.fusion
        st = run.stages["full"]
        trained = context = None
        if FUSERS[fusion.method].needs_training:
            trained, context = run.trained_fuser(fusion.method), run.context(st)
        return cls(
            dataset=run.dataset,
            models=dict(st.models),
            activity=st.activity,
            exclude=st.exclude,
            segment_rule=st.segment_rule,
            items=run.items,
            fusion=fusion,
            rerank=rerank_cfg or run.preset.rerank,
            cold_threshold=run.preset.cold_threshold,
            per_model=min(run.preset.candidates_per_model, run.dataset.n_items),
            trained=trained,
            context=context,
            columns=dict(columns or {}),
        )

    @property
    def n_users(self) -> int:
        """Users in the stage."""
        return len(self.activity)

    @property
    def block_rows(self) -> int:
        """Users a pool build scores at once (``pool_block_rows``).

        Blocks of users that start on multiples of it give exactly the rows of one pool over all
        users (see ``build_pool``).
        """
        return pool_block_rows(self.dataset.n_items, len(self.models))

    def aligned(self, block_users: int) -> int:
        """``block_users`` rounded to a multiple of ``block_rows`` (at least one)."""
        rows = self.block_rows
        return max(1, round(block_users / rows)) * rows

    def slim(self, pool_jobs: int | None = 1) -> BlockRanker:
        """A copy without the interaction log and unused catalog columns (what workers get)."""
        ds = self.dataset
        keep = [c for c in (Col.ITEM, *EXPORT_ITEM_COLUMNS) if c in ds.catalog.columns]
        slim = replace(
            ds,
            interactions=ds.interactions.iloc[:0],
            catalog=ds.catalog[keep],
            users=pd.DataFrame({Col.USER: ds.user_ids.external_ids}),
            _cache={},
        )
        return replace(self, dataset=slim, pool_jobs=pool_jobs)

    def pool(self, users: np.ndarray) -> CandidatePool:
        """The candidate pool of ``users`` (b,) internal indices, serving strategy applied."""
        return strategy_pool(
            self.models,
            np.asarray(users, np.int32),
            self.activity,
            cold_threshold=self.cold_threshold,
            per_model=self.per_model,
            exclude=self.exclude,
            n_jobs=self.pool_jobs,
        )

    def recommend_pool(self, pool: CandidatePool) -> Recommendations:
        """Fuse and re-rank ``pool`` (a pool of known users) into final lists."""
        fused = fuse(pool, self.fusion, self.trained, self.context)
        segments = self.segment_rule.labels(self.activity[pool.users])
        ranked = rerank(pool, fused, self.rerank, self.items, user_segments=segments)
        strategy = serving_strategy(self.activity[pool.users], self.cold_threshold)
        return Recommendations(
            self.dataset,
            pool,
            ranked,
            fused,
            self.fusion,
            self.rerank,
            strategy,
            self.dataset.user_ids.to_external(pool.users),
        )

    def table(self, users: np.ndarray) -> pd.DataFrame:
        """The export rows of ``users`` (b,) internal indices, in that order, plus ``columns``."""
        table = self.recommend_pool(self.pool(users)).table()
        for name, value in self.columns.items():
            table[name] = value
        if self.pseudonym_key is not None:
            table[Col.USER] = pseudonymise(table[Col.USER], self.pseudonym_key)
            table[PSEUDONYMISED_COLUMN] = PSEUDONYMISED_VALUE
        return table


__all__ = ["EXPORT_ITEM_COLUMNS", "BlockRanker", "Recommendations"]
