"""Presets on the active run: fitted to its dataset, flagged in pickers, and named in exports.

A saved preset is adapted to the run before use (``recsys.service.preset_fit``): rules that
cannot apply are turned off with a warning that names them. The session remembers which
preset its lab settings started from (``ui.session.SOURCE_KEY``, kept in the URL), so exports
say which preset is in use and whether it was modified.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import streamlit as st

from recsys.errors import RecsysError
from recsys.ranking.fusion import FusionConfig
from recsys.ranking.rerank import RerankConfig
from recsys.service.entries import short_id, slugify
from recsys.service.preset import Preset
from recsys.service.preset_fit import (
    PresetFit,
    check_fit_to_run,
    fit_preset_to_run,
    fit_to_dataset,
)
from ui.i18n import t
from ui.lab_state import slider_weight
from ui.rules import rules_from_rows, rules_to_rows
from ui.session import SOURCE_KEY


def fit_to_run(preset: Preset, run) -> tuple[Preset, PresetFit]:
    """The preset adapted to the run's models and its dataset's catalog."""
    return fit_preset_to_run(preset, run)


def fit_problem(record: dict[str, Any], run) -> str | None:
    """Why a stored preset does not fully fit the run (for its picker label), or None."""
    needs = record.get("needs")
    if not isinstance(needs, dict):
        try:
            needs = Preset.from_dict(
                {k: v for k, v in record.items() if k in Preset.__dataclass_fields__}
            ).needs()
        except Exception:  # noqa: BLE001 - an unreadable record is flagged, never raised
            return t("preset.unreadable")
    fit = check_fit_to_run(needs, run)
    if fit.fits:
        return None
    bits = [
        t(key, names=", ".join(values))
        for key, values in (
            ("preset.lacks_columns", fit.missing_columns),
            ("preset.lacks_items", fit.missing_items),
            ("preset.lacks_models", fit.missing_models),
        )
        if values
    ]
    return "; ".join(bits)


def warn_dropped(dropped: tuple[str, ...]) -> None:
    """A warning naming the rules that were turned off (nothing when none were)."""
    if dropped:
        st.warning(t("preset.rules_off", rules="; ".join(dropped)), icon=":material/warning:")


def set_source(preset: Preset) -> None:
    """Remember that this session's lab settings start from ``preset`` (as adapted)."""
    st.session_state[SOURCE_KEY] = {
        "id": preset.id,
        "name": preset.name,
        "f": preset.fusion.to_dict(),
        "r": preset.rerank.to_dict(),
    }


@dataclass(frozen=True)
class PresetInUse:
    """The preset behind this session's settings, and whether the settings differ from it."""

    id: str
    name: str
    modified: bool

    def file_name(self) -> str:
        """``preset_<name>_<short id>[_modified].json``."""
        tail = "_modified" if self.modified else ""
        return f"preset_{slugify(self.name, default='preset')}_{short_id(self.id)}{tail}.json"


def in_use(run, fusion: FusionConfig, rerank: RerankConfig) -> PresetInUse:
    """Which preset the session's (fusion, rerank) came from: a loaded one, else the run's own."""
    source = st.session_state.get(SOURCE_KEY)
    if not isinstance(source, dict) or not source.get("id"):
        fitted, _ = fit_to_dataset(run.preset.rerank, run.dataset)
        source = {
            "id": run.preset.id,
            "name": run.preset.name,
            "f": run.preset.fusion.to_dict(),
            "r": fitted.to_dict(),
        }
    try:
        start = _signature(source["f"], source["r"], run.model_names)
    except (KeyError, TypeError, RecsysError):  # a source from an older URL: compare nothing
        start = None
    modified = start != _signature(fusion.to_dict(), rerank.to_dict(), run.model_names)
    return PresetInUse(str(source["id"]), str(source.get("name") or source["id"]), modified)


#: The re-ranking settings the lab edits (the rest stay the run's).
_LAB_RERANK = ("mmr_lambda", "category_cap", "brand_cap", "novelty", "exclude")


def _signature(fusion: dict, rerank: dict, models) -> str:
    """What the lab shows of a (fusion, rerank) pair: each model's weight on the slider grid
    (1.0 when unset), rules as the rules table gives them back; equal signatures mean the user
    changed nothing."""
    f = FusionConfig.from_dict(fusion)
    r = RerankConfig.from_dict(rerank)
    rules, _ = rules_from_rows(rules_to_rows(r.rules))
    doc = {
        "method": f.method,
        "norm": f.normalization,
        "weights": {m: slider_weight(f.weights.get(m, 1.0)) for m in sorted(models)},
        "rerank": {k: getattr(r, k) for k in _LAB_RERANK},
        "rules": [x.to_dict() for x in rules],
    }
    return json.dumps(doc, sort_keys=True, default=str)
