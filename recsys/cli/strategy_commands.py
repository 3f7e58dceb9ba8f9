"""Commands that train a strategy: ``audience``, ``evaluate``, ``compare``.

``export`` has its own module, ``export_commands``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from recsys.cli.base import (
    EXIT_OK,
    add_data_arguments,
    load_data,
    progress_printer,
    register,
    say,
    train_strategy,
    write_json,
)
from recsys.errors import ConfigError
from recsys.jsonable import jsonable


def _add_audience(p: argparse.ArgumentParser) -> None:
    add_data_arguments(p)
    target = p.add_mutually_exclusive_group(required=True)
    target.add_argument("--item", help="item id")
    target.add_argument("--brand", help="every item of this brand")
    target.add_argument("--category", help="every item of this category")
    p.add_argument("--k", type=int, default=500, help="number of users (default 500)")
    p.add_argument("--out", type=Path, required=True, help="output CSV")


def _run_audience(args: argparse.Namespace) -> int:
    from recsys.service.export import write_table

    dataset = load_data(args)
    run, preset = train_strategy(args, dataset, stages=("full",))
    table = run.audience(
        item_id=args.item, brand=args.brand, category=args.category, k=args.k, fusion=preset.fusion
    )
    write_table(table, args.out)
    say(f"wrote {len(table):,} users to {args.out}")
    return EXIT_OK


register("audience", "rank the users most likely to want an item, brand or category")(
    _add_audience, _run_audience
)


def _add_evaluate(p: argparse.ArgumentParser) -> None:
    add_data_arguments(p)
    p.add_argument("--k", type=int, default=10, help="cut-off for ranking metrics (default 10)")
    p.add_argument(
        "--split", choices=("temporal", "random", "leave-last", "time-cutoff"), default="temporal"
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", type=Path, metavar="OUT", help="also write the metrics as JSON")


def _apply_split_args(args: argparse.Namespace):
    from recsys.service.preset import Preset, default_preset

    preset = Preset.read(args.preset) if args.preset else default_preset()
    data = preset.to_dict()
    data["split"] = {**data["split"], "method": args.split.replace("-", "_"), "seed": args.seed}
    data["rerank"] = {**data["rerank"], "k": args.k}
    return Preset.from_dict(data)


def _run_evaluate(args: argparse.Namespace) -> int:
    import pandas as pd

    from recsys.service.training import train_run

    if not 1 <= args.k <= 1000:
        raise ConfigError("--k must be between 1 and 1000.")
    dataset = load_data(args)
    preset = _apply_split_args(args)
    run = train_run(
        dataset,
        preset,
        progress=progress_printer(args),
        stages=("validation", "test"),
        tune=args.preset is None,
    )
    fusion = run.preset.fusion
    evaluation = run.evaluate(fusion, preset.rerank)
    table = evaluation.table()
    metric = f"ndcg@{args.k}"
    p_values = evaluation.significance(metric)
    table[f"p({metric} vs fusion)"] = pd.Series(p_values)
    say(f"split: {run.split.info.get('method')} | " + _split_summary(run.split.info))
    with_pd_options = table.round(4).to_string()
    say(with_pd_options)
    say(
        "fusion: "
        + fusion.method
        + " / "
        + fusion.normalization
        + " | weights "
        + ", ".join(f"{m}={w:.3f}" for m, w in fusion.weights.items())
    )
    choice = run.strategy_choice
    if choice is not None:
        scores = ", ".join(f"{c}={v:.4f}" for c, v in choice.scores.items())
        say(
            f"strategy chosen on validation ({choice.n_users} users, {choice.objective}): "
            f"{choice.winner} (+{choice.margin:.1%} over the runner-up) | {scores}"
        )
    if args.json:
        payload = {
            "split": jsonable(run.split.info),
            "models": {m: _metric_dict(r.values) for m, r in evaluation.models.items()},
            "significance": {
                "metric": metric,
                "test": "paired sign-flip randomisation, 2000 draws",
                "p_fusion_vs_model": p_values,
            },
            "fusion": {
                **_metric_dict(evaluation.fusion.values),
                "method": fusion.method,
                "normalization": fusion.normalization,
                "weights": fusion.weights,
            },
            "strategy_choice": choice.to_dict() if choice is not None else None,
        }
        write_json(args.json, payload)
        say(f"metrics written to {args.json}")
    return EXIT_OK


def _split_summary(info: dict) -> str:
    keys = [k for k in info if isinstance(info[k], int | float) and not isinstance(info[k], bool)]
    return ", ".join(f"{k}={info[k]}" for k in keys[:12])


def _metric_dict(values: dict) -> dict:
    out = {k: (None if v is None else float(v)) for k, v in values.items()}
    out.setdefault("rmse", None)
    out.setdefault("mae", None)
    return out


register("evaluate", "held-out metrics for each model and the fusion")(_add_evaluate, _run_evaluate)


def _add_compare(p: argparse.ArgumentParser) -> None:
    add_data_arguments(p, preset=False)
    p.add_argument("--a", type=Path, required=True, help="preset A (JSON)")
    p.add_argument("--b", type=Path, required=True, help="preset B (JSON)")
    p.add_argument("--json", type=Path, metavar="OUT", help="also write the comparison as JSON")


def _run_compare(args: argparse.Namespace) -> int:
    from recsys.ranking.fusion import FUSERS
    from recsys.service.preset import Preset
    from recsys.service.training import train_run

    a, b = Preset.read(args.a), Preset.read(args.b)
    union = Preset.from_dict({**a.to_dict(), "models": {**b.models, **a.models}, "id": "ab-union"})
    dataset = load_data(args)
    learns = any(FUSERS[p.fusion.method].needs_training for p in (a, b))
    stages = ("validation", "test") if learns else ("test",)  # learned fusers fit on validation
    run = train_run(dataset, union, progress=progress_printer(args), stages=stages)
    result = run.compare(a, b)
    say(f"A = {a.name}   B = {b.name}")
    say(result.table.round(4).to_string(index=False))
    if args.json:
        write_json(
            args.json,
            {
                "a": a.to_dict(),
                "b": b.to_dict(),
                "table": json.loads(result.table.to_json(orient="records")),
            },
        )
        say(f"comparison written to {args.json}")
    return EXIT_OK


register("compare", "offline A/B of two presets on the same split")(_add_compare, _run_compare)
