"""Fusion lab: widget state (sliders on their grid, pending values) and memoised evaluations."""

from __future__ import annotations

import json
import logging
import threading
import weakref

import streamlit as st

from recsys.errors import RecsysError
from ui.lab_settings import exact_weight, slider_weight
from ui.rules import rules_to_rows
from ui.state import current_configs, fast_mode

EVAL_CACHE_SIZE = 64

log = logging.getLogger(__name__)
_WARMED: weakref.WeakSet = weakref.WeakSet()
_WARM_LOCK = threading.Lock()


def warm_up(run, *, background: bool = True) -> None:
    """Once per run and server: ``Run.prepare_lab`` in a background thread, so the first switch
    to a method (a learned one trains) does not wait for what no setting changes. Skipped in
    fast mode (tests, the small demo store), where it would only compete with the test."""
    if fast_mode() and background:
        return
    with _WARM_LOCK:
        if run in _WARMED:
            return
        _WARMED.add(run)

    def work() -> None:
        try:
            run.prepare_lab()
        except (RecsysError, MemoryError) as err:  # the lab computes it on demand instead
            log.info("lab warm-up skipped: %s", err)

    if background:
        threading.Thread(target=work, name="lab-warm-up", daemon=True).start()
    else:
        work()


__all__ = ["exact_weight", "slider_weight"]  # their home is ui.lab_settings


def _defaults_from(run, fusion, rerank) -> dict:
    """Widget values for a (fusion, rerank) pair."""
    values = {f"lab_w_{m}": slider_weight(fusion.weights.get(m, 1.0)) for m in run.model_names}
    values.update(
        lab_method=fusion.method,
        lab_norm=fusion.normalization,
        lab_mmr=float(rerank.mmr_lambda),
        lab_cat_cap=int(rerank.category_cap or 0),
        lab_brand_cap=int(rerank.brand_cap or 0),
        lab_novelty=float(rerank.novelty),
        lab_exclude=rerank.exclude,
    )
    return values


def apply_state(run) -> None:
    """Fill widget keys before the widgets render: pending values (auto-tune / preset load) win,
    then this session's current config (keys are dropped by Streamlit when the page is left)."""
    ss = st.session_state
    fusion, rerank = current_configs(run)
    pending = ss.pop("lab_pending", None)
    if pending is not None:
        fusion, rerank = pending.get("fusion", fusion), pending.get("rerank", rerank)
        for key, value in _defaults_from(run, fusion, rerank).items():
            ss[key] = value
        if "weights" in pending:
            for m, w in pending["weights"].items():
                ss[f"lab_w_{m}"] = slider_weight(w)
        if "rules" in pending:
            ss["lab_rules_base"] = rules_to_rows(pending["rules"])
            ss["lab_rules_current"] = ss["lab_rules_base"]  # what a closed rules table applies
            ss["lab_rules_ver"] = ss.get("lab_rules_ver", 0) + 1
    else:
        for key, value in _defaults_from(run, fusion, rerank).items():
            ss.setdefault(key, value)
    if "lab_rules_base" not in ss:
        ss["lab_rules_base"] = rules_to_rows(rerank.rules)
        ss["lab_rules_current"] = ss["lab_rules_base"]
        ss.setdefault("lab_rules_ver", 0)
    elif (
        (pending is None or "rules" not in pending)
        and f"lab_rules_ed_{ss.get('lab_rules_ver', 0)}" not in ss
        and "lab_rules_current" in ss
    ):
        # the editor's own state is dropped when the page is left: start from the last edit
        ss["lab_rules_base"] = ss["lab_rules_current"]


def eval_cached(run, fusion, rerank, stage: str = "test"):
    """Evaluation of a config, memoised in this session (the baseline is asked for every change).

    The lab scores the stage's fixed stratified sample of held-out users (all of them on small
    stores) unless the user asked for every user (``lab_all_users``).
    """
    sample = not st.session_state.get("lab_all_users", False)
    key = json.dumps(
        {"f": fusion.to_dict(), "r": rerank.to_dict(), "s": stage, "sample": sample},
        sort_keys=True,
        default=str,
    )
    cache = st.session_state.setdefault("lab_eval_cache", {})
    if key not in cache:
        if len(cache) > EVAL_CACHE_SIZE:
            cache.clear()
        cache[key] = run.evaluate(fusion, rerank, stage=stage, sample=sample)
    return cache[key]
