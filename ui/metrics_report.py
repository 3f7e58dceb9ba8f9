"""The Export page's metrics report: every metric by its glossary name, with what it means.

Markdown for people (in the interface language: readable names, a plain reading of each fused
figure, a glossary of what every column measures and which way is better) and a long CSV for
machines (strategy, metric key, name, value, direction, definition).
"""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pandas as pd

from recsys.evaluation.metrics.glossary import higher_is_better, shown_keys
from ui.i18n import t
from ui.labels import metric_help, metric_label, metric_reading, model_label
from ui.text import md

SEGMENT_METRICS = ("ndcg", "recall", "coverage")


def _direction(key: str) -> str:
    return t(
        {
            True: "metric.direction.up",
            False: "metric.direction.down",
            None: "metric.direction.none",
        }[higher_is_better(key)]
    )


def _cell(value) -> str:
    if isinstance(value, float):
        return "—" if value != value else f"{value:.4f}"
    return str(value)


def metrics_report(run, fusion, rerank, run_id: str | None, in_use=None) -> tuple[str, bytes]:
    """(Markdown text, CSV bytes) of the held-out metrics of ``fusion`` + ``rerank``.

    ``in_use`` (``preset_use.in_use``) names the preset in use and whether it was modified.
    """
    ev = run.evaluate(fusion, rerank)
    k = rerank.k
    table = ev.table().astype(float)
    keys = shown_keys(k, [c for c in table.columns if table[c].notna().any()])
    table = table[keys]
    names = {"fusion": t("common.fusion"), **{m: model_label(m) for m in ev.models}}
    lines = [
        f"# {t('report.title', name=md(run.dataset.name))}",
        "",
        f"- {t('report.generated')}: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- {t('report.run')}: {run_id} · " + ", ".join(model_label(m) for m in run.model_names),
        *(
            [
                f"- {t('report.preset', name=in_use.name, id=in_use.id)}"
                + (f" ({t('ex.preset_modified')})" if in_use.modified else "")
            ]
            if in_use is not None
            else []
        ),  # fmt: skip
        f"- {t('report.fusion')}: {fusion.method} / {fusion.normalization}; "
        + ", ".join(f"{model_label(m)} {w:.2f}" for m, w in fusion.weights.items()),
        f"- {t('report.rerank')}: k={k}, MMR λ={rerank.mmr_lambda}, "
        f"{t('lab.cat_cap')}={rerank.category_cap}, {t('lab.brand_cap')}={rerank.brand_cap}, "
        f"{t('lab.novelty')}={rerank.novelty}, {t('lab.rules')}={sum(r.enabled for r in rerank.rules)}",
        f"- {t('report.users', n=len(ev.fusion.users))}",
        "",
        "| " + t("report.strategy") + " | " + " | ".join(metric_label(c) for c in keys) + " |",
        "|---|" + "---|" * len(keys),
    ]
    for name, row in table.iterrows():
        cells = " | ".join(_cell(float(v)) for v in row.to_numpy())
        lines.append(f"| {names.get(str(name), name)} | {cells} |")
    lines += ["", f"## {t('report.readings')}", ""]
    for key in keys:
        text = metric_reading(key, ev.fusion.values.get(key), k)
        if text:
            lines.append(f"- **{metric_label(key)}** {_cell(ev.fusion.values[key])}: {text}")
    seg = getattr(ev.fusion, "segments", None)
    if seg is not None and len(seg):
        cols = [c for c in shown_keys(k, seg.columns) if c.split("@")[0] in SEGMENT_METRICS]
        lines += [
            "",
            f"## {t('report.segments')}",
            "",
            f"| {t('common.segment')} | {t('common.users')} | "
            + " | ".join(metric_label(c) for c in cols)
            + " |",
            "|---|---|" + "---|" * len(cols),
        ]
        for _, row in seg.iterrows():
            cells = " | ".join(_cell(float(row[c])) for c in cols)
            lines.append(
                f"| {t('seg.' + str(row['segment']))} | {int(row['n_users']):,} | {cells} |"
            )
    lines += ["", f"## {t('report.glossary')}", ""]
    for key in keys:
        lines.append(f"- **{metric_label(key)}** — {metric_help(key).replace(chr(10) * 2, ' ')}")
    long = table.reset_index(names="strategy").melt(
        id_vars="strategy", var_name="metric", value_name="value"
    )
    long["strategy"] = long["strategy"].map(lambda s: names.get(str(s), s))
    long["name"] = long["metric"].map(metric_label)
    long["better"] = long["metric"].map(_direction)
    long["definition"] = long["metric"].map(lambda c: metric_help(c).split("\n\n")[0])
    buf = io.StringIO()
    pd.DataFrame(long[["strategy", "metric", "name", "value", "better", "definition"]]).to_csv(
        buf, index=False
    )
    return "\n".join(lines) + "\n", buf.getvalue().encode("utf-8")
