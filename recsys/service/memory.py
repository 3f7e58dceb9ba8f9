"""Memory a training run will need, estimated from the data's shape before anything starts.

``training_memory`` adds up what ``train_run`` holds at its peak: the fitted models of every
stage (``Recommender.memory_need``, measured priors), the largest single fit's working memory,
the candidate pools of the held-out stages and the scoring buffers. ``check_memory`` compares
the total with the memory the machine has available and, when it would not fit, refuses with
a plain message that names the knobs to turn, instead of letting the kernel kill the process.
The loaded dataset itself is not counted: it is already in memory when the check runs.
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
