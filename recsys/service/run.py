"""The engine: glue that turns a ``Dataset`` and a ``Preset`` into a trained ``Run``.

A run fits every model of the preset three times, so every number it shows is honest:

* ``validation`` stage: fit on the training part minus a validation part; its candidate pool
  over the validation users is where fusion weights and the stacking meta-model are tuned;
* ``test`` stage: fit on the whole training part; its pool over the test users gives the
  held-out metrics the fusion lab shows (touched by nothing that tunes);
* ``full`` stage: fit on all data; serves the recommendations that are exported.

Candidate pools are built once per stage. Changing fusion weights, method, normalisation,
re-ranking knobs or rules afterwards only re-fuses and re-ranks: no model is rescored.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recsys.data.dataset import Dataset
from recsys.data.features import item_dense_vectors, item_label_codes
from recsys.data.schema import DEFAULT_EVENT_WEIGHTS, Col
from recsys.data.split import Split, split
from recsys.errors import ConfigError, RecsysError
from recsys.evaluation.metrics import MetricReport, evaluate_lists
from recsys.evaluation.offline_ab import ABResult, compare, paired_permutation_test
from recsys.evaluation.tuning import TuneResult, tune_knobs, tune_weights
from recsys.models import Recommender, make_model
from recsys.ranking.candidates import CandidatePool, build_pool
from recsys.ranking.explain import explain
from recsys.ranking.fusion import (
    FUSERS,
    FusionConfig,
    FusionContext,
    StackingFuser,
    fuse,
    normalized_contributions,
)
from recsys.ranking.rerank import ItemTable, RankedLists, RerankConfig, exclusion_matrix, rerank
from recsys.ranking.topk import TopK, top_k_indices
from recsys.service.preset import Preset

#: progress(stage, model or None, fraction in [0, 1], message)
RunProgress = Callable[[str, str | None, float, str], None]

STAGES = ("validation", "test", "full")
WHAT_IF_USER = "(what-if)"
COLD_BELOW = 5  # users with fewer interactions form the "cold" segment (metrics use the same cut)


# ---------------------------------------------------------------------- stage state
@dataclass
class Stage:
    """Models fitted on one slice of the data, plus the candidate pool they produced."""

    name: str
    train: Dataset
    truth: sp.csr_matrix | None  # held-out pairs scored against (None for ``full``)
    models: dict[str, Recommender]
    pool: CandidatePool | None = None
    exclude: sp.csr_matrix | None = None
    single_reports: dict[str, MetricReport] = field(default_factory=dict)
    rating_errors: dict[str, dict[str, float]] = field(default_factory=dict)

    @cached_property
    def activity(self) -> np.ndarray:
        """(n_users,) training interactions per user."""
        return self.train.user_activity()

    @cached_property
    def heavy_from(self) -> float:
        """Activity at which a user counts as heavy: the 90th percentile of active users (>= 5),
        the same rule the metrics' segment table uses."""
        act = self.activity
        act = act[act > 0]
        return float(max(np.quantile(act, 0.9) if len(act) else 0.0, COLD_BELOW))


@dataclass
class Evaluation:
    """Held-out metrics of one fusion + re-rank configuration and of each single model."""

    fusion: MetricReport
    models: dict[str, MetricReport]
    ranked: RankedLists
    config: FusionConfig
    rerank: RerankConfig
    seconds: float

    def table(self) -> pd.DataFrame:
        """One row per strategy (``fusion`` then each model), one column per metric."""
        rows = {"fusion": self.fusion.values} | {m: r.values for m, r in self.models.items()}
        return pd.DataFrame.from_dict(rows, orient="index")

    def significance(
        self, metric: str | None = None, n_permutations: int = 2000
    ) -> dict[str, float]:
        """p-value (paired sign-flip randomisation test over users) of fusion vs each model."""
        metric = metric or f"ndcg@{self.rerank.k}"
        fused = self.fusion.per_user[metric]
        return {
            name: float(paired_permutation_test(fused - report.per_user[metric], n_permutations))
            for name, report in self.models.items()
        }


@dataclass
class Recommendations:
    """Final lists for a set of users with everything needed to show or export them."""

    run: Run
    pool: CandidatePool
    ranked: RankedLists
    fused: np.ndarray
    config: FusionConfig
    rerank_config: RerankConfig
    strategy: np.ndarray  # (n,) str: warm | cold | new
    user_ids: np.ndarray  # (n,) external ids

    def table(self) -> pd.DataFrame:
        """One row per (user, rank): ids as uploaded, score, per-model scores, item info, strategy."""
        topk = self.ranked.topk
        n, k = topk.items.shape
        valid = topk.items >= 0
        rows, cols = np.nonzero(valid)
        items = topk.items[rows, cols]
        out = pd.DataFrame(
            {
                "user_id": self.user_ids[rows],
                "rank": (cols + 1).astype(np.int32),
                "item_id": self.run.dataset.item_ids.to_external(items),
                "score": np.round(topk.scores[rows, cols].astype(np.float64), 6),
            }
        )
        catalog = self.run.dataset.catalog
        for column in (Col.TITLE, Col.CATEGORY, Col.BRAND, Col.PRICE):
            if column in catalog.columns:
                out[column] = catalog[column].to_numpy()[items]
        pool_pos = self.ranked.pool_pos[rows, cols]
        for m, name in enumerate(self.pool.model_names):
            out[f"score_{name}"] = np.round(
                self.pool.scores[m, rows, pool_pos].astype(np.float64), 6
            )
        out["strategy"] = self.strategy[rows]
        return out


# ---------------------------------------------------------------------- the run
class Run:
    """A trained strategy over one dataset. Build with ``train_run``; restore with ``Run.load``."""

    def __init__(self, dataset: Dataset, preset: Preset, split_: Split, val_split: Split) -> None:
        self.dataset = dataset
        self.preset = preset
        self.split = split_
        self.val_split = val_split
        self.stages: dict[str, Stage] = {}
        self.timings: dict[str, float] = {}
        self.items = _item_table(dataset)
        self.stacker: StackingFuser | None = None
        self.weights_tuned = False  # the preset's fusion weights came from Run.autotune
        self.created_at = time.time()

    # ------------------------------------------------------------------ basics
    @property
    def model_names(self) -> list[str]:
        return list(self.preset.models)

    @property
    def k(self) -> int:
        return int(self.preset.rerank.k)

    def _fusion(self, fusion: FusionConfig | None) -> FusionConfig:
        return fusion or self.preset.fusion

    def _rerank(self, rerank_cfg: RerankConfig | None) -> RerankConfig:
        return rerank_cfg or self.preset.rerank

    def segments(self, stage: str, users: np.ndarray) -> np.ndarray:
        """Segment label per user from the stage's training activity."""
        st = self.stages[stage]
        return user_segments(st.activity[users], st.heavy_from)

    # ------------------------------------------------------------------ fusion on a pool
    def _context(self, stage: Stage) -> FusionContext:
        return FusionContext(
            item_popularity=stage.train.item_popularity().astype(np.float32),
            user_activity=stage.activity.astype(np.float32),
        )

    def fuse_pool(self, stage: str, pool: CandidatePool, fusion: FusionConfig) -> np.ndarray:
        st = self.stages[stage]
        if fusion.method == "stacking":
            if self.stacker is None:
                if "validation" not in self.stages:
                    raise ConfigError(
                        "stacking learns on the validation split: train the run with all stages."
                    )
                self.stacker = _fit_stacker(self)  # learned on validation only, once
            return fuse(pool, fusion, stacker=self.stacker, context=self._context(st))
        return fuse(pool, fusion)

    def _rank(
        self, stage: str, pool: CandidatePool, fusion: FusionConfig, rr: RerankConfig
    ) -> tuple[np.ndarray, RankedLists]:
        fused = self.fuse_pool(stage, pool, fusion)
        ranked = rerank(pool, fused, rr, self.items, user_segments=self.segments(stage, pool.users))
        return fused, ranked

    # ------------------------------------------------------------------ evaluation
    def _metrics(self, stage: Stage, topk: TopK, k: int) -> MetricReport:
        return evaluate_lists(
            topk,
            stage.truth,
            k=k,
            train=stage.train.matrix("ones"),
            item_vectors=self.items.vectors,
            item_category=self.items.category,
        )

    def single_model_reports(
        self, stage: str = "test", k: int | None = None
    ) -> dict[str, MetricReport]:
        """Held-out metrics of each model alone (its own top-k inside the shared pool)."""
        st = self.stages[stage]
        k = k or self.k
        key = f"k{k}"
        if key not in st.single_reports:
            reports = {}
            for m, name in enumerate(st.pool.model_names):
                reports[name] = self._metrics(st, single_model_topk(st.pool, m, k), k)
                if name in st.rating_errors:
                    reports[name].values.update(st.rating_errors[name])
            st.single_reports[key] = reports
        return st.single_reports[key]

    def evaluate(
        self,
        fusion: FusionConfig | None = None,
        rerank_cfg: RerankConfig | None = None,
        *,
        stage: str = "test",
    ) -> Evaluation:
        """Held-out metrics of a fusion + re-rank configuration (fast: pools are cached)."""
        fusion, rr = self._fusion(fusion), self._rerank(rerank_cfg)
        t0 = time.perf_counter()
        st = self.stages[stage]
        _, ranked = self._rank(stage, st.pool, fusion, rr)
        report = self._metrics(st, ranked.topk, rr.k)
        seconds = time.perf_counter() - t0
        return Evaluation(
            report, self.single_model_reports(stage, rr.k), ranked, fusion, rr, seconds
        )

    def autotune(
        self,
        objective: str | None = None,
        constraints: dict[str, tuple[str, float]] | None = None,
        *,
        fusion: FusionConfig | None = None,
        rerank_cfg: RerankConfig | None = None,
        n_samples: int = 120,
        seed: int = 0,
        progress: Callable[[float, str], None] | None = None,
    ) -> TuneResult:
        """Search fusion weights on the *validation* pool; the test pool is not touched."""
        fusion, rr = self._fusion(fusion), self._rerank(rerank_cfg)
        objective = objective or f"ndcg@{rr.k}"
        st = self.stages["validation"]

        def evaluate_weights(weights: dict[str, float]) -> dict[str, float]:
            cfg = FusionConfig(fusion.method, fusion.normalization, weights, fusion.params)
            _, ranked = self._rank("validation", st.pool, cfg, rr)
            return self._metrics(st, ranked.topk, rr.k).values

        return tune_weights(
            evaluate_weights,
            list(st.pool.model_names),
            objective=objective,
            constraints=constraints,
            n_samples=n_samples,
            seed=seed,
            progress=progress,
        )

    def tune_rerank(
        self,
        objective: str | None = None,
        constraints: dict[str, tuple[str, float]] | None = None,
        space: dict[str, tuple[float, float]] | None = None,
        *,
        fusion: FusionConfig | None = None,
        rerank_cfg: RerankConfig | None = None,
        n_samples: int = 40,
        seed: int = 0,
        progress: Callable[[float, str], None] | None = None,
    ) -> TuneResult:
        """Search re-ranking knobs (default MMR lambda and novelty) on the validation pool."""
        fusion, rr = self._fusion(fusion), self._rerank(rerank_cfg)
        objective = objective or f"ndcg@{rr.k}"
        st = self.stages["validation"]
        fused = self.fuse_pool("validation", st.pool, fusion)
        segments = self.segments("validation", st.pool.users)

        def evaluate_knobs(knobs: dict[str, float]) -> dict[str, float]:
            cfg = RerankConfig.from_dict({**rr.to_dict(), **knobs})
            ranked = rerank(st.pool, fused, cfg, self.items, user_segments=segments)
            return self._metrics(st, ranked.topk, rr.k).values

        return tune_knobs(
            evaluate_knobs,
            space,
            objective=objective,
            constraints=constraints,
            n_samples=n_samples,
            seed=seed,
            progress=progress,
        )

    def compare(self, preset_a: Preset, preset_b: Preset) -> ABResult:
        """Offline A/B of two fusion + re-rank configurations on this run's test split."""
        a = self.evaluate(preset_a.fusion, preset_a.rerank)
        b = self.evaluate(preset_b.fusion, preset_b.rerank)
        return compare(a.fusion, b.fusion, a.ranked.topk, b.ranked.topk)

    # ------------------------------------------------------------------ recommendations
    def _full_pool(self) -> CandidatePool:
        st = self.stages["full"]
        if st.pool is None:
            users = np.arange(self.dataset.n_users, dtype=np.int32)
            st.pool = self._build_pool(st, users)
        return st.pool

    def recommend(
        self,
        user_ids: Sequence[str] | None = None,
        fusion: FusionConfig | None = None,
        rerank_cfg: RerankConfig | None = None,
    ) -> Recommendations:
        """Final lists from the models fitted on all data, for ``user_ids`` (default: everyone)."""
        fusion, rr = self._fusion(fusion), self._rerank(rerank_cfg)
        pool = self._full_pool()
        if user_ids is not None:
            try:
                users = self.dataset.user_ids.to_internal(list(user_ids))
            except KeyError as err:
                raise RecsysError(f"{err.args[0]}: these users are not in the dataset.") from None
            pool = pool.subset(users)
        fused, ranked = self._rank("full", pool, fusion, rr)
        strategy = strategy_labels(
            self.stages["full"].activity[pool.users], self.preset.cold_threshold
        )
        return Recommendations(
            self,
            pool,
            ranked,
            fused,
            fusion,
            rr,
            strategy,
            self.dataset.user_ids.to_external(pool.users),
        )

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
        """``user_id``'s recorded history (its real weights: summed events or ratings) plus the
        ``added`` [(item_id, event), ...], scored at once without refitting (near-real-time)."""
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
        scorers = {}
        for name, model in st.models.items():
            if model.handles_cold_users:
                row = model.score_history(item_idx, w)[None, :].astype(np.float32)
                scorers[name] = lambda users, row=row: np.repeat(row, len(users), axis=0)
            else:
                scorers[name] = lambda users: np.full(
                    (len(users), self.dataset.n_items), np.nan, np.float32
                )
        exclude = None
        if len(item_idx) and rr.exclude != "none":
            exclude = sp.csr_matrix(
                (np.ones(len(item_idx), np.float32), (np.zeros(len(item_idx), int), item_idx)),
                shape=(1, self.dataset.n_items),
            )
        pool = build_pool(
            scorers,
            np.zeros(1, np.int32),
            per_model=self.preset.candidates_per_model,
            exclude=exclude,
        )
        fused = (
            fuse(pool, fusion)
            if fusion.method != "stacking"
            else fuse(pool, FusionConfig(normalization=fusion.normalization))
        )
        n_hist = len(np.unique(item_idx))
        segment = user_segments(np.array([n_hist]), st.heavy_from)
        ranked = rerank(pool, fused, rr, self.items, user_segments=segment)
        label = "new" if n_hist == 0 else "history"
        return Recommendations(
            self,
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
        if history_items is None:
            is_adhoc = recs.user_ids[row] == WHAT_IF_USER
            u = int(recs.pool.users[row])
            history_items = (
                np.zeros(0, np.int32) if is_adhoc else self.dataset.matrix("ones")[u].indices
            )
        frame = explain(
            recs.pool,
            recs.ranked,
            normalized_contributions(recs.pool, recs.config),
            None,
            row,
            history_items,
            self.items.vectors,
            self.dataset.catalog,
            fused=recs.fused,
        )
        catalog = self.dataset.catalog
        idx = frame["item_idx"].to_numpy()
        for column in (Col.CATEGORY, Col.BRAND, Col.PRICE, Col.PRICE_BAND):
            if column in catalog.columns:
                frame[column] = catalog[column].to_numpy()[idx]
        return frame

    # ------------------------------------------------------------------ views for pages
    def user_profile(self, user_id: str) -> dict[str, Any]:
        """History with item info, favourite categories and brands, segment."""
        u = int(self.dataset.user_ids.to_internal([user_id])[0])
        df = self.dataset.interactions
        hist = df[df[Col.USER_IDX] == u].sort_values(Col.TIMESTAMP, ascending=False)
        hist = hist.assign(item_id=self.dataset.item_ids.to_external(hist[Col.ITEM_IDX].to_numpy()))
        cat = self.dataset.catalog
        for column in (Col.TITLE, Col.CATEGORY, Col.BRAND, Col.PRICE, Col.PRICE_BAND):
            if column in cat.columns:
                hist[column] = cat[column].to_numpy()[hist[Col.ITEM_IDX].to_numpy()]
        if self.dataset.has_timestamps:
            hist["time"] = pd.to_datetime(hist[Col.TIMESTAMP], unit="s")
        activity = self.stages["full"].activity
        top_categories = (
            hist.groupby(Col.CATEGORY)[Col.WEIGHT].sum().sort_values(ascending=False)
            if Col.CATEGORY in hist
            else pd.Series(dtype=float)
        )
        top_brands = (
            hist.groupby(Col.BRAND)[Col.WEIGHT].sum().sort_values(ascending=False)
            if Col.BRAND in hist
            else pd.Series(dtype=float)
        )
        return {
            "history": hist.drop(columns=[Col.USER_IDX]).reset_index(drop=True),
            "top_categories": top_categories,
            "top_brands": top_brands,
            "segment": str(self.segments("full", np.array([u]))[0]),
            "strategy": str(strategy_labels(activity[[u]], self.preset.cold_threshold)[0]),
        }

    def single_model_lists(self, user_id: str, k: int | None = None) -> dict[str, pd.DataFrame]:
        """Each model's own top-k for one user (from the shared pool), with titles."""
        k = k or self.k
        pool = self._full_pool().subset(self.dataset.user_ids.to_internal([user_id]))
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
            out[name] = _with_item_info(frame, self.dataset)
        return out

    def similar_items(self, item_id: str, k: int = 10, by: str = "content") -> pd.DataFrame:
        """Items most like ``item_id``: ``content`` (item vectors) or ``cooccurrence`` (bought together)."""
        i = int(self.dataset.item_ids.to_internal([item_id])[0])
        if by == "cooccurrence":
            m = self.dataset.matrix("ones").tocsc()
            co = (m[:, [i]].T @ m).toarray().ravel().astype(np.float32)
            norm = np.sqrt(np.maximum(self.dataset.item_popularity(), 1) * max(co[i], 1))
            sims = co / norm
        else:
            sims = self.items.vectors @ self.items.vectors[i]
        sims[i] = -np.inf
        idx, vals = top_k_indices(sims[None, :], k)
        keep = (idx[0] >= 0) & (vals[0] > 0)
        frame = pd.DataFrame({"item_idx": idx[0][keep], "similarity": vals[0][keep]})
        return _with_item_info(frame, self.dataset)

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
        percentiles are blended with the fusion weights. Users who already have the item are left out.
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
                target = s[:, targets]
                best = target.max(axis=1)
                pct[start : start + len(users)] = (s < best[:, None]).mean(axis=1)
            blended += wgt * pct
            total += wgt
        blended /= max(total, 1e-9)
        owned = self.dataset.matrix("ones")[:, targets].getnnz(axis=1) > 0
        blended[owned] = -np.inf
        idx, vals = top_k_indices(blended[None, :].astype(np.float32), k)
        keep = idx[0] >= 0
        users = idx[0][keep]
        return pd.DataFrame(
            {
                "rank": np.arange(1, len(users) + 1),
                "user_id": self.dataset.user_ids.to_external(users),
                "score": np.round(vals[0][keep].astype(np.float64), 6),
                "segment": user_segments(st.activity[users], st.heavy_from),
            }
        )

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

    # ------------------------------------------------------------------ pool building
    def _build_pool(self, st: Stage, users: np.ndarray) -> CandidatePool:
        """Pool for ``users`` with the serving strategy applied, all users of a block at once.

        Warm users: every model. Cold users (fewer than ``cold_threshold`` interactions): only
        models that can score from a history (``handles_cold_users``); the others give NaN.
        New users (no interaction): each capable model's score of an empty history, computed
        once and broadcast.
        """
        activity = st.activity
        cold_threshold = self.preset.cold_threshold
        n_items = self.dataset.n_items

        def scorer_for(model: Recommender) -> Callable[[np.ndarray], np.ndarray]:
            empty = (
                model.score_history(np.zeros(0, np.int32)).astype(np.float32)
                if model.handles_cold_users
                else None
            )

            def score(block: np.ndarray) -> np.ndarray:
                act = activity[block]
                out = model.score_items(block).astype(np.float32, copy=False)
                if empty is not None:
                    out[act == 0] = empty
                else:
                    out[act < cold_threshold] = np.nan
                return out

            return score

        scorers = {name: scorer_for(model) for name, model in st.models.items()}
        return build_pool(
            scorers,
            users,
            per_model=min(self.preset.candidates_per_model, n_items),
            exclude=st.exclude,
        )

    # ------------------------------------------------------------------ persistence
    def save(self, workspace, dataset_id: str) -> str:
        """Store fitted models and the manifest in the workspace; returns the run id."""
        models = {
            f"{stage}__{name}": model
            for stage, st in self.stages.items()
            for name, model in st.models.items()
        }
        manifest = {
            "preset": self.preset.to_dict(),
            "dataset_fingerprint": self.dataset.fingerprint,
            "dataset_name": self.dataset.name,
            "timings": self.timings,
            "created_at": self.created_at,
            "split_info": _json_safe(self.split.info),
            "metrics": {
                name: _json_safe(r.values) for name, r in self.single_model_reports("test").items()
            },
            "has_stacker": self.stacker is not None,
            "weights_tuned": self.weights_tuned,
        }
        manifest["dataset_id"] = dataset_id
        return workspace.save_run(dataset_id, models, manifest)

    @classmethod
    def load(
        cls, workspace, run_id: str, dataset: Dataset | None = None, dataset_id: str | None = None
    ) -> Run:
        """Restore a saved run (pools are rebuilt, which takes seconds, not a retrain)."""
        models, manifest, _ = workspace.load_run(run_id)
        if dataset is None:
            dataset = workspace.load_dataset(dataset_id or manifest.get("dataset_id"))
        if dataset.fingerprint != manifest.get("dataset_fingerprint"):
            raise RecsysError(
                "this run was trained on different data; train again on the active dataset."
            )
        preset = Preset.from_dict(manifest["preset"])
        run = _prepare_run(dataset, preset)
        by_stage: dict[str, dict[str, Recommender]] = {s: {} for s in STAGES}
        for key, model in models.items():
            stage, name = key.split("__", 1)
            by_stage[stage][name] = model
        run.timings = dict(manifest.get("timings", {}))
        run.weights_tuned = bool(manifest.get("weights_tuned", False))
        run.created_at = manifest.get("created_at", time.time())
        _install_stages(run, by_stage)
        if manifest.get("has_stacker") and "validation" in run.stages:
            run.stacker = _fit_stacker(run)  # cheap, deterministic: refit rather than unpickle
        return run


# ---------------------------------------------------------------------- training
def train_run(
    dataset: Dataset,
    preset: Preset,
    *,
    progress: RunProgress | None = None,
    stages: Sequence[str] = STAGES,
    tune: bool = False,
) -> Run:
    """Fit every model of ``preset`` for each stage and build the candidate pools.

    With ``tune``, the preset's fusion weights are then replaced by weights tuned on the
    validation split (``Run.autotune``), so the run starts from a sensible blend.
    """
    report = progress or (lambda stage, model, fraction, message: None)
    run = _prepare_run(dataset, preset)
    sources = {"validation": run.val_split.train, "test": run.split.train, "full": dataset}
    fitted: dict[str, dict[str, Recommender]] = {}
    for stage in stages:
        fitted[stage] = {}
        for name, params in preset.models.items():
            model = make_model(name, **params)
            t0 = time.perf_counter()
            model.fit(sources[stage], progress=lambda f, msg, s=stage, n=name: report(s, n, f, msg))
            run.timings[f"{stage}/{name}"] = round(time.perf_counter() - t0, 3)
            report(stage, name, 1.0, "trained")
            fitted[stage][name] = model
    report("pools", None, 0.0, "building candidate pools")
    _install_stages(run, fitted)
    if preset.fusion.method == "stacking":
        run.stacker = _fit_stacker(run)
    report("pools", None, 1.0, "ready")
    if tune and "validation" in run.stages and FUSERS[run.preset.fusion.method].uses_weights:
        report("tuning", None, 0.0, "tuning fusion weights on the validation split")
        run.preset = run.preset.with_fusion(
            replace(run.preset.fusion, weights=run.autotune().best_weights)
        )
        run.weights_tuned = True
        report("tuning", None, 1.0, "weights tuned")
    return run


def _prepare_run(dataset: Dataset, preset: Preset) -> Run:
    cfg = preset.split
    kwargs = {
        "method": cfg.get("method", "temporal"),
        "test_fraction": float(cfg.get("test_fraction", 0.2)),
        "seed": int(cfg.get("seed", 0)),
    }
    outer = split(dataset, **kwargs)
    inner = split(outer.train, **kwargs)
    return Run(dataset, preset, outer, inner)


def _install_stages(run: Run, fitted: dict[str, dict[str, Recommender]]) -> None:
    """Create stages from fitted models, with exclusions, pools and rating errors."""
    parts = {
        "validation": (run.val_split.train, run.val_split.test),
        "test": (run.split.train, run.split.test),
        "full": (run.dataset, None),
    }
    rr = run.preset.rerank
    for stage, models in fitted.items():
        train, held_out = parts[stage]
        truth = held_out.matrix("ones") if held_out is not None else None
        st = Stage(stage, train, truth, models)
        st.exclude = exclusion_matrix(
            train.matrix("ones"),
            _purchased_matrix(train),
            run.items.category,
            mode=rr.exclude,
            repurchasable_categories=_category_codes(run.items, rr.repurchasable_categories),
        )
        run.stages[stage] = st
        if truth is not None:
            users = np.flatnonzero(truth.getnnz(axis=1) > 0).astype(np.int32)
            st.pool = run._build_pool(st, users)
            if run.dataset.has_ratings:
                st.rating_errors = _rating_errors(models, held_out)


def _fit_stacker(run: Run) -> StackingFuser:
    st = run.stages["validation"]
    stacker = StackingFuser()
    stacker.fit(st.pool, st.truth, run._context(st))
    return stacker


# ---------------------------------------------------------------------- helpers
def user_segments(activity: np.ndarray, heavy_from: float = 50.0) -> np.ndarray:
    """Label users by interaction count: new (0), cold (< 5), regular, heavy (>= ``heavy_from``)."""
    act = np.asarray(activity)
    out = np.full(act.shape, "regular", dtype=object)
    out[act < COLD_BELOW] = "cold"
    out[act == 0] = "new"
    out[act >= heavy_from] = "heavy"
    return out


def strategy_labels(activity: np.ndarray, cold_threshold: int) -> np.ndarray:
    """How a user is served: warm (all models), cold (history-based models), new (popularity)."""
    act = np.asarray(activity)
    out = np.full(act.shape, "warm", dtype=object)
    out[act < cold_threshold] = "cold"
    out[act == 0] = "new"
    return out


def single_model_topk(pool: CandidatePool, m: int, k: int) -> TopK:
    """One model's own top-k inside the pool (its top-M is in the pool, so this is its real top-k)."""
    scores = np.where(pool.items >= 0, pool.scores[m], -np.inf)
    scores = np.where(np.isnan(scores), -np.inf, scores)
    pos, vals = top_k_indices(scores, k)
    items = np.where(pos >= 0, np.take_along_axis(pool.items, np.maximum(pos, 0), axis=1), -1)
    return TopK(pool.users, items.astype(np.int32), vals)


def _rating_errors(
    models: dict[str, Recommender], held_out: Dataset
) -> dict[str, dict[str, float]]:
    df = held_out.interactions
    out = {}
    for name, model in models.items():
        if not model.predicts_ratings or df[Col.RATING].isna().all():
            continue
        truth = df[Col.RATING].to_numpy(np.float64)
        pred = model.predict_ratings(
            df[Col.USER_IDX].to_numpy(), df[Col.ITEM_IDX].to_numpy()
        ).astype(np.float64)
        err = pred - truth
        out[name] = {"rmse": float(np.sqrt(np.mean(err**2))), "mae": float(np.mean(np.abs(err)))}
    return out


def _purchased_matrix(ds: Dataset) -> sp.csr_matrix:
    df = ds.interactions[ds.interactions[Col.PURCHASED]]
    return sp.csr_matrix(
        (np.ones(len(df), np.float32), (df[Col.USER_IDX].to_numpy(), df[Col.ITEM_IDX].to_numpy())),
        shape=(ds.n_users, ds.n_items),
    )


def _category_codes(items: ItemTable, names: Sequence[str]) -> list[int]:
    lookup = {str(n): i for i, n in enumerate(items.category_names)}
    return [lookup[str(n)] for n in names if str(n) in lookup]


def _item_table(ds: Dataset) -> ItemTable:
    category = item_label_codes(ds, Col.CATEGORY)
    brand = item_label_codes(ds, Col.BRAND)
    return ItemTable.from_arrays(
        category=category,
        brand=brand,
        popularity=ds.item_popularity(),
        vectors=item_dense_vectors(ds),
        catalog=ds.catalog,
        category_names=_label_names(ds, Col.CATEGORY),
        brand_names=_label_names(ds, Col.BRAND),
    )


def _label_names(ds: Dataset, column: str) -> list[str]:
    values = ds.catalog_column(column)
    if values is None:
        return []
    return list(pd.Series(values).dropna().astype(str).pipe(lambda s: s[s != ""]).unique())


def _with_item_info(frame: pd.DataFrame, ds: Dataset) -> pd.DataFrame:
    idx_col = "item_idx" if "item_idx" in frame.columns else None
    if idx_col is None:
        return frame
    idx = frame[idx_col].to_numpy()
    out = frame.copy()
    out.insert(0, "item_id", ds.item_ids.to_external(idx))
    for column in (Col.TITLE, Col.CATEGORY, Col.BRAND, Col.PRICE, Col.PRICE_BAND):
        if column in ds.catalog.columns:
            out[column] = ds.catalog[column].to_numpy()[idx]
    return out


def _json_safe(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_json_safe(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return obj.tolist() if obj.size <= 1000 else f"array{obj.shape}"
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, float) and not np.isfinite(obj):
        return None
    return obj
