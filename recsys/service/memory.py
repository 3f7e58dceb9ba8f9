"""Memory and time a run will need, estimated from the data's shape before anything starts.

``training_memory`` adds up what ``train_run`` holds at its peak: the fitted models of every
stage (``Recommender.memory_need``, measured priors), the largest single fit's working memory,
the candidate pools of the held-out stages and the scoring buffers. ``check_memory`` compares
the total with the memory the machine has available and, when it would not fit, refuses with
a plain message that names the knobs to turn, instead of letting the kernel kill the process.
The loaded dataset itself is not counted: it is already in memory when the check runs.

``export_time`` estimates the wall time of a whole export (fits, validation, the streamed
blocks) from the same shape and the machine's cores, with per-model CPU costs measured on a
million-user store (``EXPORT_COSTS``); ``time_advice`` says which models (and whether learning
to rank) to leave out so that it fits a time budget. They extend the size rule that leaves
models out of the default preset (``Recommender.scale_problem``): those models are gone before
the estimate is made.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

from recsys.data.dataset import Dataset
from recsys.errors import MemoryBudgetError
from recsys.evaluation.sampling import LAB_SAMPLE_USERS
from recsys.models import model_class
from recsys.ranking.candidates import BLOCK_BYTES
from recsys.service.preset import Preset
from recsys.service.stage import STAGES

#: Share of the available memory a run may plan to use (the rest: Python, Streamlit, slack).
USABLE_SHARE = 0.85


@dataclass(frozen=True)
class MemoryEstimate:
    """Estimated peak bytes of a task, by part (label -> bytes, largest first)."""

    parts: tuple[tuple[str, int], ...]

    @property
    def total(self) -> int:
        """Bytes of all parts together."""
        return sum(b for _, b in self.parts)

    def describe(self, n: int = 3) -> str:
        """The ``n`` largest parts in plain words: ``candidate pools 3.1 GB, svd 0.7 GB``."""
        return ", ".join(f"{label} {gigabytes(b)}" for label, b in self.parts[:n])


def gigabytes(n_bytes: float) -> str:
    """``1.234e9`` -> ``"1.2 GB"``; small amounts in MB."""
    return f"{n_bytes / 1e9:.1f} GB" if n_bytes >= 1e8 else f"{n_bytes / 1e6:.0f} MB"


def available_memory() -> int | None:
    """Bytes the kernel says are available now (``MemAvailable``), or None when unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return None


def _stage_pairs(n_pairs: int, test_fraction: float) -> dict[str, int]:
    """Training pairs of each stage (validation trains on train minus its own holdout)."""
    f = min(max(float(test_fraction), 0.0), 0.9)
    return {
        "validation": int(n_pairs * (1 - f) ** 2),
        "test": int(n_pairs * (1 - f)),
        "full": n_pairs,
    }


def pool_bytes(n_users: int, n_items: int, n_models: int, per_model: int) -> int:
    """Bytes of a candidate pool over ``n_users``: items, scores, ranks, normalised scores.

    The pool is at most ``n_models x per_model`` wide (every model's top-M, no overlap).
    """
    width = min(n_items, n_models * per_model)
    return n_users * width * (4 + 12 * n_models)


def training_memory(
    dataset: Dataset,
    preset: Preset,
    stages: Sequence[str] = STAGES,
    sampled_validation: bool = False,
) -> MemoryEstimate:
    """Estimated peak memory of ``train_run(dataset, preset, stages=..., ...)``."""
    n_users, n_items, n_pairs = dataset.n_users, dataset.n_items, len(dataset.interactions)
    pairs = _stage_pairs(n_pairs, float(preset.split.get("test_fraction", 0.2)))
    kept: dict[str, int] = {}
    largest_fit = ("", 0)
    for name, params in preset.models.items():
        for stage in stages:
            fit, keep = model_class(name).memory_need(n_users, n_items, pairs[stage], params)
            kept[name] = kept.get(name, 0) + keep
            if fit - keep > largest_fit[1]:
                largest_fit = (f"fitting {name}", fit - keep)
    n_models = len(preset.models)
    per_model = min(int(preset.candidates_per_model), n_items)
    pools = 0
    for stage in stages:
        if stage == "full":
            continue  # served block by block, never pooled whole
        users = n_users
        if stage == "validation" and sampled_validation:
            users = min(n_users, LAB_SAMPLE_USERS)
        pools += pool_bytes(users, n_items, n_models, per_model)
    parts = [(name, b) for name, b in kept.items()]
    parts += [largest_fit, ("candidate pools", pools), ("scoring buffers", 2 * BLOCK_BYTES)]
    return MemoryEstimate(tuple(sorted(((k, v) for k, v in parts if v > 0), key=lambda p: -p[1])))


def check_memory(estimate: MemoryEstimate, task: str, available: int | None = None) -> None:
    """Refuse ``task`` (``"training"``, ``"the export"``) when ``estimate`` would not fit.

    ``available`` defaults to ``available_memory()``; unknown memory is never refused.
    """
    available = available_memory() if available is None else available
    if available is None or estimate.total <= USABLE_SHARE * available:
        return
    model_parts = [
        label
        for label, _ in estimate.parts
        if not label.startswith(("fitting", "candidate", "scoring"))
    ]
    knobs = [
        "fewer candidates per model (the preset's candidates_per_model)",
        "a sampled validation stage (the CLI's export does this)",
    ]
    if model_parts:
        knobs.append(f"fewer or smaller models ({model_parts[0]} needs the most)")
    raise MemoryBudgetError(
        f"{task.capitalize()} would need about {gigabytes(estimate.total)} of memory "
        f"({estimate.describe()}), but {gigabytes(available)} are available. "
        f"Nothing was started. To fit, try: {'; '.join(knobs)}."
    )


# ---------------------------------------------------------------------------------- time
#: Minutes a whole export (fit + scoring every user) should take by default (issue 10).
EXPORT_MINUTES = 30.0


@dataclass(frozen=True)
class ModelCost:
    """Measured CPU seconds of one model in an export.

    ``fit`` : per million training pairs, one stage (scaled by the model's ``cost_params``).
    ``score`` : per million users scored into candidate pools, per 100,000 items.
    ``threaded`` : the fit runs on every core (its wall time is its CPU time over the cores).
    """

    fit: float
    score: float
    threaded: bool = False


#: CPU seconds measured on ``demo-data --users 1000000 --items 100000 --events 20000000``
#: (9.2M pairs) on the 2-core machine (README, "A million shoppers"): fits from the stage
#: timings of a whole export (threaded fits: wall x 2 cores), scoring from one model's pool
#: build over 4,008 users on one thread. Models not listed fall back to their ``fit_cost``
#: prior and ``OTHER_SCORE``.
EXPORT_COSTS: dict[str, ModelCost] = {
    "popularity": ModelCost(fit=0.1, score=22.0),
    "rp3beta": ModelCost(fit=4.5, score=302.0),
    "item_knn": ModelCost(fit=4.0, score=297.0),
    "als": ModelCost(fit=45.0, score=863.0, threaded=True),
}
#: Scoring CPU seconds per million users per 100,000 items of a model not in ``EXPORT_COSTS``.
OTHER_SCORE = 900.0
#: The rest of an export, CPU seconds: the splits, per million pairs; uniting the models' lists
#: (threaded), fusing, re-ranking and writing, learning to rank's features and trees (on top),
#: per million users; the validation stage's work on the lab's sample (its pools, tuning, the
#: strategy choice, the ranker's fit), at the full sample of ``LAB_SAMPLE_USERS``. Scoring the
#: blend out of fold in the strategy choice added about two tunings to it (21 -> 48 s on a
#: 50,000-user store, README), hence 45 + 30 s.
SPLIT_PER_MPAIR = 6.5
UNION_PER_MUSER = 83.0
FUSE_PER_MUSER = 110.0
LTR_PER_MUSER = 250.0
VALIDATION_FIXED = 75.0


@dataclass(frozen=True)
class TimeEstimate:
    """Estimated wall seconds of an export, by part (label -> seconds, in run order)."""

    parts: tuple[tuple[str, float], ...]

    @property
    def total(self) -> float:
        """Wall seconds of all parts together."""
        return sum(s for _, s in self.parts)

    @property
    def minutes(self) -> float:
        """``total`` in minutes."""
        return self.total / 60.0


def export_time(
    n_users: int,
    n_items: int,
    n_pairs: int,
    models: dict[str, dict],
    *,
    reading: float,
    learning_to_rank: bool,
    validation: bool = True,
    cores: int = 1,
    test_fraction: float = 0.2,
) -> TimeEstimate:
    """Estimated wall time of ``export`` on data of this shape with these ``models``.

    ``models`` : name -> parameters; ``reading`` : seconds spent reading the files (measured:
    the CLI estimates after reading);
    ``validation`` : the validation stage is fitted too (weights tuned, a learned fuser);
    ``cores`` : the cores the process may use. Threaded parts (pool scoring, threaded fits)
    are divided by the cores, the rest runs on one.
    """
    cores = max(1, int(cores))
    pairs = _stage_pairs(n_pairs, test_fraction)
    stages = ("validation", "full") if validation else ("full",)
    item_scale = n_items / 1e5
    parts: list[tuple[str, float]] = [("reading the data", float(reading))]
    parts.append(("splitting", SPLIT_PER_MPAIR * n_pairs / 1e6))
    for name, params in models.items():
        cls = model_class(name)
        cost = EXPORT_COSTS.get(name)
        fit = 0.0
        for stage in stages:
            if cost is None:
                fit += cls.cost_scale(params) * cls.fit_seconds_per_kpair * pairs[stage] / 1e3
            else:
                fit += cls.cost_scale(params) * cost.fit * pairs[stage] / 1e6
        threaded = cost is not None and cost.threaded
        parts.append((f"fitting {name}", fit / cores if threaded else fit))
    if validation:
        sample = min(n_users, LAB_SAMPLE_USERS) / LAB_SAMPLE_USERS
        parts.append(("validation and tuning", VALIDATION_FIXED * sample))
    score = sum((EXPORT_COSTS[m].score if m in EXPORT_COSTS else OTHER_SCORE) for m in models)
    pools = score * item_scale + (UNION_PER_MUSER if len(models) > 1 else 0.0)
    parts.append(("candidate pools", pools * n_users / 1e6 / cores))
    parts.append(("fusing and writing", FUSE_PER_MUSER * n_users / 1e6))
    if learning_to_rank:
        parts.append(("learning to rank", LTR_PER_MUSER * n_users / 1e6))
    return TimeEstimate(tuple(parts))


@dataclass(frozen=True)
class TimeAdvice:
    """What to leave out so that an export fits a time budget."""

    needed: TimeEstimate
    models: tuple[str, ...]
    drop_models: tuple[str, ...]
    drop_learning_to_rank: bool
    estimate: TimeEstimate

    def line(self, budget_minutes: float, what: str = "the default preset") -> str:
        """One plain line: the estimate, what to leave out and the exact options to pass."""
        dropped = list(self.drop_models)
        if self.drop_learning_to_rank:
            dropped.append("learning to rank")
        options = f"--models {','.join(self.models)}"
        if self.drop_learning_to_rank:
            options += " --strategy blend"
        head = f"At this size {what} needs about {_minutes(self.needed.minutes)} min"
        if self.estimate.minutes > budget_minutes:
            return (
                f"{head}; nothing fits {budget_minutes:g} min, the fastest choice "
                f"(about {_minutes(self.estimate.minutes)} min) leaves out {_words(dropped)}: {options}"
            )
        return f"{head}; for {budget_minutes:g} min leave out {_words(dropped)}: {options}"


def time_advice(
    budget_minutes: float, models: dict[str, dict], learning_to_rank: bool, **shape
) -> TimeAdvice | None:
    """None when ``export_time(..., models, ...)`` fits ``budget_minutes``, else what to drop.

    Every subset of ``models`` (with and without learning to rank, when it is on) is
    estimated; among those within the budget the one that leaves out the fewest things wins
    (learning to rank counts as one), then the one that keeps the most work (the smallest cut
    that is enough). When none fits, the fastest subset.
    ``shape`` : the other keywords of ``export_time``.
    """
    needed = export_time(models=models, learning_to_rank=learning_to_rank, **shape)
    if needed.minutes <= budget_minutes:
        return None
    names = list(models)
    options = []
    for mask in range(1, 2 ** len(names)):
        keep = [n for i, n in enumerate(names) if mask >> i & 1]
        for ltr in (True, False) if learning_to_rank else (False,):
            est = export_time(models={n: models[n] for n in keep}, learning_to_rank=ltr, **shape)
            dropped = len(names) - len(keep) + (learning_to_rank and not ltr)
            options.append((est.minutes > budget_minutes, dropped, est.total, keep, ltr, est))
    options.sort(key=lambda o: (o[0], o[1], -o[2]) if not o[0] else (True, 0, o[2]))
    _, _, _, keep, ltr, est = options[0]
    return TimeAdvice(
        needed,
        tuple(keep),
        tuple(n for n in names if n not in keep),
        learning_to_rank and not ltr,
        est,
    )


def _minutes(minutes: float) -> str:
    """``30.29`` -> ``"30.3"`` (one decimal below an hour: the budget is often that close)."""
    return f"{minutes:.1f}" if minutes < 60 else f"{minutes:.0f}"


def _words(items: list[str]) -> str:
    """``["a", "b", "c"]`` -> ``"a, b and c"``."""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"
