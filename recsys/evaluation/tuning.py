"""Search for fusion weights and re-ranking knobs on a *validation* pool.

The caller passes an ``evaluate`` closure that fuses / re-ranks the validation pool with the
given weights (or knobs) and returns metric values (``MetricReport.values``). The test part is
never seen here. Stacking (``fusion.StackingFuser``) is fitted on the validation pool by its own
``fit``; to compare it with weighted fusion, wrap it in the same kind of ``evaluate`` closure.

Weight search covers the simplex {w >= 0, sum w = 1}:
1. the vertices (each model alone), the uniform centre and ``n_samples`` Dirichlet(1) draws
   (uniform on the simplex);
2. ``n_refine`` local steps: Dirichlet draws centred on the best feasible points so far,
   ``w' ~ Dirichlet(c * w + 0.05)``, with the concentration ``c`` growing geometrically from 20
   to 2000, so steps shrink from broad to fine.

Constraints ``{"coverage": (">=", 0.3), "avg_popularity": ("<=", 100)}`` mark a trial
feasible or not; infeasible trials stay in the table but are never chosen while a feasible one
exists. If none is, the result says ``feasible=False`` and picks the trial with the smallest
total relative violation (ties: best objective).
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from recsys.errors import ConfigError, Message

Evaluate = Callable[[dict[str, float]], Mapping[str, float | None]]
Constraint = tuple[str, float]
ProgressCallback = Callable[[float, str], None]

_OPS = (">=", "<=", ">", "<")


@dataclass
class TuneResult:
    """Outcome of a search.

    Attributes
    ----------
    best_weights : chosen weights (model -> weight, summing to 1) or knob values.
    best_metrics : metric values of the chosen trial.
    trials : one row per trial: ``trial, phase`` (start/refine/grid), a column per weight or
        knob, a column per metric, ``violation`` and ``feasible``.
    seconds : wall time.
    feasible : whether the chosen trial meets every constraint.
    objective : the metric maximised (or minimised).
    message : one plain sentence for the UI.
    planned : trials the search meant to run.
    stopped : ``""`` when it ran every planned trial, ``"budget"`` when it stopped at its time
        budget, ``"cancelled"`` when the caller asked it to stop (the best so far is kept).
    """

    best_weights: dict[str, float]
    best_metrics: dict[str, float]
    trials: pd.DataFrame
    seconds: float
    feasible: bool
    objective: str = "ndcg@10"
    constraints: dict[str, Constraint] = field(default_factory=dict)
    message: str = ""
    planned: int = 0
    stopped: str = ""

    @property
    def best_params(self) -> dict[str, float]:
        """Alias of ``best_weights`` for knob searches."""
        return self.best_weights


# ---------------------------------------------------------------------------- helpers
def _check_constraints(constraints: Mapping[str, Constraint] | None) -> dict[str, Constraint]:
    out: dict[str, Constraint] = {}
    for metric, spec in (constraints or {}).items():
        if not isinstance(spec, tuple | list) or len(spec) != 2 or spec[0] not in _OPS:
            raise ConfigError(
                f"constraint on '{metric}' must look like ('>=', 0.3) or ('<=', 100)."
            )
        out[metric] = (str(spec[0]), float(spec[1]))
    return out


def violation(metrics: Mapping[str, float | None], constraints: Mapping[str, Constraint]) -> float:
    """Sum of relative constraint violations; 0 = feasible, inf = a constrained metric missing.

    A violation of ``value >= bound`` is ``(bound - value) / max(|bound|, 1e-9)``.
    """
    total = 0.0
    for metric, (op, bound) in constraints.items():
        value = metrics.get(metric)
        if value is None or not np.isfinite(value):
            return math.inf
        gap = bound - value if op in (">=", ">") else value - bound
        if op in (">", "<") and gap == 0:
            gap = 1e-12
        if gap > 0:
            total += gap / max(abs(bound), 1e-9)
    return total


class _Search:
    """Evaluate points, keep the table, pick the best (shared by weights and knobs)."""

    def __init__(
        self,
        evaluate: Evaluate,
        names: Sequence[str],
        objective: str,
        constraints: dict[str, Constraint],
        maximize: bool,
        total: int,
        progress: ProgressCallback | None,
        stop: Callable[[], bool] | None = None,
        time_budget: float | None = None,
        on_trial: Callable[[TuneResult], None] | None = None,
    ) -> None:
        self.evaluate = evaluate
        self.names = list(names)
        self.objective = objective
        self.constraints = constraints
        self.sign = 1.0 if maximize else -1.0
        self.total = max(total, 1)
        self.progress = progress
        self.rows: list[dict[str, Any]] = []
        self.stop = stop
        self.on_trial = on_trial
        self.start = time.perf_counter()
        self.deadline = None if time_budget is None else self.start + float(time_budget)
        self.stopped = ""

    def halted(self) -> bool:
        """True once the search must stop (asked to, or out of time); never before one trial."""
        if not self.rows:
            return False
        if not self.stopped and self.stop is not None and self.stop():
            self.stopped = "cancelled"
        if not self.stopped and self.deadline is not None and time.perf_counter() >= self.deadline:
            self.stopped = "budget"
        return bool(self.stopped)

    def run(self, point: dict[str, float], phase: str) -> dict[str, Any]:
        metrics = dict(self.evaluate(dict(point)))
        if self.objective not in metrics:
            raise ConfigError(
                f"the objective '{self.objective}' is not among the computed metrics."
            )
        viol = violation(metrics, self.constraints)
        obj = metrics[self.objective]
        score = self.sign * obj if obj is not None and np.isfinite(obj) else -math.inf
        row = {"trial": len(self.rows), "phase": phase, **point}
        clash = set(point) | {"trial", "phase", "violation", "feasible"}
        row.update(
            {
                (f"metric:{m}" if m in clash else m): (np.nan if v is None else v)
                for m, v in metrics.items()
            }
        )
        row.update({"violation": viol, "feasible": viol == 0.0, "_score": score})
        row["_point"] = dict(point)
        row["_metrics"] = metrics
        self.rows.append(row)
        if self.progress is not None:
            done = len(self.rows)
            self.progress(
                min(done / self.total, 1.0),
                Message(f"trial {done}/{self.total}", "progress.trial", n=done, total=self.total),
            )
        if self.on_trial is not None:
            self.on_trial(self.result(self.start))
        return row

    def ranked(self) -> list[dict[str, Any]]:
        """Rows best first: feasible by objective, then infeasible by violation, objective."""
        return sorted(
            self.rows, key=lambda r: (not r["feasible"], r["violation"], -r["_score"], r["trial"])
        )

    def result(self, start: float) -> TuneResult:
        best = self.ranked()[0]
        trials = pd.DataFrame(self.rows).drop(columns=["_score", "_point", "_metrics"])
        best_metrics = dict(best["_metrics"])
        feasible = bool(best["feasible"])
        if not self.constraints:
            msg = (
                f"best {self.objective} = {best[self.objective]:.4f} after {len(self.rows)} trials."
            )
        elif feasible:
            n_ok = int(trials["feasible"].sum())
            msg = (
                f"best {self.objective} = {best[self.objective]:.4f} among {n_ok} of "
                f"{len(self.rows)} trials that meet the constraints."
            )
        else:
            msg = (
                f"no trial meets the constraints ({len(self.rows)} tried): showing the one that "
                "comes closest. Loosen a constraint or add other models."
            )
        if self.stopped:
            msg += f" Stopped after {len(self.rows)} of {self.total} trials ({self.stopped})."
        return TuneResult(
            best_weights=dict(best["_point"]),
            best_metrics=best_metrics,
            trials=trials,
            seconds=time.perf_counter() - start,
            feasible=feasible,
            objective=self.objective,
            constraints=dict(self.constraints),
            message=msg,
            planned=self.total,
            stopped=self.stopped,
        )


# ---------------------------------------------------------------------------- weights
def tune_weights(
    evaluate: Evaluate,
    model_names: Sequence[str],
    objective: str = "ndcg@10",
    constraints: Mapping[str, Constraint] | None = None,
    n_samples: int = 200,
    n_refine: int = 50,
    seed: int = 0,
    progress: ProgressCallback | None = None,
    *,
    maximize: bool = True,
    n_elite: int = 3,
    stop: Callable[[], bool] | None = None,
    time_budget: float | None = None,
    on_trial: Callable[[TuneResult], None] | None = None,
) -> TuneResult:
    """Search fusion weights on the simplex (see the module docstring).

    Parameters
    ----------
    evaluate : weights -> metric values on the validation pool.
    model_names : models to weigh.
    objective : metric to maximise (``maximize=False`` to minimise, e.g. ``rmse``).
    constraints : metric -> (op, bound), op in ``>=, <=, >, <``.
    n_samples : Dirichlet(1) draws after the vertices and the centre.
    n_refine : local refinement trials.
    seed : seeds every draw.
    progress : ``progress(fraction, message)``.
    n_elite : refinement centres are drawn among this many best trials.
    stop : asked before each trial; True stops the search, keeping the best so far.
    time_budget : seconds; the search stops once they are spent (after at least one trial).
    on_trial : called after each trial with the result so far (trials done, best so far).

    Returns
    -------
    TuneResult; ``trials`` has one column per model weight; ``stopped`` says whether and why
    it ended before ``planned`` trials.
    """
    names = list(model_names)
    if not names:
        raise ConfigError("choose at least one model to weigh.")
    if len(set(names)) != len(names):
        raise ConfigError("model names must be unique.")
    cons = _check_constraints(constraints)
    start = time.perf_counter()
    rng = np.random.default_rng(seed)
    m = len(names)
    starts = [np.eye(m)[i] for i in range(m)]
    if m > 1:
        starts.append(np.full(m, 1.0 / m))
        starts.extend(rng.dirichlet(np.ones(m), size=max(n_samples, 0)))
    search = _Search(
        evaluate,
        names,
        objective,
        cons,
        maximize,
        len(starts) + (n_refine if m > 1 else 0),
        progress,
        stop,
        time_budget,
        on_trial,
    )
    for w in starts:
        if search.halted():
            break
        search.run(_as_weights(names, w), "start")
    if m > 1 and n_refine > 0:
        concentrations = np.geomspace(20.0, 2000.0, n_refine)
        for c in concentrations:
            if search.halted():
                break
            elite = search.ranked()[: max(n_elite, 1)]
            centre = np.array([elite[rng.integers(len(elite))][n] for n in names])
            w = rng.dirichlet(c * centre + 0.05)
            search.run(_as_weights(names, w), "refine")
    return search.result(start)


def _as_weights(names: Sequence[str], w: np.ndarray) -> dict[str, float]:
    w = np.clip(np.asarray(w, dtype=np.float64), 0.0, None)
    w = w / w.sum() if w.sum() > 0 else np.full(len(w), 1.0 / len(w))
    return {n: float(round(x, 6)) for n, x in zip(names, w, strict=True)}


# ---------------------------------------------------------------------------- knobs
def tune_knobs(
    evaluate: Evaluate,
    space: Mapping[str, tuple[float, float] | Sequence[Any]] | None = None,
    objective: str = "ndcg@10",
    constraints: Mapping[str, Constraint] | None = None,
    n_samples: int = 40,
    n_refine: int = 20,
    seed: int = 0,
    progress: ProgressCallback | None = None,
    *,
    method: str = "random",
    grid_points: int = 5,
    maximize: bool = True,
) -> TuneResult:
    """Search re-ranking knobs (``mmr_lambda``, ``novelty``, caps ...).

    Parameters
    ----------
    evaluate : knob values -> metric values on the validation pool.
    space : knob -> ``(low, high)`` (a float range; integers if both bounds are ints) or a list
        of allowed values. Default ``{"mmr_lambda": (0.5, 1.0), "novelty": (0.0, 0.5)}``.
    method : ``random`` (uniform draws + refinement around the best with a shrinking Gaussian
        step, from 25 % to 2 % of each range) or ``grid`` (``grid_points`` per range knob).

    Returns
    -------
    TuneResult whose ``best_weights`` (alias ``best_params``) holds the knob values.
    """
    space = dict(space or {"mmr_lambda": (0.5, 1.0), "novelty": (0.0, 0.5)})
    if not space:
        raise ConfigError("give at least one knob to tune.")
    if method not in ("random", "grid"):
        raise ConfigError("method must be 'random' or 'grid'.")
    cons = _check_constraints(constraints)
    start = time.perf_counter()
    rng = np.random.default_rng(seed)
    names = list(space)
    kinds = {n: _knob_kind(n, space[n]) for n in names}

    if method == "grid":
        axes = []
        for n in names:
            if kinds[n] == "choice":
                axes.append(list(space[n]))
            else:
                lo, hi = space[n]
                vals = np.linspace(lo, hi, grid_points)
                axes.append(
                    sorted({int(round(v)) for v in vals}) if kinds[n] == "int" else list(vals)
                )
        points = [dict(zip(names, combo, strict=True)) for combo in itertools.product(*axes)]
        search = _Search(evaluate, names, objective, cons, maximize, len(points), progress)
        for p in points:
            search.run(_clean_knobs(p, kinds), "grid")
        return search.result(start)

    search = _Search(evaluate, names, objective, cons, maximize, n_samples + n_refine, progress)
    for _ in range(max(n_samples, 1)):
        p = {n: _draw_knob(rng, space[n], kinds[n]) for n in names}
        search.run(_clean_knobs(p, kinds), "start")
    for scale in np.geomspace(0.25, 0.02, max(n_refine, 1))[:n_refine]:
        elite = search.ranked()[:3]
        centre = elite[rng.integers(len(elite))]
        p = {}
        for n in names:
            if kinds[n] == "choice":
                p[n] = centre[n] if rng.random() < 0.7 else _draw_knob(rng, space[n], "choice")
            else:
                lo, hi = space[n]
                p[n] = float(np.clip(centre[n] + rng.normal(0.0, scale * (hi - lo)), lo, hi))
        search.run(_clean_knobs(p, kinds), "refine")
    return search.result(start)


def _knob_kind(name: str, spec: Any) -> str:
    if isinstance(spec, tuple) and len(spec) == 2 and all(isinstance(v, int | float) for v in spec):
        lo, hi = spec
        if lo > hi:
            raise ConfigError(f"knob '{name}': low bound above high bound.")
        return (
            "int" if all(isinstance(v, int) and not isinstance(v, bool) for v in spec) else "float"
        )
    if isinstance(spec, list | tuple) and len(spec) > 0:
        return "choice"
    raise ConfigError(f"knob '{name}' needs a (low, high) range or a list of values.")


def _draw_knob(rng: np.random.Generator, spec: Any, kind: str) -> Any:
    if kind == "choice":
        return list(spec)[int(rng.integers(len(spec)))]
    lo, hi = spec
    return float(rng.uniform(lo, hi))


def _clean_knobs(point: dict[str, Any], kinds: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for n, v in point.items():
        if kinds[n] == "int":
            out[n] = int(round(v))
        elif kinds[n] == "float":
            out[n] = float(round(v, 6))
        else:
            out[n] = v
    return out


# ---------------------------------------------------------------------------- pareto
def pareto_front(
    trials: pd.DataFrame,
    x: str = "coverage",
    y: str = "ndcg@10",
    *,
    maximize_x: bool = True,
    maximize_y: bool = True,
    feasible_only: bool = False,
) -> np.ndarray:
    """(n,) bool mask of the trials no other trial dominates on (x, y).

    A trial dominates another when it is at least as good on both axes and better on one.
    Rows with a NaN on either axis (and infeasible rows when ``feasible_only``) are never on
    the front. Sort-based, O(n log n).
    """
    xs = trials[x].to_numpy(dtype=np.float64) * (1 if maximize_x else -1)
    ys = trials[y].to_numpy(dtype=np.float64) * (1 if maximize_y else -1)
    ok = np.isfinite(xs) & np.isfinite(ys)
    if feasible_only and "feasible" in trials.columns:
        ok &= trials["feasible"].to_numpy(dtype=bool)
    mask = np.zeros(len(trials), dtype=bool)
    idx = np.flatnonzero(ok)
    if len(idx) == 0:
        return mask
    order = idx[np.lexsort((-ys[idx], -xs[idx]))]  # x descending, then y descending
    best_y = -np.inf
    prev_x = None
    prev_front_y = None
    for i in order:
        if ys[i] > best_y:
            mask[i] = True
            best_y = ys[i]
            prev_x, prev_front_y = xs[i], ys[i]
        elif ys[i] == prev_front_y and xs[i] == prev_x:
            mask[i] = True  # exact duplicate of a front point: also non-dominated
    return mask
