"""Held-out evaluation of a run: metrics of a configuration, tuning on validation, offline A/B."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from recsys.evaluation.metrics import MetricReport
from recsys.evaluation.offline_ab import ABResult, compare, paired_permutation_test
from recsys.evaluation.sampling import Interval, mean_interval
from recsys.evaluation.tuning import TuneResult, tune_knobs, tune_weights
from recsys.ranking.candidates import CandidatePool
from recsys.ranking.fusion import FUSERS, FusionConfig
from recsys.ranking.fusion.crossfit import fold_of
from recsys.ranking.rerank import RankedLists, RerankConfig, rerank
from recsys.ranking.rerank.impact import ImpactReport, rule_impact
from recsys.ranking.topk import TopK
from recsys.service.pools import single_model_topk
from recsys.service.preset import Preset
from recsys.service.run_base import RunBase

Constraints = dict[str, tuple[str, float]]


@dataclass
class Evaluation:
    """Held-out metrics of one fusion + re-rank configuration and of each single model."""

    fusion: MetricReport
    models: dict[str, MetricReport]
    ranked: RankedLists
    config: FusionConfig
    rerank: RerankConfig
    seconds: float
    population: int = 0  # held-out users of the stage (the sample's population)

    @property
    def n_users(self) -> int:
        """Users the lists were scored for (the sample size when sampled)."""
        return len(self.fusion.users)

    @property
    def sampled(self) -> bool:
        """Whether the lists cover a sample of the stage's held-out users."""
        return self.n_users < self.population

    def interval(self, metric: str, strategy: str = "fusion") -> Interval:
        """95 % interval of a per-user metric's mean for ``fusion`` or one model."""
        report = self.fusion if strategy == "fusion" else self.models[strategy]
        return mean_interval(report.per_user[metric])

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


class Evaluating(RunBase):
    """Metrics on the test stage; weights and knobs tuned on the validation stage only."""

    def single_model_reports(
        self, stage: str = "test", k: int | None = None, *, sample: bool = False
    ) -> dict[str, MetricReport]:
        """Held-out metrics of each model alone (its own top-k inside the shared pool)."""
        st = self.stages[stage]
        pool = st.sample_pool if sample else st.require_pool()
        k = k or self.k
        key = f"k{k}" + ("/sample" if sample else "")
        if key not in st.single_reports:
            reports = {}
            for m, name in enumerate(pool.model_names):
                reports[name] = self.stage_metrics(st, single_model_topk(pool, m, k), k)
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
        sample: bool = False,
    ) -> Evaluation:
        """Held-out metrics of a fusion + re-rank configuration (fast: pools are cached).

        With ``sample``, only the stage's fixed stratified sample of users is re-fused and
        scored (``Stage.sample_pool``): what the lab does on every change at large sizes.
        """
        fusion, rr = self._fusion(fusion), self._rerank(rerank_cfg)
        t0 = time.perf_counter()
        st = self.stages[stage]
        pool = st.sample_pool if sample else st.require_pool()
        _, ranked = self._rank(stage, pool, fusion, rr)
        report = self.stage_metrics(st, ranked.topk, rr.k)
        seconds = time.perf_counter() - t0
        models = self.single_model_reports(stage, rr.k, sample=sample)
        return Evaluation(
            report, models, ranked, fusion, rr, seconds, population=len(st.require_pool())
        )

    def rule_impact(
        self,
        fusion: FusionConfig | None = None,
        rerank_cfg: RerankConfig | None = None,
        *,
        stage: str = "test",
        sample: bool = True,
        current: Evaluation | None = None,
    ) -> ImpactReport:
        """Each rule's impact on the lab's users (``recsys.ranking.rerank.impact``).

        Lists with each rule toggled, scored by ``stage_metrics`` like every figure of the lab;
        ``current``, the evaluation of the same setting on the same users, is reused.
        """
        fusion, rr = self._fusion(fusion), self._rerank(rerank_cfg)
        st = self.stages[stage]
        pool = st.sample_pool if sample else st.require_pool()
        same = (
            current is not None
            and current.config == fusion
            and current.rerank == rr
            and np.array_equal(current.fusion.users, pool.users)
        )
        return rule_impact(
            pool,
            self.fuse_pool(stage, pool, fusion),
            rr,
            self.items,
            lambda topk: self.stage_metrics(st, topk, rr.k).values,
            user_segments=self.segments(stage, pool.users),
            current=current.ranked if same and current else None,
            current_metrics=current.fusion.values if same and current else None,
        )

    def prepare_lab(self, stages: tuple[str, ...] = ("test", "validation")) -> None:
        """Compute once what lab changes read and no weight change alters.

        Every fusion method's weight-independent tensors on the lab's sample pools, the learned
        fusers and the single models' reports: a warm-up the app runs in the background; repeat
        calls are cheap.
        """
        base = self.preset.fusion
        for stage in stages:
            if stage not in self.stages:
                continue
            pool = self.stages[stage].sample_pool
            for method in FUSERS:
                config = FusionConfig(method, base.normalization, base.weights, base.params)
                self.fuse_pool(stage, pool, config)
        if "test" in stages and "test" in self.stages:
            self.single_model_reports("test", sample=True)

    def autotune(
        self,
        objective: str | None = None,
        constraints: Constraints | None = None,
        *,
        fusion: FusionConfig | None = None,
        rerank_cfg: RerankConfig | None = None,
        n_samples: int = 120,
        seed: int = 0,
        progress: Callable[[float, str], None] | None = None,
        stop: Callable[[], bool] | None = None,
        time_budget: float | None = None,
        on_trial: Callable[[TuneResult], None] | None = None,
        pool: CandidatePool | None = None,
    ) -> TuneResult:
        """Search fusion weights on the *validation* pool; the test pool is not touched.

        At large sizes the search runs on the validation pool's lab sample (``pool``: a part of
        it instead). ``stop``, ``time_budget`` and ``on_trial`` as in ``tune_weights`` (a
        stopped search keeps its best so far).
        """
        fusion, rr = self._fusion(fusion), self._rerank(rerank_cfg)
        objective = objective or f"ndcg@{rr.k}"
        st = self.stages["validation"]
        if pool is None:
            pool = st.sample_pool  # all users up to LAB_SAMPLE_USERS, a stratified sample above

        def evaluate_weights(weights: dict[str, float]) -> dict[str, float | None]:
            cfg = FusionConfig(fusion.method, fusion.normalization, weights, fusion.params)
            _, ranked = self._rank("validation", pool, cfg, rr)
            return self.stage_metrics(st, ranked.topk, rr.k).values

        return tune_weights(
            evaluate_weights,
            list(pool.model_names),
            objective=objective,
            constraints=constraints,
            n_samples=n_samples,
            seed=seed,
            progress=progress,
            stop=stop,
            time_budget=time_budget,
            on_trial=on_trial,
        )

    def blend_out_of_fold(
        self,
        objective: str | None = None,
        *,
        folds: int = 3,
        seed: int = 0,
        progress: Callable[[float], None] | None = None,
    ) -> MetricReport:
        """The preset's blend on the validation sample, scored out of fold.

        Each user is ranked with weights tuned without them (``autotune`` on the other folds,
        the folds of ``fold_of``). Scored like learning to rank's out-of-fold lists, so the two
        compare fairly: weights tuned on the very users they are scored on flatter the blend.
        """
        fusion, rr = self._fusion(None), self._rerank(None)
        st = self.stages["validation"]
        pool = st.sample_pool
        fold = fold_of(len(pool.users), folds, seed)
        parts: list[TopK] = []
        for f in range(max(2, folds)):
            tuned = self.autotune(objective, pool=pool.subset(np.flatnonzero(fold != f)), seed=seed)
            config = replace(fusion, weights=tuned.best_weights)
            held_out = pool.subset(np.flatnonzero(fold == f))
            parts.append(self._rank("validation", held_out, config, rr)[1].topk)
            if progress is not None:
                progress((f + 1) / max(2, folds))
        topk = TopK(
            np.concatenate([t.users for t in parts]),
            np.concatenate([t.items for t in parts]),
            np.concatenate([t.scores for t in parts]),
        )
        return self.stage_metrics(st, topk, rr.k)

    def trial_seconds(
        self,
        fusion: FusionConfig | None = None,
        rerank_cfg: RerankConfig | None = None,
        repeats: int = 2,
    ) -> float:
        """Measured seconds of one weight-search trial of ``fusion`` on the validation pool.

        The fastest of ``repeats``: what an auto-tune estimate multiplies.
        """
        fusion, rr = self._fusion(fusion), self._rerank(rerank_cfg)
        st = self.stages["validation"]
        pool = st.sample_pool
        best = float("inf")
        for _ in range(max(repeats, 1)):
            t0 = time.perf_counter()
            _, ranked = self._rank("validation", pool, fusion, rr)
            self.stage_metrics(st, ranked.topk, rr.k)
            best = min(best, time.perf_counter() - t0)
        return best

    def tune_rerank(
        self,
        objective: str | None = None,
        constraints: Constraints | None = None,
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
        pool = st.sample_pool
        fused = self.fuse_pool("validation", pool, fusion)
        segments = self.segments("validation", pool.users)

        def evaluate_knobs(knobs: dict[str, float]) -> dict[str, float | None]:
            cfg = RerankConfig.from_dict({**rr.to_dict(), **knobs})
            ranked = rerank(pool, fused, cfg, self.items, user_segments=segments)
            return self.stage_metrics(st, ranked.topk, rr.k).values

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
        return compare(
            a.fusion, b.fusion, a.ranked.topk, b.ranked.topk, n_items=self.dataset.n_items
        )
