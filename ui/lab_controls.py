"""Fusion lab: the controls (method, normalisation, weights, re-ranking knobs, rules)."""

from __future__ import annotations

import streamlit as st

from recsys.errors import RecsysError
from recsys.ranking.fusion import FUSERS, FusionConfig
from recsys.ranking.normalise import NORMALIZERS
from recsys.ranking.rerank import EXCLUDE_MODES, RerankConfig
from ui.errors import show_error
from ui.i18n import t
from ui.lab_settings import commit_widgets, exact_weight
from ui.labels import fusion_text, model_label, strategy_caption
from ui.rules import rules_editor, rules_from_rows
from ui.state import weights_tuned


def _method_and_weights(run) -> tuple[str, str, dict[str, float]]:
    st.markdown(f"**{t('lab.method')}**")
    method = st.selectbox(
        t("lab.method"),
        list(FUSERS),
        format_func=fusion_text,
        key="lab_method",
        label_visibility="collapsed",
        on_change=commit_widgets,
        args=(run,),
    )
    fm = FUSERS[method]
    st.caption(fusion_text(method, "description"))
    norm = st.selectbox(
        t("lab.normalization"),
        list(NORMALIZERS),
        format_func=lambda n: t(f"lab.norm.{n}"),
        key="lab_norm",
        disabled=not fm.uses_normalization,
        on_change=commit_widgets,
        args=(run,),
    )
    st.markdown(f"**{t('lab.weights')}**")
    if not fm.uses_weights:
        st.caption(t("lab.no_weights"))
    weights = {}
    for m in run.model_names:
        shown = st.slider(
            model_label(m),
            0.0,
            1.0,
            step=0.01,
            format="%.2f",
            key=f"lab_w_{m}",
            disabled=not fm.uses_weights,
            on_change=commit_widgets,
            args=(run,),
        )
        weights[m] = exact_weight(run, m, shown)
    if fm.uses_weights and weights_tuned(run):
        st.caption(t("lab.weights_tuned"))
    chosen = strategy_caption(run)
    if chosen:
        st.caption(chosen)
    return method, norm, weights


def _rerank_knobs(run) -> dict:
    commit = {"on_change": commit_widgets, "args": (run,)}  # see ui.lab_settings
    with st.expander(t("lab.rerank"), expanded=False):
        mmr = st.slider(
            t("lab.mmr"), 0.0, 1.0, step=0.05, key="lab_mmr", help=t("lab.mmr_help"), **commit
        )
        c1, c2 = st.columns(2)
        cat_cap = c1.number_input(
            t("lab.cat_cap"), 0, 50, step=1, key="lab_cat_cap", help=t("lab.cap_help"), **commit
        )
        brand_cap = c2.number_input(
            t("lab.brand_cap"), 0, 50, step=1, key="lab_brand_cap", help=t("lab.cap_help"), **commit
        )
        novelty = st.slider(
            t("lab.novelty"),
            0.0,
            1.0,
            step=0.05,
            key="lab_novelty",
            help=t("lab.novelty_help"),
            **commit,
        )
        exclude = st.selectbox(
            t("lab.exclude"),
            list(EXCLUDE_MODES),
            format_func=lambda e: t(f"lab.exclude.{e}"),
            key="lab_exclude",
            **commit,
        )
    return {
        "mmr_lambda": float(mmr),
        "category_cap": int(cat_cap) or None,
        "brand_cap": int(brand_cap) or None,
        "novelty": float(novelty),
        "exclude": exclude,
    }


def controls(run, catalog_columns: list[str], rules_slot):
    """All the lab's knobs; returns ``(FusionConfig, RerankConfig, rules box)``, the configs
    ``None`` when a setting is invalid.

    The rules table is drawn in ``rules_slot`` (it needs the wide column); the rules box is
    the open rules expander (the page draws the rules' impact in it), else ``None``.
    """
    ss = st.session_state
    method, norm, weights = _method_and_weights(run)
    knobs = _rerank_knobs(run)
    # lazy: the rules table (a heavy element to redraw) is built only while it is open; closed,
    # the rules are the last edit (ui.lab_state restarts the editor from it when it reopens)
    box = rules_slot.expander(
        t("lab.rules"), expanded=False, key="lab_rules_open", on_change="rerun"
    )
    if box.open:
        with box:
            st.caption(t("lab.rules_help"))
            edited = rules_editor(
                ss["lab_rules_base"], f"lab_rules_ed_{ss.get('lab_rules_ver', 0)}", catalog_columns
            )
    else:
        edited = ss.get("lab_rules_current", ss["lab_rules_base"])
    ss["lab_rules_current"] = edited
    rules, errors = rules_from_rows(edited)
    for err in errors:
        (box if box.open else rules_slot).warning(t("lab.rule_invalid", err=err))
    try:
        fusion = FusionConfig(method, norm, weights, run.preset.fusion.params)
        rerank = RerankConfig.from_dict(
            {**run.preset.rerank.to_dict(), **knobs, "rules": [r.to_dict() for r in rules]}
        )
    except RecsysError as err:
        show_error(err)
        return None, None, None
    return fusion, rerank, (box if box.open else None)
