"""Display names of library objects (models, metrics, fusion methods, datasets, runs).

The library's own label is the default; the locale files may hold a translation
(``model.<name>``, ``metric.<base>``, ``fusion.<name>.label``) which then wins.
"""

from __future__ import annotations

import time
from typing import Any

import streamlit as st

from recsys.errors import ConfigError
from recsys.evaluation.metrics.glossary import METRICS, metric_base, reading_params
from recsys.models import model_class
from recsys.ranking.fusion import FUSERS
from ui.i18n import has_key, t
from ui.state import weights_tuned


def model_label(name: str) -> str:
    """The model's display name (``model.<name>`` when translated, else the class's ``label``)."""
    if has_key(f"model.{name}"):
        return t(f"model.{name}")
    try:
        return model_class(name).label
    except ConfigError:  # a model no longer registered (an old run)
        return name


#: Metric keys the interface was asked to show that the glossary does not know (a test
#: walks every page and expects this to stay empty).
UNKNOWN_METRICS: set[str] = set()


def _known(key: str) -> bool:
    base = metric_base(str(key))
    if base in METRICS and has_key(f"metric.{base}"):
        return True
    UNKNOWN_METRICS.add(str(key))
    return False


def metric_label(key: str, k: int | None = None) -> str:
    """``ndcg@10`` -> "NDCG@10" (translated, from the glossary); an unknown key is shown as it is
    and recorded in ``UNKNOWN_METRICS``."""
    if not _known(key):
        return str(key)
    base, _, cut = str(key).partition("@")
    return t(f"metric.{base}", k=cut or ("" if k is None else k))


def metric_reading(key: str, value: float | None, k: int | None = None) -> str:
    """The glossary's plain-language reading of ``key`` at ``value`` ("" without a value)."""
    if not _known(key) or value is None or value != value:
        return ""
    return t(f"metric.{metric_base(key)}.reading", **reading_params(key, float(value), k))


def metric_help(key: str, value: float | None = None, k: int | None = None, extra: str = "") -> str:
    """The "?" of a metric: definition, its reading at ``value``, the better direction, whether it
    is per shopper or per catalog, then ``extra`` (e.g. the change against a baseline)."""
    if not _known(key):
        return extra
    base, _, cut = str(key).partition("@")
    info = METRICS[base]
    direction = {True: "up", False: "down", None: "none"}[info.higher_is_better]
    parts = [
        t(f"metric.{base}.definition", k=cut or ("" if k is None else k)),
        metric_reading(key, value, k),
        t(f"metric.direction.{direction}") + " " + t(f"metric.level.{info.level}"),
        extra,
    ]
    return "\n\n".join(p for p in parts if p)


def metric_columns(keys, fmt: str = "%.4f", values: dict | None = None) -> dict:
    """``column_config`` for metric columns named by their keys: readable name and "?" help."""
    values = values or {}
    return {
        key: st.column_config.NumberColumn(
            metric_label(key), format=fmt, help=metric_help(key, values.get(key))
        )
        for key in keys
    }


def fusion_text(name: str, what: str = "label") -> str:
    """Label or description of a fusion method (``fusion.<name>.<what>``, else the library's)."""
    if has_key(f"fusion.{name}.{what}"):
        return t(f"fusion.{name}.{what}")
    method = FUSERS.get(name)
    return getattr(method, what, name) if method is not None else name


def dataset_label(entry: dict[str, Any]) -> str:
    """``name · users × items · created`` of a workspace dataset record."""
    name = entry.get("name") or entry.get("id")
    n_users = entry.get("n_users")
    n_items = entry.get("n_items")
    created = str(entry.get("created_at") or "")[:16].replace("T", " ")
    bits = [str(name)]
    if n_users and n_items:
        bits.append(f"{int(n_users):,} × {int(n_items):,}")
    if created:
        bits.append(created)
    return " · ".join(bits)


def run_label(rec: dict[str, Any]) -> str:
    """``created · model, model ...`` of a run manifest."""
    preset = rec.get("preset") or {}
    models = preset.get("models") or {}
    created = rec.get("created_at") or ""
    if isinstance(created, int | float):
        created = time.strftime("%Y-%m-%d %H:%M", time.localtime(created))
    created = str(created)[:16].replace("T", " ")
    names = ", ".join(model_label(m) for m in models)
    label = f"{created} · {names}" if names else f"{created} · {rec.get('id')}"
    return label + (t("train.stale_mark") if rec.get("stale") else "")


def trained_preset_label(run) -> str:
    """Name of the run's own preset: says whether its weights were tuned on validation."""
    return t("lab.trained_preset_tuned" if weights_tuned(run) else "lab.trained_preset")


def part_label(name: str) -> str:
    """A part of a fused score: a model, or learning to rank's ``context`` / ``base`` parts."""
    if name in ("context", "base"):
        return t(f"contrib.{name}")
    return model_label(name)


def strategy_label(candidate: str) -> str:
    """A strategy of the validation choice: the blend, learning to rank, or a model's name."""
    if candidate in ("blend", "ltr"):
        return t(f"strategy.{candidate}")
    return model_label(candidate)


def strategy_caption(run) -> str | None:
    """What won on validation and by how much (None for runs without a choice)."""
    choice = getattr(run, "strategy_choice", None)
    if choice is None or not choice.scores:
        return None
    ranked = sorted(choice.scores.items(), key=lambda kv: kv[1], reverse=True)
    others = "; ".join(f"{strategy_label(c)} {v:.4f}" for c, v in ranked[1:])
    return t(
        "strategy.chosen",
        winner=strategy_label(choice.winner),
        metric=metric_label(choice.objective),
        value=ranked[0][1],
        margin=100 * choice.margin,
        others=others,
        n=choice.n_users,
    )


def tuning_check_text(run) -> tuple[bool, str] | None:
    """(worse?, sentence): the tuned weights against the weights before tuning on the test
    users, plainly; None when the run was not tuned or has no check."""
    check = getattr(run, "tuning_check", None) or {}
    before, tuned, objective = check.get("before"), check.get("tuned"), check.get("objective")
    if before is None or tuned is None or not objective:
        return None
    worse = tuned < before - 1e-12
    return worse, t(
        "train.tuned_worse" if worse else "train.tuned_better",
        metric=metric_label(objective),
        tuned=tuned,
        before=before,
        diff=abs(tuned - before),
    )
