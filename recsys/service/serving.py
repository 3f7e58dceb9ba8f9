"""Serving: final lists from the models fitted on all data, for known or ad-hoc users."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from recsys.data.schema import DEFAULT_EVENT_WEIGHTS, Col
from recsys.errors import RecsysError
from recsys.ranking.candidates import CandidatePool
from recsys.ranking.explain import explain
from recsys.ranking.fusion import FUSERS, FusionConfig, contributions, fuse
from recsys.ranking.rerank import RerankConfig, rerank
from recsys.service.blocks import EXPORT_ITEM_COLUMNS, BlockRanker, Recommendations
from recsys.service.pools import profile_pool, strategy_pool
from recsys.service.run_base import RunBase

#: The id shown for an ad-hoc user (a history typed in, or a what-if).
WHAT_IF_USER = "(what-if)"
__all__ = ["EXPORT_ITEM_COLUMNS", "WHAT_IF_USER", "Recommendations", "Serving"]


class Serving(RunBase):
    """Lists from the ``full`` stage: for everyone, a segment, a typed history or a what-if."""

    def full_pool(self) -> CandidatePool:
        """The pool of every user from the models fitted on all data (built on first use)."""
        st = self.stages["full"]
        if st.pool is None:
            users = np.arange(self.dataset.n_users, dtype=np.int32)
            st.pool = strategy_pool(
                st.models,
                users,
                st.activity,
                cold_threshold=self.preset.cold_threshold,
                per_model=min(self.preset.candidates_per_model, self.dataset.n_items),
                exclude=st.exclude,
            )
        return st.pool

    def users_in_segment(self, segment: str) -> list[str]:
        """External ids of the users of ``segment`` (``all`` or a ``SEGMENTS`` label)."""
        ids = self.dataset.user_ids.external_ids
        if segment == "all":
            return list(ids)
        labels = self.segments("full", np.arange(self.dataset.n_users))
        return list(np.asarray(ids)[labels == segment])

    def recommend(
        self,
        user_ids: Sequence[str] | None = None,
        fusion: FusionConfig | None = None,
        rerank_cfg: RerankConfig | None = None,
    ) -> Recommendations:
        """Final lists from the models fitted on all data, for ``user_ids`` (default: everyone)."""
        fusion, rr = self._fusion(fusion), self._rerank(rerank_cfg)
        pool = self.full_pool()
        if user_ids is not None:
            pool = pool.subset(self.internal_users(user_ids))
        return BlockRanker.from_run(self, fusion, rr).recommend_pool(pool)

    def internal_users(self, user_ids: Sequence[str]) -> np.ndarray:
        """(n,) int32 internal indices of external ``user_ids``; unknown ids raise a plain error."""
        try:
            return self.dataset.user_ids.to_internal(list(user_ids))
        except KeyError as err:
            raise RecsysError(f"{err.args[0]}: these users are not in the dataset.") from None

    def recommend_history(
        self,
        history: Sequence[tuple[str, str]],
        fusion: FusionConfig | None = None,
        rerank_cfg: RerankConfig | None = None,
        event_weights: dict[str, float] | None = None,
    ) -> Recommendations:
        """Lists for a user known only by ``history`` = [(item_id, event), ...] (cold or what-if).

        Models that can score from a history (content, item kNN, popularity, fold-in factor
        models) are used; the others sit out. Nothing is refitted: this is the near-real-time path.
        """
        item_idx, w = self._history_arrays(history, event_weights)
        return self._recommend_profile(item_idx, w, fusion, rerank_cfg)

    def recommend_what_if(
        self,
        user_id: str,
        added: Sequence[tuple[str, str]],
        fusion: FusionConfig | None = None,
        rerank_cfg: RerankConfig | None = None,
        event_weights: dict[str, float] | None = None,
    ) -> Recommendations:
        """``user_id``'s recorded history plus the ``added`` events, scored without refitting.

        The history keeps its real weights (summed events or ratings); ``added`` is
        ``[(item_id, event), ...]``; near-real-time.
        """
        u = int(self.dataset.user_ids.to_internal([user_id])[0])
        row = self.dataset.matrix("weight")[u]
        add_idx, add_w = self._history_arrays(added, event_weights)
        item_idx = np.concatenate([row.indices.astype(np.int32), add_idx])
        w = np.concatenate([row.data.astype(np.float32), add_w])
        return self._recommend_profile(item_idx, w, fusion, rerank_cfg)

    def _history_arrays(
        self, history: Sequence[tuple[str, str]], event_weights: dict[str, float] | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """[(item_id, event)] -> (item indices, weights); unknown items are skipped."""
        weights_by_event = {**DEFAULT_EVENT_WEIGHTS, **(event_weights or {})}
        if not history:
            return np.zeros(0, np.int32), np.zeros(0, np.float32)
        item_idx = self.dataset.item_ids.to_internal([h[0] for h in history], strict=False)
        w = np.array([weights_by_event.get(h[1], 1.0) for h in history], np.float32)
        keep = item_idx >= 0
        return item_idx[keep], w[keep]

    def _recommend_profile(
        self,
        item_idx: np.ndarray,
        w: np.ndarray,
        fusion: FusionConfig | None,
        rerank_cfg: RerankConfig | None,
    ) -> Recommendations:
        """Lists for one ad-hoc user given by interacted items and their weights."""
        fusion, rr = self._fusion(fusion), self._rerank(rerank_cfg)
        st = self.stages["full"]
        pool = profile_pool(
            st.models,
            item_idx,
            w,
            n_items=self.dataset.n_items,
            per_model=self.preset.candidates_per_model,
            exclude_history=rr.exclude != "none",
        )
        if FUSERS[fusion.method].needs_training:
            # a learned fuser needs the user's training context: blend the history models plainly
            fused = fuse(pool, FusionConfig(normalization=fusion.normalization))
        else:
            fused = fuse(pool, fusion)
        n_hist = len(np.unique(item_idx))
        segment = st.segment_rule.labels(np.array([n_hist]))
        ranked = rerank(pool, fused, rr, self.items, user_segments=segment)
        label = "new" if n_hist == 0 else "history"
        return Recommendations(
            self.dataset,
            pool,
            ranked,
            fused,
            fusion,
            rr,
            np.array([label], dtype=object),
            np.array([WHAT_IF_USER], dtype=object),
        )

    def explain(
        self,
        user_id: str,
        fusion: FusionConfig | None = None,
        rerank_cfg: RerankConfig | None = None,
    ) -> pd.DataFrame:
        """Why each item of ``user_id``'s list is there: contributions, rules, diversity, anchor."""
        recs = self.recommend([user_id], fusion, rerank_cfg)
        return self.explain_recommendations(recs, row=0)

    def explain_recommendations(
        self, recs: Recommendations, row: int = 0, history_items: np.ndarray | None = None
    ) -> pd.DataFrame:
        """Explanation table for row ``row`` of ``recs`` (see ``recsys.ranking.explain.explain``)."""
        is_adhoc = recs.user_ids[row] == WHAT_IF_USER
        if history_items is None:
            u = int(recs.pool.users[row])
            history_items = (
                np.zeros(0, np.int32) if is_adhoc else self.dataset.matrix("ones")[u].indices
            )
        method = FUSERS[recs.config.method]
        learned = method.needs_training and not is_adhoc  # ad-hoc users get a plain blend
        names, parts = contributions(
            recs.pool,
            recs.config,
            self.trained_fuser(method.name) if learned else None,
            self.context(self.stages["full"]) if learned else None,
        )
        frame = explain(
            recs.pool,
            recs.ranked,
            parts,
            names,
            row,
            history_items,
            self.items.vectors,
            self.dataset.catalog,
            fused=recs.fused,
        )
        info = (Col.CATEGORY, Col.BRAND, Col.PRICE, Col.PRICE_BAND)
        return self.dataset.with_item_info(frame, frame["item_idx"].to_numpy(), info)
