"""The Fusion lab's settings: one versioned state per session.

What the lab's sliders show, what its metrics are computed for, and what every other page
(User explorer, Insights, Compare, Export) uses all come from here: ``cur_fusion`` and
``cur_rerank`` (their dicts) and ``cur_version``, which grows by one on every change.

A widget change is committed by the widget's ``on_change`` callback (``commit_widgets``):
Streamlit runs callbacks at the start of the script run the change triggers, before the page
code, so a run that is then interrupted (a newer change, a page switch, a fast rerun) cannot
lose it. The lab's own run commits what its controls built (``commit``), rules included. A page
that caches something computed from the settings keys it by the version, so nothing computed
for an older version is shown or exported: the lab's results are computed through
``computed`` (which stamps them with the version they were computed for) and shown only
through ``fresh``, which discards a result of an older version.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

import streamlit as st

from recsys.errors import RecsysError
from recsys.ranking.fusion import FusionConfig
from recsys.ranking.rerank import RerankConfig

log = logging.getLogger(__name__)

FUSION, RERANK, VERSION = "cur_fusion", "cur_rerank", "cur_version"
#: Never reset (not a ``cur_`` key): versions only grow within a session.
_COUNTER = "_lab_version_counter"

T = TypeVar("T")


@dataclass(frozen=True)
class Stamped(Generic[T]):
    """A result and the settings version it was computed for."""

    version: int
    value: T


def slider_weight(weight: float) -> float:
    """A fusion weight as the slider shows it: clipped to [0, 1], on the slider's 0.01 grid."""
    return float(round(min(max(float(weight), 0.0), 1.0), 2))


def exact_weight(run, model: str, shown: float) -> float:
    """The slider value, or the run's exact (tuned) weight when the slider shows it rounded.

    Tuned weights such as 0.2634 are shown as 0.26; while a slider is not moved, the lab
    evaluates the exact weight, so the start equals the trained-preset baseline.
    """
    exact = run.preset.fusion.weights.get(model)
    if exact is not None and slider_weight(exact) == float(shown):
        return float(exact)
    return float(shown)


def version() -> int:
    """The version of this session's settings (0 until the first change)."""
    return int(st.session_state.get(VERSION, 0))


def computed(compute: Callable[[], T]) -> Stamped[T]:
    """``compute()``, stamped with the settings version current when it started."""
    started = version()
    return Stamped(started, compute())


def fresh(result: Stamped[T]) -> T | None:
    """The result's value when it was computed for the current version; None (discard it,
    never show it) when the settings changed since."""
    if result.version != version():
        log.info("lab result of version %d discarded (now %d)", result.version, version())
        return None
    return result.value


def current(run) -> tuple[FusionConfig, RerankConfig]:
    """This session's (fusion, rerank) settings; the run's preset until the lab changes them."""
    f = st.session_state.get(FUSION)
    r = st.session_state.get(RERANK)
    if f is None or r is None:
        return run.preset.fusion, run.preset.rerank
    try:
        return FusionConfig.from_dict(f), RerankConfig.from_dict(r)
    except RecsysError as err:  # a stale setting falls back to the preset
        log.info("stale lab settings dropped: %s", err)
        return run.preset.fusion, run.preset.rerank


def commit(fusion: FusionConfig, rerank: RerankConfig) -> int:
    """Make (fusion, rerank) the settings; a change gets a new version. Returns the version."""
    ss = st.session_state
    f, r = fusion.to_dict(), rerank.to_dict()
    if ss.get(FUSION) == f and ss.get(RERANK) == r:
        return version()
    counter = int(ss.get(_COUNTER, 0)) + 1
    ss[_COUNTER] = counter
    ss[FUSION], ss[RERANK], ss[VERSION] = f, r, counter
    return counter


def commit_widgets(run) -> None:
    """``on_change`` of the lab's widgets: their values (already in session state) become the
    settings; rules keep their committed value (the rules table is committed by the lab)."""
    ss = st.session_state
    fusion, rerank = current(run)
    weights = {
        m: exact_weight(run, m, ss[f"lab_w_{m}"]) if f"lab_w_{m}" in ss else w
        for m, w in {m: fusion.weights.get(m, 1.0) for m in run.model_names}.items()
    }
    knobs = {
        "mmr_lambda": float(ss.get("lab_mmr", rerank.mmr_lambda)),
        "category_cap": int(ss.get("lab_cat_cap", rerank.category_cap or 0)) or None,
        "brand_cap": int(ss.get("lab_brand_cap", rerank.brand_cap or 0)) or None,
        "novelty": float(ss.get("lab_novelty", rerank.novelty)),
        "exclude": ss.get("lab_exclude", rerank.exclude),
    }
    try:
        new_fusion = FusionConfig(
            ss.get("lab_method", fusion.method),
            ss.get("lab_norm", fusion.normalization),
            weights,
            fusion.params,
        )
        new_rerank = RerankConfig.from_dict({**rerank.to_dict(), **knobs})
    except RecsysError as err:  # the lab's run shows the reason
        log.info("lab setting not committed: %s", err)
        return
    commit(new_fusion, new_rerank)
