"""Train page: pick models and hyperparameters, train with progress, see held-out metrics."""

from __future__ import annotations

import time
import typing

import pandas as pd
import streamlit as st

from recsys.errors import RecsysError
from recsys.evaluation.metrics.glossary import higher_is_better, shown_keys
from recsys.models import DEFAULT_MODELS, MODEL_NAMES, QUICK_PARAMS, make_model, model_class
from recsys.service.preset import SPLIT_METHODS, Preset, default_preset, unsuitable_models
from recsys.service.progress import measured_costs, training_plan
from ui import labels, nav, session, state, training_watch
from ui.errors import coded_text, error_text, show_error
from ui.frame import page_header
from ui.i18n import t
from ui.train_update import update_panel

HIDDEN_PARAMS = {"loss", "num_threads"}
FIT_COLUMN = "fit_seconds"


def _choices(cls, param: str) -> list | None:
    """Allowed values of a ``Literal``-typed constructor parameter, if any."""
    try:
        hints = typing.get_type_hints(cls.__init__)
    except (NameError, TypeError):  # a hint that cannot be resolved: no choices
        return None
    hint = hints.get(param)
    if typing.get_origin(hint) is typing.Literal:
        return list(typing.get_args(hint))
    return None


def _param_widget(model: str, cls, name: str, default):
    key = f"tr_p_{model}_{name}"
    label = name.replace("_", " ")
    choices = _choices(cls, name)
    if choices:
        return st.selectbox(
            label, choices, index=choices.index(default) if default in choices else 0, key=key
        )
    if isinstance(default, bool):
        return st.checkbox(label, value=default, key=key)
    bounds = cls.param_ranges.get(name)  # declared once, in the library
    if isinstance(default, int):
        low, high = (int(bounds.low), int(bounds.high)) if bounds else (None, None)
        return int(
            st.number_input(label, min_value=low, max_value=high, value=default, step=1, key=key)
        )
    if isinstance(default, float):
        low_f, high_f = (float(bounds.low), float(bounds.high)) if bounds else (None, None)
        return float(
            st.number_input(
                label, min_value=low_f, max_value=high_f, value=default, format="%g", key=key
            )
        )
    text = st.text_input(
        label, value="" if default is None else str(default), key=key, help=t("train.none_help")
    )
    if text.strip() == "" or text.strip().lower() == "none":
        return None
    try:
        return int(text) if text.strip().lstrip("-").isdigit() else float(text)
    except ValueError:
        return text.strip()


def _metrics_table(run) -> pd.DataFrame:
    """One row per model, one column per summary metric of the glossary (keys as columns)."""
    reports = run.single_model_reports("test")
    rows = {labels.model_label(m): r.values for m, r in reports.items()}
    frame = pd.DataFrame.from_dict(rows, orient="index").astype(float)
    keys = shown_keys(run.k, [c for c in frame.columns if frame[c].notna().any()])
    frame = frame[keys]
    fit = {
        labels.model_label(m): sum(v for key, v in run.timings.items() if key.endswith("/" + m))
        for m in run.model_names
    }
    frame[FIT_COLUMN] = pd.Series(fit)
    return frame


def _split_caption(info: dict) -> str:
    """The evaluation split in one readable line (method, train / test sizes, cold items)."""

    def num(key: str) -> str:
        value = info.get(key)
        return f"{int(value):,}" if isinstance(value, int | float) else "?"

    method = str(info.get("method", ""))
    text = t(
        "train.split_caption",
        method=t(f"train.split.{method}") if method else "—",
        train_pairs=num("train_pairs"),
        train_users=num("train_users"),
        test_pairs=num("test_pairs"),
        test_users=num("test_users"),
    )
    if info.get("test_pairs_cold_item"):
        text += " " + t("train.split_cold", n=num("test_pairs_cold_item"))
    return text


def _size(run_id: str) -> str:
    mb = state.run_size_mb(run_id)
    return "?" if mb is None else f"{mb:,.1f}"


def _delete(run_id: str, label: str) -> None:
    try:
        state.delete_run(run_id)
    except RecsysError as err:
        show_error(err)
    else:
        st.session_state["train_flash"] = t("train.run_deleted", name=label)
        st.rerun()


def _delete_run_button(run_id: str, label: str) -> None:
    """Delete the picked run, its size shown, after a confirmation."""
    size = _size(run_id)
    with st.popover(t("train.delete_run", size=size), icon=":material/delete:"):
        st.markdown(t("train.delete_run_confirm", name=label, size=size))
        if st.button(t("data.delete_yes"), type="primary", key=f"tr_del_{run_id}"):
            _delete(run_id, label)


def _unusable_runs() -> None:
    """Run folders that fail the checks: reported (never opened), each deletable."""
    bad = state.invalid_runs()
    if not bad:
        return
    with st.expander(t("train.invalid_runs", n=len(bad)), icon=":material/warning:"):
        for rec in bad:
            run_id = str(rec["run_id"])
            st.warning(coded_text(rec["problem"], "err"))
            if st.button(
                t("train.delete_invalid", size=_size(run_id)),
                key=f"tr_del_bad_{run_id}",
                icon=":material/delete:",
            ):
                _delete(run_id, run_id)


# ---------------------------------------------------------------------------- page
page_header("train.title", "train.intro")
training_watch.settle()  # this tab's training is over: open its run, or say why not
flash = st.session_state.pop("train_flash", None)
if flash:
    st.success(flash)
train_error = st.session_state.pop("train_error", None)
if train_error:
    st.error(train_error, icon=":material/error:")
ds = nav.require_dataset()
stopped = training_watch.stopped_at(st.session_state.get("dataset_id"))
if stopped is not None:
    st.warning(t("train.stopped", time=time.strftime("%H:%M", time.localtime(stopped))))

# ---- earlier runs of this dataset
runs = state.list_runs(st.session_state.get("dataset_id"))
if runs:
    ids = [r["id"] for r in runs]
    run_labels = {r["id"]: labels.run_label(r) for r in runs}
    active = st.session_state.get("run_id")
    picked = st.selectbox(
        t("train.runs"),
        ids,
        index=ids.index(active) if active in ids else 0,
        format_func=run_labels.get,
        key=f"tr_pick_{active}",
    )
    if picked != active:
        state.pick_run(picked)
        st.rerun()
    _delete_run_button(picked, run_labels[picked])
_unusable_runs()

# ---- model choice and parameters
slow_mark = {n: (t("train.slow_mark") if model_class(n).slow else "") for n in MODEL_NAMES}
left_out = unsuitable_models(DEFAULT_MODELS, ds)
chosen = st.multiselect(
    t("train.models"),
    list(MODEL_NAMES),
    default=[m for m in DEFAULT_MODELS if m not in left_out],
    format_func=lambda n: labels.model_label(n) + slow_mark[n],
    key="tr_models",
    help=t("train.models_help"),
)
for name, reason in left_out.items():
    st.caption(t("train.left_out", model=labels.model_label(name), reason=reason))
fast = state.fast_mode()
params: dict[str, dict] = {}
if chosen:
    tabs = st.tabs([labels.model_label(m) for m in chosen])
    for tab, name in zip(tabs, chosen, strict=True):
        with tab:
            cls = model_class(name)
            defaults = make_model(name).get_params()
            if fast:
                defaults.update(
                    {k: v for k, v in QUICK_PARAMS.get(name, {}).items() if k in defaults}
                )
            shown = [p for p in defaults if p not in HIDDEN_PARAMS]
            cols = st.columns(4)
            values = {}
            for i, p in enumerate(shown):
                with cols[i % 4]:
                    values[p] = _param_widget(name, cls, p, defaults[p])
            params[name] = {
                p: v for p, v in values.items() if v != make_model(name).get_params().get(p)
            }
            if cls.slow:
                est = 3 * cls.fit_cost(ds, {**defaults, **values})  # three stages
                st.warning(t("train.slow_warning", model=cls.label, est=f"{est:.0f}"))

with st.expander(t("train.eval_settings")):
    c1, c2, c3, c4 = st.columns(4)
    method = c1.selectbox(
        t("train.split"),
        list(SPLIT_METHODS),
        index=0 if ds.has_timestamps else 1,
        format_func=lambda m: t(f"train.split.{m}"),
        key="tr_split",
    )
    test_fraction = c2.slider(t("train.test_fraction"), 0.05, 0.5, 0.2, 0.05, key="tr_frac")
    k = int(c3.number_input(t("train.k"), 1, 100, 10, key="tr_k"))
    per_model = int(
        c4.number_input(
            t("train.candidates"),
            10,
            1000,
            100,
            step=10,
            key="tr_cand",
            help=t("train.candidates_help"),
        )
    )

preset_dict = default_preset(tuple(chosen or DEFAULT_MODELS)).to_dict()
preset_dict["models"] = params
preset_dict["split"] = {"method": method, "test_fraction": float(test_fraction), "seed": 0}
preset_dict["rerank"]["k"] = k
preset_dict["candidates_per_model"] = per_model
measured = measured_costs(runs)
tune_plan = (
    {
        s.key: s.seconds
        for s in training_plan(ds, Preset.from_dict(preset_dict), tune=True, measured=measured)
    }
    if chosen
    else {}
)
tune = st.checkbox(
    t("train.tune"),
    value=True,
    key="tr_tune",
    help=t("train.tune_help", s=tune_plan.get("tuning", 0) + tune_plan.get("strategy", 0)),
)
plan = (
    training_plan(ds, Preset.from_dict(preset_dict), tune=bool(tune), measured=measured)
    if chosen
    else []
)
if plan:
    st.caption(
        t(
            "train.estimate",
            s=sum(x.seconds for x in plan),
            basis=t("train.estimate_measured" if measured else "train.estimate_prior"),
        )
    )

slow_chosen = [m for m in chosen if model_class(m).slow]
confirm = True
if slow_chosen:
    confirm = st.checkbox(t("train.confirm_slow"), key="tr_confirm_slow")

go = st.button(t("train.button"), type="primary", disabled=not chosen or not confirm, key="tr_go")

jobs_slot = st.container()  # the trainings of this dataset: filled last (they poll)
if go:
    try:
        training_watch.submit(
            ds,
            st.session_state["dataset_id"],
            Preset.from_dict(preset_dict),
            tune=bool(tune),
            estimate=sum(x.seconds for x in plan),
        )
    except RecsysError as err:  # the memory check refused it, or the workspace cannot take it
        st.session_state["train_error"] = t("train.failed_msg", err=error_text(err))
        st.rerun()
    session.publish()  # the job is in this tab's URL before the page waits for it

# ---- metrics of the active run
run = state.get_run() if st.session_state.get("run_id") else None
if run is not None:
    st.subheader(t("train.metrics", k=run.k))
    st.caption(t("train.metrics_help"))
    table = _metrics_table(run)
    keys = [c for c in table.columns if c != FIT_COLUMN]
    higher = [c for c in keys if higher_is_better(c) is True]
    lower = [c for c in keys if higher_is_better(c) is False]
    styled = (
        table.style.format("{:.4f}", subset=keys, na_rep="—")
        .format("{:.1f}", subset=[FIT_COLUMN])
        .highlight_max(axis=0, color="#dbeafe", subset=higher)
    )
    if lower:
        styled = styled.highlight_min(axis=0, color="#dbeafe", subset=lower)
    st.dataframe(
        styled,
        column_config={
            **labels.metric_columns(keys),
            FIT_COLUMN: st.column_config.NumberColumn(t("train.fit_seconds"), format="%.1f"),
        },
    )
    info = getattr(run.split, "info", {}) or {}
    if info:
        st.caption(_split_caption(info))
    if state.weights_tuned(run):
        weights = run.preset.fusion.weights
        st.caption(
            t(
                "train.tuned_weights",
                weights=", ".join(
                    f"{labels.model_label(m)} {weights[m]:.2f}"
                    for m in run.model_names
                    if m in weights
                ),
            )
        )
    check = labels.tuning_check_text(run)
    if check is not None:
        (st.warning if check[0] else st.caption)(check[1])
    chosen = labels.strategy_caption(run)
    if chosen:
        st.caption(chosen)
    update_panel(st.session_state.get("run_id"))
    st.page_link(nav.PAGE_FILES["fusion"], label=t("train.next"), icon=":material/tune:")

with jobs_slot:
    training_watch.panel(st.session_state["dataset_id"])
