"""Read-only views the explorer pages show.

A user's profile, each model's list, similar items, the audience of an item.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from recsys.data.schema import Col
from recsys.errors import RecsysError
from recsys.evaluation.segments import serving_strategy
from recsys.ranking.fusion import FusionConfig
from recsys.ranking.topk import top_k_indices
from recsys.service.pools import single_model_topk
from recsys.service.serving import Serving


class Views(Serving):
    """Tables for the User and Item explorers, computed from the ``full`` stage."""

    def user_profile(self, user_id: str) -> dict[str, Any]:
        """History with item info, favourite categories and brands, segment."""
        u = int(self.dataset.user_ids.to_internal([user_id])[0])
        df = self.dataset.interactions
        hist = df[df[Col.USER_IDX] == u].sort_values(Col.TIMESTAMP, ascending=False)
        hist = hist.assign(item_id=self.dataset.item_ids.to_external(hist[Col.ITEM_IDX].to_numpy()))
        hist = self.dataset.with_item_info(hist, hist[Col.ITEM_IDX].to_numpy())
        if self.dataset.has_timestamps:
            hist["time"] = pd.to_datetime(hist[Col.TIMESTAMP], unit="s")
        activity = self.stages["full"].activity
        return {
            "history": hist.drop(columns=[Col.USER_IDX]).reset_index(drop=True),
            "top_categories": _weight_by(hist, Col.CATEGORY),
            "top_brands": _weight_by(hist, Col.BRAND),
            "segment": str(self.segments("full", np.array([u]))[0]),
            "strategy": str(serving_strategy(activity[[u]], self.preset.cold_threshold)[0]),
        }

    def single_model_lists(self, user_id: str, k: int | None = None) -> dict[str, pd.DataFrame]:
        """Each model's own top-k for one user (from the shared pool), with titles."""
        k = k or self.k
        pool = self.full_pool().subset(self.dataset.user_ids.to_internal([user_id]))
        out = {}
        for m, name in enumerate(pool.model_names):
            topk = single_model_topk(pool, m, k)
            items = topk.items[0][topk.items[0] >= 0]
            frame = pd.DataFrame(
                {
                    "rank": np.arange(1, len(items) + 1),
                    "item_idx": items,
                    "score": topk.scores[0][: len(items)],
                }
            )
            out[name] = self._with_item_id(frame)
        return out

    def similar_items(self, item_id: str, k: int = 10, by: str = "content") -> pd.DataFrame:
        """Items most like ``item_id``: ``content`` (item vectors) or ``cooccurrence`` (bought together)."""
        i = int(self.dataset.item_ids.to_internal([item_id])[0])
        if by == "cooccurrence":
            m = self.dataset.matrix("ones").tocsc()
            co = (m[:, [i]].T @ m).toarray().ravel().astype(np.float32)
            norm = np.sqrt(np.maximum(self.dataset.item_popularity(), 1) * max(co[i], 1))
            sims = co / norm
        elif self.items.vectors is not None:
            sims = self.items.vectors @ self.items.vectors[i]
        else:
            raise RecsysError("the catalog has no text or attributes to compare items by.")
        sims[i] = -np.inf
        idx, vals = top_k_indices(sims[None, :], k)
        keep = (idx[0] >= 0) & (vals[0] > 0)
        frame = pd.DataFrame({"item_idx": idx[0][keep], "similarity": vals[0][keep]})
        return self._with_item_id(frame)

    def audience(
        self,
        item_id: str | None = None,
        brand: str | None = None,
        category: str | None = None,
        k: int = 500,
        fusion: FusionConfig | None = None,
    ) -> pd.DataFrame:
        """Users most likely to want an item (or any item of a brand/category), ranked.

        Each model's score for the target items is turned into a per-user percentile
        (share of the catalog the target beats for that user), so users are comparable; the
        percentiles are blended with the fusion weights. Users who already have the item are
        left out.

        Returns one row per user: ``rank``, ``user_id``, ``score`` (that blended share: a
        relative affinity in [0, 1], not a probability; it is close to 1 for most users of a
        good item), ``top_share`` (rank / eligible users: 0.01 = the top 1 % of the shoppers
        who could be targeted), ``segment`` and the dataset's user attribute columns.
        """
        targets = self._target_items(item_id, brand, category)
        fusion = self._fusion(fusion)
        st = self.stages["full"]
        n_users = self.dataset.n_users
        blended = np.zeros(n_users, np.float64)
        total = 0.0
        for name, model in st.models.items():
            wgt = float(fusion.weights.get(name, 1.0))
            if wgt <= 0:
                continue
            pct = np.zeros(n_users, np.float64)
            for start in range(0, n_users, 1024):
                users = np.arange(start, min(start + 1024, n_users), dtype=np.int32)
                s = model.score_items(users)
                best = s[:, targets].max(axis=1)
                pct[start : start + len(users)] = (s < best[:, None]).mean(axis=1)
            blended += wgt * pct
            total += wgt
        blended /= max(total, 1e-9)
        owned = self.dataset.matrix("ones")[:, targets].getnnz(axis=1) > 0
        blended[owned] = -np.inf
        idx, vals = top_k_indices(blended[None, :].astype(np.float32), k)
        keep = idx[0] >= 0
        users = idx[0][keep]
        eligible = max(int(np.isfinite(blended).sum()), 1)
        rank = np.arange(1, len(users) + 1)
        frame = pd.DataFrame(
            {
                "rank": rank,
                "user_id": self.dataset.user_ids.to_external(users),
                "score": np.round(vals[0][keep].astype(np.float64), 6),
                "top_share": rank / eligible,
                "segment": self.segments("full", users),
            }
        )
        attributes = list(self.dataset.user_attribute_columns)
        if attributes:  # what a marketer filters on: the dataset's own user columns
            table = self.dataset.users.iloc[users][attributes].reset_index(drop=True)
            table.columns = [f"user_{c}" if c in frame.columns else c for c in attributes]
            frame = pd.concat([frame, table], axis=1)
        return frame

    def _target_items(
        self, item_id: str | None, brand: str | None, category: str | None
    ) -> np.ndarray:
        cat = self.dataset.catalog
        if item_id is not None:
            if not self.dataset.item_ids.contains(item_id):
                raise RecsysError(f"item '{item_id}' is not in the dataset.")
            return self.dataset.item_ids.to_internal([item_id])
        for column, value in ((Col.BRAND, brand), (Col.CATEGORY, category)):
            if value is not None:
                if column not in cat.columns:
                    raise RecsysError(f"the catalog has no '{column}' column.")
                idx = np.flatnonzero(cat[column].astype(str).to_numpy() == str(value))
                if len(idx) == 0:
                    raise RecsysError(f"no item has {column} '{value}'.")
                return idx.astype(np.int32)
        raise RecsysError("name an item, a brand or a category.")

    def _with_item_id(self, frame: pd.DataFrame) -> pd.DataFrame:
        """``frame`` (with ``item_idx``) led by the external ``item_id``, plus item info."""
        idx = frame["item_idx"].to_numpy()
        out = self.dataset.with_item_info(frame, idx)
        out.insert(0, "item_id", self.dataset.item_ids.to_external(idx))
        return out


def _weight_by(history: pd.DataFrame, column: str) -> pd.Series:
    """Summed interaction weight per value of ``column`` in a history, largest first."""
    if column not in history:
        return pd.Series(dtype=float)
    return history.groupby(column)[Col.WEIGHT].sum().sort_values(ascending=False)
