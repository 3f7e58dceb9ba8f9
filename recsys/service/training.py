"""Training a run: split the data, fit every model per stage, build the candidate pools."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from functools import partial

import numpy as np
import scipy.sparse as sp

from recsys.data.dataset import Dataset
from recsys.data.schema import Col
from recsys.data.split import split
from recsys.errors import Message, warnings_logged
from recsys.models import Recommender, make_model
from recsys.ranking.fusion import FUSERS, FusionConfig
from recsys.ranking.fusion.crossfit import out_of_fold
from recsys.ranking.rerank import ItemTable, exclusion_matrix, rerank
from recsys.service.memory import check_memory, training_memory
from recsys.service.pools import strategy_pool
from recsys.service.preset import Preset
from recsys.service.run import Run
from recsys.service.side_info import held_out_truth
from recsys.service.stage import STAGES, Stage
from recsys.service.stored_pools import StoredPool, check_matches
from recsys.service.strategy import BLEND, LTR, StrategyChoice

log = logging.getLogger(__name__)

#: progress(stage, model or None, fraction in [0, 1], message)
RunProgress = Callable[[str, str | None, float, str], None]


@warnings_logged("training")
def train_run(
    dataset: Dataset,
    preset: Preset,
    *,
    progress: RunProgress | None = None,
    stages: Sequence[str] = STAGES,
    tune: bool = False,
    sampled_validation: bool = False,
) -> Run:
    """Fit every model of ``preset`` for each stage and build the candidate pools.

    With ``sampled_validation`` the validation pool is built for the lab's fixed stratified
    sample of held-out users only (``Stage.sample_rows``, at most ~5,000) instead of all of them.
    Tuning and the strategy choice read only that sample anyway, so they do not change; a
    learned fuser then learns on the sample. This keeps a million-user run's validation pool
    small (the export does it).

    With ``tune``, the preset's fusion weights are then replaced by weights tuned on the
    validation split (``Run.autotune``), and the run starts from the strategy that wins on
    validation: that blend, learning to rank or the best single model
    (``recsys.service.strategy.choose_strategy``; ``run.strategy_choice`` says which and by how
    much).

    Before anything is fitted, the run's peak memory is estimated from the data's shape
    (``recsys.service.memory``); a run that would not fit in the available memory raises
    ``MemoryBudgetError`` with the knobs to turn.
    """
    check_memory(training_memory(dataset, preset, stages, sampled_validation), "training")
    report = progress or (lambda stage, model, fraction, message: None)
    started = time.perf_counter()
    run = prepare_run(dataset, preset)
    sources = {"validation": run.val_split.train, "test": run.split.train, "full": dataset}
    fitted: dict[str, dict[str, Recommender]] = {}
    for stage in stages:
        fitted[stage] = {}
        for name, params in preset.models.items():
            model = make_model(name, **params)
            t0 = time.perf_counter()
            model.fit(sources[stage], progress=partial(report, stage, name))
            run.timings[f"{stage}/{name}"] = round(time.perf_counter() - t0, 3)
            log.debug("%s/%s fitted in %.2f s", stage, name, run.timings[f"{stage}/{name}"])
            report(stage, name, 1.0, Message("trained", "progress.trained"))
            fitted[stage][name] = model
    report("pools", None, 0.0, Message("building candidate pools", "progress.pools"))
    t0 = time.perf_counter()
    install_stages(run, fitted, sampled_validation=sampled_validation)
    run.timings["pools"] = round(time.perf_counter() - t0, 3)
    report("pools", None, 1.0, Message("ready", "progress.ready"))
    method = FUSERS[preset.fusion.method]
    if method.needs_training and "validation" in run.stages:
        report("fuser", None, 0.0, Message("learning the fusion", "progress.fuser"))
        t0 = time.perf_counter()
        run.trained_fuser(method.name)
        run.timings[f"fuser/{method.name}"] = round(time.perf_counter() - t0, 3)
        report("fuser", None, 1.0, Message("ready", "progress.ready"))
    if tune and "validation" in run.stages and method.uses_weights:
        report(
            "tuning",
            None,
            0.0,
            Message("tuning fusion weights on the validation split", "progress.tuning"),
        )
        before = run.preset.fusion
        t0 = time.perf_counter()
        tuned = run.autotune(
            progress=lambda fraction, message: report("tuning", None, min(fraction, 0.999), message)
        )
        run.preset = run.preset.with_fusion(replace(run.preset.fusion, weights=tuned.best_weights))
        run.timings["tuning"] = round(time.perf_counter() - t0, 3)
        run.weights_tuned = True
        report("tuning", None, 1.0, Message("weights tuned", "progress.tuned"))
        report(
            "strategy",
            None,
            0.0,
            Message("comparing the blend, learning to rank and each model", "progress.choosing"),
        )
        t0 = time.perf_counter()
        choosing = Message(
            "comparing the blend, learning to rank and each model", "progress.choosing"
        )
        choice = choose_strategy(
            run,
            progress=lambda fraction: report("strategy", None, min(fraction, 0.999), choosing),
        )
        run.timings["strategy_choice"] = round(time.perf_counter() - t0, 3)
        run.strategy_choice = choice
        run.tuning_check = tuning_check(run, before, run.preset.fusion, choice.objective)
        run.preset = run.preset.with_fusion(choice.fusion(run.preset.fusion, run.model_names))
        report("strategy", None, 1.0, Message("strategy chosen", "progress.chosen"))
        log.info("strategy chosen on validation: %s (%s)", choice.winner, choice.objective)
    log.info(
        "run trained: stages %s, models %s, %d users x %d items, %.1f s",
        ",".join(stages),
        ",".join(preset.models),
        dataset.n_users,
        dataset.n_items,
        time.perf_counter() - started,
    )
    return run


def tuning_check(run: Run, before: FusionConfig, tuned: FusionConfig, objective: str) -> dict:
    """The tuned weights against the weights before tuning, on the held-out *test* users.

    Tuning looks at validation users only; this says whether the gain carried over, so the
    Train page can say plainly when the tuned weights do worse.
    """
    if "test" not in run.stages:
        return {}
    rr = run.preset.rerank
    values = {
        name: run.evaluate(cfg, rr, stage="test", sample=True).fusion.values.get(objective)
        for name, cfg in (("before", before), ("tuned", tuned))
    }
    return {
        "objective": objective,
        "before": None if values["before"] is None else float(values["before"]),
        "tuned": None if values["tuned"] is None else float(values["tuned"]),
    }


def choose_strategy(
    run: Run,
    objective: str | None = None,
    folds: int = 3,
    progress: Callable[[float], None] | None = None,
) -> StrategyChoice:
    """Score the blend and learning to rank (both out of fold) and each model on validation.

    The blend's weights in the run stay those tuned on the whole validation sample; its score
    here comes from weights tuned on the other folds (``Run.blend_out_of_fold``).
    """
    rr = run.preset.rerank
    objective = objective or f"ndcg@{rr.k}"
    st = run.stages["validation"]
    pool = st.sample_pool
    segments = run.segments("validation", pool.users)
    scores: dict[str, float] = {}
    blend = run.evaluate(run.preset.fusion, rr, stage="validation", sample=True)
    half = None if progress is None else (lambda fraction: progress(fraction / 2))
    if FUSERS[run.preset.fusion.method].uses_weights:
        oof = run.blend_out_of_fold(objective, folds=folds, progress=half)
        scores[BLEND] = _value(oof.values, objective)
    truth = st.graded if st.graded is not None else st.truth
    ltr_trainer = FUSERS[LTR].trainer
    if ltr_trainer is not None and truth is not None:
        later = None if progress is None else (lambda fraction: progress(0.5 + fraction / 2))
        fused = out_of_fold(ltr_trainer, pool, truth, run.context(st), folds=folds, progress=later)
        ranked = rerank(pool, fused, rr, run.items, user_segments=segments)
        scores[LTR] = _value(run.stage_metrics(st, ranked.topk, rr.k).values, objective)
    singles = {m: _value(r.values, objective) for m, r in blend.models.items()}
    best_model = max(singles, key=lambda m: singles[m])
    scores[best_model] = singles[best_model]
    winner = max(scores, key=lambda c: scores[c])
    blend_weights = dict(run.preset.fusion.weights)
    return StrategyChoice(winner, objective, scores, best_model, len(pool), blend_weights)


def _value(values: dict, key: str) -> float:
    v = values.get(key)
    return float(v) if v is not None else float("-inf")


def prepare_run(dataset: Dataset, preset: Preset) -> Run:
    """An empty run with the preset's outer (test) and inner (validation) splits."""
    cfg = preset.split
    kwargs = {
        "method": cfg.get("method", "temporal"),
        "test_fraction": float(cfg.get("test_fraction", 0.2)),
        "seed": int(cfg.get("seed", 0)),
    }
    outer = split(dataset, **kwargs)
    inner = split(outer.train, **kwargs)
    return Run(dataset, preset, outer, inner)


def install_stages(
    run: Run,
    fitted: Mapping[str, dict[str, Recommender]],
    *,
    sampled_validation: bool = False,
    stored: Mapping[str, StoredPool] | None = None,
) -> None:
    """Create stages from fitted models, with exclusions, pools and rating errors.

    ``sampled_validation``: see ``train_run``. ``stored``: pools saved with the run
    (``recsys.service.stored_pools``), used instead of building them; a stored pool that is
    not the one the stage would build raises ``PoolMismatch``.
    """
    stored = stored or {}
    parts = {
        "validation": (run.val_split.train, run.val_split.test),
        "test": (run.split.train, run.split.test),
        "full": (run.dataset, None),
    }
    rr = run.preset.rerank
    for stage, models in fitted.items():
        train, held_out = parts[stage]
        truth = graded = None
        if held_out is not None:
            truth, graded = held_out_truth(held_out, run.preset.split.get("min_rating"))
        st = Stage(stage, train, truth, models, graded=graded)
        st.exclude = exclusion_matrix(
            train.matrix("ones"),
            _purchased_matrix(train),
            run.items.category,
            mode=rr.exclude,
            repurchasable_categories=_category_codes(run.items, rr.repurchasable_categories),
        )
        run.stages[stage] = st
        if truth is not None and held_out is not None:
            users = np.flatnonzero(truth.getnnz(axis=1) > 0).astype(np.int32)
            kept = stored.get(stage)
            sample = kept.sample if kept is not None else sampled_validation
            if stage == "validation" and sample:
                users = users[st.sample_rows(users)]
                st.pool_is_sample = True
            per_model = min(run.preset.candidates_per_model, run.dataset.n_items)
            if kept is not None:
                st.pool = check_matches(kept, stage, users, tuple(models), per_model)
            else:
                st.pool = strategy_pool(
                    models,
                    users,
                    st.activity,
                    cold_threshold=run.preset.cold_threshold,
                    per_model=per_model,
                    exclude=st.exclude,
                )
            if run.dataset.has_ratings:
                st.rating_errors = _rating_errors(models, held_out)


def _rating_errors(
    models: Mapping[str, Recommender], held_out: Dataset
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
