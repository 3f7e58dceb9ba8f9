"""Does a preset fit a dataset and a run? Which of its parts apply, and which are turned off.

Presets are shared across the workspace's datasets. A preset saved on one store may name
catalog columns (``brand == Anker``), pinned items or models that another dataset or run does
not have. :func:`check_fit` says what is missing from the preset's recorded needs (for a
picker, without building anything); :func:`fit_preset` adapts the preset to the run: weights
of absent models are dropped (``Preset.restricted_to``) and rules that cannot apply are turned
off and named, so the pages keep working and the user is told what changed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from recsys.data.dataset import Dataset
from recsys.ranking.rerank import RerankConfig, Rule
from recsys.service.preset import Preset

if TYPE_CHECKING:
    from recsys.service.run_base import RunBase


@dataclass(frozen=True)
class PresetFit:
    """What of a preset's needs a dataset and run lack, and the rules turned off for it."""

    missing_columns: tuple[str, ...] = ()
    missing_items: tuple[str, ...] = ()
    missing_models: tuple[str, ...] = ()
    dropped_rules: tuple[str, ...] = ()  # labels of the rules turned off

    @property
    def fits(self) -> bool:
        """True when every column, pinned item and model the preset needs is there."""
        return not (self.missing_columns or self.missing_items or self.missing_models)


def check_fit(
    needs: Mapping[str, Any],
    *,
    columns: Iterable[str],
    models: Iterable[str],
    has_item: Callable[[str], bool],
) -> PresetFit:
    """What the recorded ``needs`` (``Preset.needs()``) lack on a dataset and a run."""
    have_columns, have_models = {str(c) for c in columns}, {str(m) for m in models}
    return PresetFit(
        missing_columns=tuple(c for c in needs.get("columns", []) if c not in have_columns),
        missing_items=tuple(i for i in needs.get("items", []) if not has_item(str(i))),
        missing_models=tuple(m for m in needs.get("models", []) if m not in have_models),
    )


def applicable_rules(
    rules: Iterable[Rule], *, columns: Iterable[str], has_item: Callable[[str], bool]
) -> tuple[list[Rule], list[Rule]]:
    """``(kept, dropped)``: a rule applies when its column exists, or a pin's item does."""
    have = {str(c) for c in columns}
    kept: list[Rule] = []
    dropped: list[Rule] = []
    for rule in rules:
        ok = has_item(str(rule.item_id)) if rule.kind == "pin" else str(rule.column) in have
        (kept if ok else dropped).append(rule)
    return kept, dropped


def fit_rerank(
    rerank: RerankConfig, *, columns: Iterable[str], has_item: Callable[[str], bool]
) -> tuple[RerankConfig, tuple[str, ...]]:
    """The re-ranking config without the rules that cannot apply, and their labels."""
    kept, dropped = applicable_rules(rerank.rules, columns=columns, has_item=has_item)
    if not dropped:
        return rerank, ()
    data = rerank.to_dict()
    data["rules"] = [r.to_dict() for r in kept]
    return RerankConfig.from_dict(data), tuple(r.label for r in dropped)


def fit_preset(
    preset: Preset,
    *,
    models: Mapping[str, dict[str, Any]],
    columns: Iterable[str],
    has_item: Callable[[str], bool],
) -> tuple[Preset, PresetFit]:
    """The preset as it can run on a run with ``models`` over a catalog with ``columns``.

    Returns the adapted preset (same id and name) and what was missing or turned off.
    """
    columns = [str(c) for c in columns]
    fit = check_fit(preset.needs(), columns=columns, models=models, has_item=has_item)
    adapted = preset.restricted_to(models)
    rerank, dropped = fit_rerank(adapted.rerank, columns=columns, has_item=has_item)
    if dropped:
        adapted = adapted.with_rerank(rerank)
    return adapted, PresetFit(
        fit.missing_columns, fit.missing_items, fit.missing_models, dropped_rules=dropped
    )


def catalog_columns(dataset: Dataset) -> list[str]:
    """The catalog columns rules may read on ``dataset``."""
    catalog = dataset.catalog
    return [] if catalog is None else [str(c) for c in catalog.columns]


def fit_to_dataset(rerank: RerankConfig, dataset: Dataset) -> tuple[RerankConfig, tuple[str, ...]]:
    """:func:`fit_rerank` against ``dataset``'s catalog columns and items."""
    return fit_rerank(rerank, columns=catalog_columns(dataset), has_item=dataset.item_ids.contains)


def fit_preset_to_run(preset: Preset, run: RunBase) -> tuple[Preset, PresetFit]:
    """:func:`fit_preset` against a run's models and its dataset."""
    ds = run.dataset
    return fit_preset(
        preset,
        models=run.preset.models,
        columns=catalog_columns(ds),
        has_item=ds.item_ids.contains,
    )


def check_fit_to_run(needs: Mapping[str, Any], run: RunBase) -> PresetFit:
    """:func:`check_fit` against a run's models and its dataset."""
    ds = run.dataset
    return check_fit(
        needs,
        columns=catalog_columns(ds),
        models=run.preset.models,
        has_item=ds.item_ids.contains,
    )


__all__ = [
    "PresetFit",
    "applicable_rules",
    "catalog_columns",
    "check_fit",
    "check_fit_to_run",
    "fit_preset",
    "fit_preset_to_run",
    "fit_rerank",
    "fit_to_dataset",
]
