"""Honest training progress: each step weighted by its estimated cost, with the time left.

``training_plan`` lists what ``train_run`` will do (every model fitted per stage, the candidate
pools, a learned fuser, the weight search, the strategy choice) with a cost estimate in seconds
from the data's shape, each model's ``fit_cost`` prior and, when given, the per-model costs
measured on earlier runs (``measured_costs``). ``TrainingProgress`` turns the progress calls of
``train_run`` into one overall fraction weighted by those estimates, which only moves forward,
never reaches 1 before ``finish`` and comes with the seconds left, corrected by how fast the
finished steps actually went.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from recsys.data.dataset import Dataset
from recsys.errors import ConfigError
from recsys.evaluation.sampling import LAB_SAMPLE_USERS
from recsys.models import model_class
from recsys.ranking.fusion import FUSERS
from recsys.service.preset import Preset
from recsys.service.stage import STAGES

#: Seconds per (user x item x model) cell scored into a candidate pool (demo store, measured).
POOL_SECONDS_PER_CELL = 1.7e-7
#: Seconds per (user x candidate) cell of one weight-search trial (fuse, re-rank, metrics).
TRIAL_SECONDS_PER_CELL = 7e-8
#: Seconds per (user x listed candidate) cell of one learning-to-rank fit.
LTR_SECONDS_PER_CELL = 3.5e-5
#: Weight-search trials beyond the Dirichlet samples: the refinement steps.
REFINE_TRIALS = 50
#: Overall progress shown before ``finish``: never 100 % while work remains.
MAX_BEFORE_DONE = 0.99


@dataclass(frozen=True)
class PlanStep:
    """One step of a training run: ``key`` as ``TrainingProgress`` names it, its estimate."""

    key: str
    seconds: float


def step_key(stage: str, model: str | None) -> str:
    """The plan key of a progress call of ``train_run``: ``test/ease``, ``pools``, ``tuning``."""
    return f"{stage}/{model}" if model else stage


def _stage_shares(test_fraction: float) -> dict[str, float]:
    """Share of the data each stage fits on (validation = train minus validation)."""
    f = min(max(float(test_fraction), 0.0), 0.9)
    return {"validation": (1 - f) ** 2, "test": 1 - f, "full": 1.0}


def tune_trials(n_models: int, n_samples: int) -> int:
    """Trials of ``tune_weights``: the vertices, the centre, the samples and the refinement."""
    return n_models + 1 + n_samples + REFINE_TRIALS if n_models > 1 else 1


def training_plan(
    dataset: Dataset,
    preset: Preset,
    *,
    tune: bool = False,
    stages: Sequence[str] = STAGES,
    measured: Mapping[str, float] | None = None,
    n_samples: int = 120,
) -> list[PlanStep]:
    """The steps of ``train_run(dataset, preset, tune=tune)`` with their estimated seconds.

    ``measured``: model name -> seconds per 1,000 pairs and unit of ``cost_scale`` measured on
    earlier runs (``measured_costs``); a model without one uses its ``fit_cost`` prior.
    """
    if not preset.models:
        raise ConfigError("the preset has no models to train.")
    measured = measured or {}
    shares = _stage_shares(float(preset.split.get("test_fraction", 0.2)))
    kpairs = len(dataset.interactions) / 1e3
    steps: list[PlanStep] = []
    for stage in stages:
        for name, params in preset.models.items():
            cls = model_class(name)
            if name in measured:
                full = measured[name] * cls.cost_scale(params) * kpairs
            else:
                full = cls.fit_cost(dataset, params)
            steps.append(PlanStep(step_key(stage, name), max(full * shares[stage], 1e-3)))
    n_models = len(preset.models)
    per_model = min(int(preset.candidates_per_model), dataset.n_items)
    width = min(dataset.n_items, max(per_model, int(0.46 * n_models * per_model)))
    held_out = 0.8 * dataset.n_users  # users with a held-out part, per evaluated stage
    evaluated = [s for s in stages if s != "full"]
    cells = held_out * dataset.n_items * n_models * len(evaluated)
    steps.append(PlanStep("pools", POOL_SECONDS_PER_CELL * cells + 0.2))
    sample = min(held_out, LAB_SAMPLE_USERS)
    ltr = LTR_SECONDS_PER_CELL * min(held_out, 20_000) * min(width, 100) + 0.5
    method = FUSERS[preset.fusion.method]
    if method.needs_training and "validation" in stages:
        steps.append(PlanStep("fuser", ltr if method.name == "ltr" else 0.1 * ltr))
    if tune and "validation" in stages and method.uses_weights:
        trial = TRIAL_SECONDS_PER_CELL * sample * width + 0.005
        steps.append(PlanStep("tuning", tune_trials(n_models, n_samples) * trial))
        steps.append(PlanStep("strategy", 3 * LTR_SECONDS_PER_CELL * sample * min(width, 100)))
    return steps


def measured_costs(manifests: Iterable[Mapping]) -> dict[str, float]:
    """Model name -> seconds per 1,000 pairs (per unit of ``cost_scale``) of its ``full`` fit.

    Taken from the newest run manifest that has one (``manifests`` newest first).
    """
    out: dict[str, float] = {}
    for manifest in manifests:
        info = manifest.get("split_info") or {}
        pairs = float(info.get("train_pairs") or 0) + float(info.get("test_pairs") or 0)
        params = (manifest.get("preset") or {}).get("models") or {}
        timings = manifest.get("timings") or {}
        if pairs <= 0:
            continue
        for key, seconds in timings.items():
            stage, _, name = str(key).partition("/")
            if stage != "full" or not name or name in out:
                continue
            try:
                scale = model_class(name).cost_scale(params.get(name))
            except ConfigError:  # a model no longer registered
                continue
            if scale > 0 and isinstance(seconds, int | float):
                out[name] = float(seconds) / scale / (pairs / 1e3)
    return out


class TrainingProgress:
    """Overall progress of a run weighted by the plan's estimates, and the seconds left.

    Feed it every progress call of ``train_run`` (``update``); read ``fraction`` and
    ``seconds_left``. The fraction never goes back and stays below 1 until ``finish``.
    """

    def __init__(self, steps: Sequence[PlanStep], clock: Callable[[], float] = time.perf_counter):
        self.estimates = {s.key: max(float(s.seconds), 1e-3) for s in steps}
        self.total = sum(self.estimates.values())
        self.done: dict[str, float] = {}
        self._clock = clock
        self._start = clock()
        self._shown = 0.0
        self._finished = False

    def update(self, stage: str, model: str | None, fraction: float) -> None:
        """Record that step ``(stage, model)`` is ``fraction`` done (unknown steps are ignored)."""
        key = step_key(stage, model)
        if key in self.estimates:
            f = min(max(float(fraction), 0.0), 1.0)
            self.done[key] = max(self.done.get(key, 0.0), f)

    def finish(self) -> None:
        """Mark the run done: the fraction is 1 and no time is left."""
        self._finished = True

    @property
    def elapsed(self) -> float:
        """Seconds since the tracker was made."""
        return self._clock() - self._start

    def _done_estimate(self) -> float:
        return sum(self.estimates[k] * f for k, f in self.done.items())

    @property
    def fraction(self) -> float:
        """Share of the estimated work done, in [0, 0.99] before ``finish`` (then 1)."""
        if self._finished:
            return 1.0
        value = min(self._done_estimate() / self.total, MAX_BEFORE_DONE)
        self._shown = max(self._shown, value)
        return self._shown

    @property
    def seconds_left(self) -> float:
        """Estimated seconds left: the remaining estimate times how fast the work has gone.

        The pace is elapsed / estimate of what is done, once a few percent are done.
        """
        if self._finished:
            return 0.0
        done = self._done_estimate()
        rate = self.elapsed / done if done > 0.05 * self.total else 1.0
        rate = min(max(rate, 0.2), 20.0)
        return max(self.total - done, 0.0) * rate
