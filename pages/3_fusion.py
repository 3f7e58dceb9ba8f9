"""Fusion lab: weights, method, normalisation, re-ranking knobs and rules with live held-out
metrics; auto-tune with a Pareto chart; presets. The interactive part is one ``st.fragment``,
so a change re-runs only the lab, not the whole page."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from pages import _ui
from pages._i18n import t

ACCURACY = ["ndcg@{k}", "precision@{k}", "recall@{k}", "map@{k}", "hit_rate@{k}"]
BEYOND = ["coverage", "diversity", "personalization", "novelty", "serendipity"]
HEADLINE = ["ndcg@{k}", "recall@{k}", "coverage", "diversity"]
CHART_ACCURACY = ["ndcg@{k}", "precision@{k}", "recall@{k}", "hit_rate@{k}"]
CHART_BEYOND = ["coverage", "diversity", "personalization", "novelty"]


# ---------------------------------------------------------------------------- state
def _slider_weight(weight: float) -> float:
    """A fusion weight as the slider shows it: clipped to [0, 1], on the slider's 0.01 grid."""
    return float(round(min(max(float(weight), 0.0), 1.0), 2))


def _exact_weight(run, model: str, shown: float) -> float:
    """The slider value, or the run's exact (tuned) weight when the slider shows it rounded.

    Tuned weights such as 0.2634 are shown as 0.26; while a slider is not moved, the lab
    evaluates the exact weight, so the start equals the trained-preset baseline.
    """
    exact = run.preset.fusion.weights.get(model)
    if exact is not None and _slider_weight(exact) == float(shown):
        return float(exact)
    return float(shown)


def _defaults_from(run, fusion, rerank) -> dict:
    """Widget values for a (fusion, rerank) pair."""
    values = {f"lab_w_{m}": _slider_weight(fusion.weights.get(m, 1.0)) for m in run.model_names}
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


def _apply_state(run) -> None:
    """Fill widget keys before the widgets render: pending values (auto-tune / preset load) win,
    then this session's current config (keys are dropped by Streamlit when the page is left)."""
    ss = st.session_state
    fusion, rerank = _ui.current_configs(run)
    pending = ss.pop("lab_pending", None)
    if pending is not None:
        fusion, rerank = pending.get("fusion", fusion), pending.get("rerank", rerank)
        for key, value in _defaults_from(run, fusion, rerank).items():
            ss[key] = value
        if "weights" in pending:
            for m, w in pending["weights"].items():
                ss[f"lab_w_{m}"] = _slider_weight(w)
        if "rules" in pending:
            ss["lab_rules_base"] = _ui.rules_to_rows(pending["rules"])
            ss["lab_rules_ver"] = ss.get("lab_rules_ver", 0) + 1
    else:
        for key, value in _defaults_from(run, fusion, rerank).items():
            ss.setdefault(key, value)
    if "lab_rules_base" not in ss:
        ss["lab_rules_base"] = _ui.rules_to_rows(rerank.rules)
        ss.setdefault("lab_rules_ver", 0)
    elif (
        (pending is None or "rules" not in pending)
        and f"lab_rules_ed_{ss.get('lab_rules_ver', 0)}" not in ss
        and "lab_rules_current" in ss
    ):
        # the editor's own state is dropped when the page is left: start from the last edit
        ss["lab_rules_base"] = ss["lab_rules_current"]


def _eval_cached(run, fusion, rerank, stage: str = "test"):
    """Evaluation of a config, memoised in this session (the baseline is asked for every change)."""
    key = json.dumps(
        {"f": fusion.to_dict(), "r": rerank.to_dict(), "s": stage}, sort_keys=True, default=str
    )
    cache = st.session_state.setdefault("lab_eval_cache", {})
    if key not in cache:
        if len(cache) > 64:
            cache.clear()
        cache[key] = run.evaluate(fusion, rerank, stage=stage)
    return cache[key]


# ---------------------------------------------------------------------------- controls
def _controls(run, catalog_columns: list[str], rules_slot):
    from recsys.ranking.fusion import FUSERS, FusionConfig
    from recsys.ranking.normalise import NORMALIZERS
    from recsys.ranking.rerank import EXCLUDE_MODES, OPS, RULE_KINDS, RULE_SEGMENTS, RerankConfig

    ss = st.session_state
    st.markdown(f"**{t('lab.method')}**")
    methods = list(FUSERS)
    method = st.selectbox(
        t("lab.method"),
        methods,
        format_func=_ui.fusion_text,
        key="lab_method",
        label_visibility="collapsed",
    )
    fm = FUSERS[method]
    st.caption(_ui.fusion_text(method, "description"))
    norm = st.selectbox(
        t("lab.normalization"),
        list(NORMALIZERS),
        format_func=lambda n: t(f"lab.norm.{n}"),
        key="lab_norm",
        disabled=not fm.uses_normalization,
    )
    st.markdown(f"**{t('lab.weights')}**")
    if not fm.uses_weights:
        st.caption(t("lab.no_weights"))
    weights = {}
    for m in run.model_names:
        shown = st.slider(
            _ui.model_label(m),
            0.0,
            1.0,
            step=0.01,
            format="%.2f",
            key=f"lab_w_{m}",
            disabled=not fm.uses_weights,
        )
        weights[m] = _exact_weight(run, m, shown)
    if fm.uses_weights and _ui.weights_tuned(run):
        st.caption(t("lab.weights_tuned"))
    with st.expander(t("lab.rerank"), expanded=False):
        mmr = st.slider(t("lab.mmr"), 0.0, 1.0, step=0.05, key="lab_mmr", help=t("lab.mmr_help"))
        c1, c2 = st.columns(2)
        cat_cap = c1.number_input(
            t("lab.cat_cap"), 0, 50, step=1, key="lab_cat_cap", help=t("lab.cap_help")
        )
        brand_cap = c2.number_input(
            t("lab.brand_cap"), 0, 50, step=1, key="lab_brand_cap", help=t("lab.cap_help")
        )
        novelty = st.slider(
            t("lab.novelty"), 0.0, 1.0, step=0.05, key="lab_novelty", help=t("lab.novelty_help")
        )
        exclude = st.selectbox(
            t("lab.exclude"),
            list(EXCLUDE_MODES),
            format_func=lambda e: t(f"lab.exclude.{e}"),
            key="lab_exclude",
        )
    with rules_slot, st.expander(t("lab.rules"), expanded=False):
        st.caption(t("lab.rules_help"))
        edited = st.data_editor(
            ss["lab_rules_base"],
            key=f"lab_rules_ed_{ss.get('lab_rules_ver', 0)}",
            num_rows="dynamic",
            hide_index=True,
            column_config={
                "kind": st.column_config.SelectboxColumn(
                    t("lab.rule.kind"),
                    options=list(RULE_KINDS),
                    required=True,
                    format_func=lambda k: t(f"lab.kind.{k}"),
                ),
                "column": st.column_config.SelectboxColumn(
                    t("lab.rule.column"), options=catalog_columns
                ),
                "op": st.column_config.SelectboxColumn(t("lab.rule.op"), options=list(OPS)),
                "value": st.column_config.TextColumn(
                    t("lab.rule.value"), help=t("lab.rule.value_help")
                ),
                "factor": st.column_config.NumberColumn(
                    t("lab.rule.factor"), min_value=0.0, max_value=100.0, step=0.1
                ),
                "item_id": st.column_config.TextColumn(t("lab.rule.item_id")),
                "position": st.column_config.NumberColumn(
                    t("lab.rule.position"), min_value=1, max_value=100, step=1
                ),
                "segment": st.column_config.SelectboxColumn(
                    t("lab.rule.segment"),
                    options=list(RULE_SEGMENTS),
                    format_func=lambda g: t("lab.seg_all") if g == "all" else t(f"seg_short.{g}"),
                ),
            },
        )
        ss["lab_rules_current"] = edited
        rules, errors = _ui.rules_from_rows(edited)
        for err in errors:
            st.warning(t("lab.rule_invalid", err=err))
    try:
        fusion = FusionConfig(method, norm, weights, run.preset.fusion.params)
        rerank = RerankConfig.from_dict(
            {
                **run.preset.rerank.to_dict(),
                "mmr_lambda": float(mmr),
                "category_cap": int(cat_cap) or None,
                "brand_cap": int(brand_cap) or None,
                "novelty": float(novelty),
                "exclude": exclude,
                "rules": [r.to_dict() for r in rules],
            }
        )
    except Exception as err:  # noqa: BLE001
        _ui.show_error(err)
        return None, None
    return fusion, rerank


# ---------------------------------------------------------------------------- results
def _results(run, fusion, rerank, baseline) -> None:
    k = rerank.k
    try:
        ev = _eval_cached(run, fusion, rerank)  # reruns that change nothing reuse the result
        seconds = ev.seconds
        base = _eval_cached(run, *baseline)
    except Exception as err:  # noqa: BLE001
        _ui.show_error(err)
        return
    head = [m.format(k=k) for m in HEADLINE]
    cols = st.columns(len(head))
    for col, key in zip(cols, head, strict=True):
        value = ev.fusion.values.get(key)
        ref = base.fusion.values.get(key)
        delta = None if value is None or ref is None else value - ref
        flat = delta is not None and abs(delta) < 5e-5
        col.metric(
            t(f"metric.{key.split('@')[0]}", k=k),
            "—" if value is None else f"{value:.4f}",
            None if delta is None else f"{0.0 if flat else delta:+.4f}",
            delta_color="off" if flat else "normal",
            delta_arrow="off" if flat else "auto",
            help=t("lab.delta_help"),
        )
    st.caption(t("lab.updated", ms=seconds * 1000, n=len(ev.fusion.users)))

    keys = [m.format(k=k) for m in ACCURACY] + BEYOND
    rows = {t("common.fusion"): ev.fusion.values, t("common.baseline"): base.fusion.values}
    rows |= {_ui.model_label(m): r.values for m, r in ev.models.items()}
    table = pd.DataFrame.from_dict(rows, orient="index")
    table = table[[c for c in keys if c in table.columns]].astype(float)
    tab_chart, tab_table, tab_lists = st.tabs(
        [t("lab.chart"), t("lab.table"), t("lab.sample_lists")]
    )
    with tab_chart:
        colors = [_ui.PALETTE[0], "#9ca3af"] + [
            _ui.PALETTE[(i + 2) % len(_ui.PALETTE)] for i in range(len(table) - 2)
        ]
        accuracy = [c for c in (m.format(k=k) for m in CHART_ACCURACY) if c in table.columns]
        beyond = [c for c in CHART_BEYOND if c in table.columns]
        if accuracy:
            _ui.plot(
                _metric_panels(table, accuracy, colors, t("lab.chart_accuracy", k=k)),
                key="lab_chart_acc",
            )
        if beyond:
            _ui.plot(
                _metric_panels(table, beyond, colors, t("lab.chart_beyond", k=k)),
                key="lab_chart_beyond",
            )
        st.caption(t("lab.chart_help"))
    with tab_table:
        shown = table.rename(columns=_ui.metric_label)
        st.dataframe(shown.style.format("{:.4f}").highlight_max(axis=0, color="#dbeafe"))
        st.caption(t("lab.table_help"))
    with tab_lists:
        _sample_lists(run, ev)


def _metric_panels(
    table: pd.DataFrame, keys: list[str], colors: list[str], title: str
) -> go.Figure:
    """Small multiples: one panel per metric, each with its own y axis, one bar per strategy.

    Metrics on different scales (NDCG ~0.1, coverage ~0.9, novelty in bits) stay readable: each
    panel starts at 0 and fits its own values; the colours (legend) are the strategies.
    """
    from plotly.subplots import make_subplots

    fig = make_subplots(
        rows=1,
        cols=len(keys),
        subplot_titles=[_ui.metric_label(c) for c in keys],
        horizontal_spacing=0.06,
    )
    names = [str(n) for n in table.index]
    for col, key in enumerate(keys, start=1):
        values = table[key].to_numpy(dtype=float)
        fmt = ".2f" if key == "novelty" else ".4f"
        for name, value, color in zip(names, values, colors, strict=True):
            fig.add_bar(
                x=[name],
                y=[value],
                name=name,
                legendgroup=name,
                showlegend=col == 1,
                marker_color=color,
                hovertemplate=f"{name}<br>{_ui.metric_label(key)}: %{{y:{fmt}}}<extra></extra>",
                row=1,
                col=col,
            )
        finite = values[np.isfinite(values)]
        top = float(finite.max()) if len(finite) else 1.0
        fig.update_yaxes(range=[0, top * 1.12 if top > 0 else 1.0], row=1, col=col)
    fig.update_xaxes(showticklabels=False)
    fig.update_annotations(font_size=12)
    fig.update_layout(bargap=0.15)
    fig = _ui.style_fig(fig, title, None, None, height=340)
    fig.update_layout(margin={"t": 70})
    return fig


def _sample_lists(run, ev, n: int = 8) -> None:
    topk = ev.ranked.topk
    ds = run.dataset
    rng = np.random.default_rng(0)
    rows = (
        rng.choice(len(topk.users), size=min(n, len(topk.users)), replace=False)
        if len(topk.users)
        else []
    )
    titles = (
        ds.catalog["title"].astype(str).to_numpy()
        if "title" in ds.catalog.columns
        else ds.item_ids.external_ids
    )
    if _ui.lang_is_zh() and "title_zh" in ds.catalog.columns:
        zh = ds.catalog["title_zh"].astype(str).to_numpy()
        titles = np.where(pd.notna(ds.catalog["title_zh"]).to_numpy() & (zh != ""), zh, titles)
    out = []
    for r in sorted(rows):
        items = topk.items[r][topk.items[r] >= 0]
        out.append(
            {
                "user_id": ds.user_ids.to_external([topk.users[r]])[0],
                "list": [str(x) for x in titles[items]],
            }
        )
    st.dataframe(
        pd.DataFrame(out),
        hide_index=True,
        column_config={
            "user_id": st.column_config.TextColumn(t("common.user"), width="small"),
            "list": st.column_config.ListColumn(t("lab.list"), width="large"),
        },
    )


def _autotune(run, fusion, rerank) -> None:
    from recsys.ranking.fusion import FUSERS

    ss = st.session_state
    k = rerank.k
    with st.expander(t("lab.autotune"), expanded=False):
        if not FUSERS[fusion.method].uses_weights:
            st.caption(t("lab.no_weights"))
            return
        c1, c2, c3 = st.columns(3)
        objectives = [m.format(k=k) for m in ACCURACY]
        objective = c1.selectbox(
            t("lab.objective"),
            objectives,
            format_func=lambda m: t(f"metric.{m.split('@')[0]}", k=k),
            key="lab_objective",
        )
        min_cov = c2.slider(t("lab.min_coverage"), 0.0, 1.0, 0.0, 0.05, key="lab_min_cov")
        min_div = c3.slider(t("lab.min_diversity"), 0.0, 1.0, 0.0, 0.05, key="lab_min_div")
        n_samples = 30 if _ui.fast_mode() else 120
        if st.button(t("lab.autotune_button"), key="lab_tune_go", type="primary"):
            constraints = {}
            if min_cov > 0:
                constraints["coverage"] = (">=", float(min_cov))
            if min_div > 0:
                constraints["diversity"] = (">=", float(min_div))
            bar = st.progress(0.0, text=t("lab.tuning"))

            def progress(fraction: float, message: str) -> None:
                bar.progress(
                    min(max(float(fraction), 0.0), 1.0), text=f"{t('lab.tuning')} {message}"
                )

            try:
                result = run.autotune(
                    objective,
                    constraints or None,
                    fusion=fusion,
                    rerank_cfg=rerank,
                    n_samples=n_samples,
                    progress=progress,
                )
            except Exception as err:  # noqa: BLE001
                _ui.show_error(err)
                return
            ss["lab_tune"] = result
            ss["lab_pending"] = {"weights": result.best_weights}
            ss["lab_tune_msg"] = t(
                "lab.tuned" if result.feasible else "lab.tuned_infeasible",
                obj=t(f"metric.{objective.split('@')[0]}", k=k),
                value=float(result.best_metrics.get(objective) or 0.0),
                n=len(result.trials),
                s=result.seconds,
            )
            _ui.rerun_fragment()
        msg = ss.get("lab_tune_msg")
        if msg:
            (st.success if getattr(ss.get("lab_tune"), "feasible", True) else st.warning)(msg)
        result = ss.get("lab_tune")
        if result is not None and len(result.trials):
            _pareto(run, fusion, rerank, result)


def _pareto(run, fusion, rerank, result) -> None:
    from recsys.evaluation.tuning import pareto_front

    trials = result.trials
    objective = result.objective
    axis = (
        st.segmented_control(
            t("lab.pareto_axis"),
            [c for c in ("coverage", "diversity", "novelty") if c in trials.columns],
            default="coverage",
            format_func=lambda c: t(f"metric.{c}", k=rerank.k),
            key="lab_pareto_axis",
        )
        or "coverage"
    )
    if objective not in trials.columns or axis not in trials.columns:
        return
    front = pareto_front(trials, x=axis, y=objective)
    feasible = (
        trials["feasible"].to_numpy(dtype=bool)
        if "feasible" in trials.columns
        else np.ones(len(trials), bool)
    )
    weight_cols = [m for m in run.model_names if m in trials.columns]
    hover = (
        trials[weight_cols]
        .round(2)
        .astype(str)
        .apply(lambda r: "<br>".join(f"{_ui.model_label(m)}: {r[m]}" for m in weight_cols), axis=1)
    )
    fig = go.Figure()
    for mask, name, color in (
        (feasible, t("lab.feasible"), _ui.PALETTE[0]),
        (~feasible, t("lab.infeasible"), "#d1d5db"),
    ):
        if mask.any():
            fig.add_scatter(
                x=trials.loc[mask, axis],
                y=trials.loc[mask, objective],
                mode="markers",
                name=name,
                marker={"color": color, "size": 7, "opacity": 0.7},
                text=hover[mask],
                hovertemplate=f"{axis}: %{{x:.3f}}<br>{objective}: %{{y:.4f}}<br>%{{text}}<extra></extra>",
            )
    ft = trials[front].sort_values(axis)
    fig.add_scatter(
        x=ft[axis],
        y=ft[objective],
        mode="lines",
        name=t("lab.front"),
        line={"color": _ui.PALETTE[1], "dash": "dot"},
    )
    fig.add_scatter(
        x=[result.best_metrics.get(axis)],
        y=[result.best_metrics.get(objective)],
        mode="markers",
        name=t("lab.best"),
        marker={
            "symbol": "diamond",
            "size": 14,
            "color": _ui.PALETTE[2],
            "line": {"width": 1, "color": "#111"},
        },
    )
    try:
        current = _eval_cached(run, fusion, rerank, stage="validation").fusion.values
        fig.add_scatter(
            x=[current.get(axis)],
            y=[current.get(objective)],
            mode="markers",
            name=t("lab.current"),
            marker={
                "symbol": "star",
                "size": 18,
                "color": _ui.PALETTE[3],
                "line": {"width": 1, "color": "#111"},
            },
        )
    except Exception:  # noqa: BLE001 - the marker is optional
        pass
    _ui.plot(
        _ui.style_fig(
            fig,
            t("lab.pareto_title", n=len(trials)),
            t(f"metric.{axis}", k=rerank.k),
            t(f"metric.{objective.split('@')[0]}", k=rerank.k),
            height=420,
        ),
        key="lab_pareto",
    )
    st.caption(t("lab.pareto_help"))


def _presets(run, fusion, rerank) -> None:
    ws = _ui.get_workspace()
    ss = st.session_state
    with st.expander(t("lab.presets"), expanded=False):
        c1, c2 = st.columns(2)
        with c1:
            name = st.text_input(
                t("lab.preset_name"), value=ss.get("lab_preset_name", ""), key="lab_preset_name_in"
            )
            if st.button(t("lab.save_preset"), key="lab_save_preset", disabled=not name.strip()):
                preset = run.preset.with_fusion(fusion).with_rerank(rerank)
                preset.name = name.strip()
                try:
                    pid = ws.save_preset(preset, as_new=True)
                except Exception as err:  # noqa: BLE001
                    _ui.show_error(err)
                else:
                    st.success(t("lab.preset_saved", name=name.strip(), id=pid))
        presets = ws.list_presets()
        with c2:
            if not presets:
                st.caption(t("lab.no_presets"))
                return
            by_id = {p["id"]: p for p in presets}
            pid = st.selectbox(
                t("lab.pick_preset"),
                list(by_id),
                format_func=lambda i: by_id[i].get("name", i),
                key="lab_pick_preset",
            )
            b1, b2 = st.columns(2)
            if b1.button(t("lab.load_preset"), key="lab_load_preset"):
                try:
                    preset = ws.load_preset(pid).restricted_to(run.preset.models)
                    ss["lab_pending"] = {
                        "fusion": preset.fusion,
                        "rerank": preset.rerank,
                        "rules": preset.rerank.rules,
                    }
                except Exception as err:  # noqa: BLE001
                    _ui.show_error(err)
                else:
                    _ui.rerun_fragment()
            new_name = st.text_input(t("lab.rename_to"), key="lab_rename_to")
            if b2.button(t("lab.rename"), key="lab_rename", disabled=not new_name.strip()):
                try:
                    ws.rename_preset(pid, new_name.strip())
                except Exception as err:  # noqa: BLE001
                    _ui.show_error(err)
                else:
                    _ui.rerun_fragment()


def _baseline_choice(run):
    """(fusion, rerank) of the baseline: the run's trained preset or a saved preset."""
    from recsys.service.workspace import preset_from_record

    ws = _ui.get_workspace()
    presets = {p["id"]: p for p in ws.list_presets()}
    options = ["__trained__", *presets]
    pick = st.selectbox(
        t("lab.baseline"),
        options,
        format_func=lambda i: (
            _ui.trained_preset_label(run) if i == "__trained__" else presets[i].get("name", i)
        ),
        key="lab_baseline",
        help=t("lab.baseline_help"),
    )
    if pick == "__trained__":
        return run.preset.fusion, run.preset.rerank
    try:
        preset = preset_from_record(presets[pick]).restricted_to(run.preset.models)
        return preset.fusion, preset.rerank
    except Exception as err:  # noqa: BLE001
        _ui.show_error(err)
        return run.preset.fusion, run.preset.rerank


@st.fragment
def lab(run) -> None:
    _apply_state(run)
    catalog_columns = [c for c in run.dataset.catalog.columns if c != "item_id"]
    left, right = st.columns([1, 2], gap="large")
    with right:  # the rules table needs the width; it sits above the metrics it changes
        rules_slot = st.container()
    with left:
        fusion, rerank = _controls(run, catalog_columns, rules_slot)
    if fusion is None:
        return
    _ui.set_current_configs(fusion, rerank)
    with right:
        baseline = _baseline_choice(run)
        _results(run, fusion, rerank, baseline)
        _autotune(run, fusion, rerank)
        _presets(run, fusion, rerank)


# ---------------------------------------------------------------------------- page
_ui.page_header("lab.title", "lab.intro")
run = _ui.require_run()
lab(run)
