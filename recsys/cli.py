"""Command line: ``python -m recsys <command> ...``.

Each command is a pair of functions registered in :data:`COMMANDS`::

    def _add_foo(parser: argparse.ArgumentParser) -> None: ...   # declare arguments
    def _run_foo(args: argparse.Namespace) -> int: ...           # do it, return exit code

    COMMANDS["foo"] = Command("one-line help", _add_foo, _run_foo)

:func:`main` turns every expected failure (:class:`RecsysError`, unreadable files, bad
arguments) into a one-line message on stderr and exit code 2; users never see a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from recsys.errors import ConfigError, RecsysError
from recsys.jsonable import jsonable

EXIT_OK = 0
EXIT_ERROR = 2


@dataclass(frozen=True)
class Command:
    """One subcommand: help text, argument declaration, handler (returns the exit code)."""

    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


COMMANDS: dict[str, Command] = {}


def register(name: str, help: str) -> Callable:
    """Decorator-free registration helper: ``register("x", "help")(add_fn, run_fn)``."""

    def _register(add_arguments: Callable, run: Callable) -> Command:
        COMMANDS[name] = Command(help, add_arguments, run)
        return COMMANDS[name]

    return _register


# --------------------------------------------------------------------------- helpers
def parse_pairs(values: Sequence[str] | None, what: str) -> dict[str, str]:
    """``["role=column", ...]`` -> ``{role: column}``; ``role=`` means "no column"."""
    out: dict[str, str] = {}
    for value in values or []:
        key, sep, rest = value.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"{what} must look like name=value, got '{value}'.")
        out[key.strip()] = rest.strip()
    return out


def parse_weights(values: Sequence[str] | None) -> dict[str, float]:
    """``["purchase=5", ...]`` -> ``{"purchase": 5.0}`` (positive numbers only)."""
    out: dict[str, float] = {}
    for key, raw in parse_pairs(values, "--event-weight").items():
        try:
            weight = float(raw)
        except ValueError:
            weight = float("nan")
        if not weight > 0 or weight == float("inf"):
            raise ConfigError(f"--event-weight {key}={raw}: the weight must be a positive number.")
        out[key] = weight
    return out


def _say(text: str) -> None:
    sys.stdout.write(text if text.endswith("\n") else text + "\n")


# --------------------------------------------------------------------------- demo-data
def _add_demo_data(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", required=True, type=Path, help="directory to write into")
    p.add_argument("--users", type=int, default=2000, help="number of users (default 2000)")
    p.add_argument("--items", type=int, default=500, help="number of items (default 500)")
    p.add_argument("--events", type=int, default=50000, help="number of events (default 50000)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")


def _run_demo_data(args: argparse.Namespace) -> int:
    for flag in ("users", "items", "events"):
        if getattr(args, flag) < 1:
            raise ConfigError(f"--{flag} must be at least 1.")
    from recsys.data.demo import write_demo

    catalog_path, interactions_path = write_demo(
        args.out, n_users=args.users, n_items=args.items, n_events=args.events, seed=args.seed
    )
    _say(f"wrote {catalog_path}")
    _say(f"wrote {interactions_path}")
    _say(f"wrote {interactions_path.parent / 'users.csv'}")
    return EXIT_OK


register("demo-data", "write a seeded demo store (catalog.csv, interactions.csv, users.csv)")(
    _add_demo_data, _run_demo_data
)


# --------------------------------------------------------------------------- validate
def _add_validate(p: argparse.ArgumentParser) -> None:
    p.add_argument("--interactions", type=Path, help="interaction log CSV (one row per event)")
    p.add_argument("--catalog", type=Path, help="catalog CSV (one row per item)")
    _add_user_arguments(p)
    p.add_argument(
        "--map", action="append", metavar="ROLE=COLUMN", default=[],
        help="interactions column for a role (user, item, rating, event, quantity, timestamp, "
        "order, title, description, category, brand, price); repeatable; ROLE= for none",
    )  # fmt: skip
    p.add_argument(
        "--catalog-map", action="append", metavar="ROLE=COLUMN", default=[],
        help="catalog column for a role (item, title, description, category, brand, price)",
    )  # fmt: skip
    p.add_argument(
        "--event-weight", action="append", metavar="EVENT=W", default=[],
        help="weight of an event type (view, cart, favorite, purchase, other)",
    )  # fmt: skip
    p.add_argument("--json", type=Path, metavar="OUT", help="also write the report as JSON")


def _run_validate(args: argparse.Namespace) -> int:
    from recsys.data.ingest import load_catalog, load_dataset
    from recsys.errors import DataValidationError

    if args.interactions is None and args.catalog is None:
        raise ConfigError(
            "give --interactions FILE (and optionally --catalog FILE), or --catalog alone."
        )
    if args.users_file is not None and args.interactions is None:
        raise ConfigError("--users needs --interactions (users are matched to the log).")
    interactions_map = parse_pairs(args.map, "--map")
    catalog_map = parse_pairs(args.catalog_map, "--catalog-map")
    weights = parse_weights(args.event_weight)
    try:
        if args.interactions is None:
            report = load_catalog(args.catalog, catalog_map=catalog_map)[1]
        else:
            report = load_dataset(
                args.interactions,
                args.catalog,
                interactions_map=interactions_map,
                catalog_map=catalog_map,
                event_weights=weights,
                name=args.interactions.stem,
                users=args.users_file,
                users_map=parse_pairs(args.users_map, "--users-map"),
            ).report
    except DataValidationError as err:
        report = getattr(err, "report", None)
        if report is not None and args.json:
            _write_json(args.json, report.to_dict())
        if report is not None and report.files:
            _say(report.to_text())
        raise
    _say(report.to_text())
    if args.json:
        _write_json(args.json, report.to_dict())
        _say(f"report written to {args.json}")
    return EXIT_OK


def _write_json(path: Path, payload: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False), encoding="utf-8")


register("validate", "read interactions (+ catalog) and print the data-readiness report")(
    _add_validate, _run_validate
)


# --------------------------------------------------------------------------- entry point
def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with one subparser per registered command."""
    parser = argparse.ArgumentParser(
        prog="python -m recsys", description="Fusion Studio: recommendation workbench tools."
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, command in COMMANDS.items():
        command.add_arguments(sub.add_parser(name, help=command.help, description=command.help))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit code (0 ok, 2 error; argparse usage errors exit 2)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error (2), already printed by argparse
        return int(exc.code or 0)
    if not args.command:
        parser.print_help()
        return EXIT_ERROR
    try:
        return COMMANDS[args.command].run(args)
    except RecsysError as err:
        return _fail(str(err))
    except FileNotFoundError as err:
        return _fail(f"file not found: {err.filename}")
    except IsADirectoryError as err:
        return _fail(f"this is a folder, not a file: {err.filename}")
    except PermissionError as err:
        return _fail(f"permission denied: {err.filename}")
    except OSError as err:
        return _fail(f"cannot read or write {err.filename or 'a file'}: {err.strerror or err}")
    except KeyboardInterrupt:
        return _fail("interrupted.")
    except Exception as err:  # noqa: BLE001 - last resort: one line, never a traceback
        return _fail(f"unexpected error ({type(err).__name__}): {err}")


def _add_user_arguments(p: argparse.ArgumentParser, *, short_flag: bool = True) -> None:
    """``--users FILE`` (also ``--user-attributes FILE``; only the latter when ``short_flag``
    is off because the command uses ``--users`` for user ids) and ``--users-map``."""
    flags = ("--users", "--user-attributes") if short_flag else ("--user-attributes",)
    p.add_argument(
        *flags, dest="users_file", type=Path, metavar="FILE",
        help="user attribute CSV (optional): a user id column plus attributes (age, city ...)",
    )  # fmt: skip
    p.add_argument(
        "--users-map", action="append", metavar="ROLE=COLUMN", default=[],
        help="user attribute table column for a role (user)",
    )  # fmt: skip


def _fail(message: str) -> int:
    sys.stderr.write(f"error: {message}\n")
    return EXIT_ERROR


# --------------------------------------------------------------------------- engine commands
def _add_data_arguments(
    p: argparse.ArgumentParser, *, preset: bool = True, users_flag: bool = True
) -> None:
    p.add_argument("--interactions", type=Path, required=True, help="interaction log CSV")
    p.add_argument("--catalog", type=Path, help="catalog CSV (optional)")
    _add_user_arguments(p, short_flag=users_flag)
    p.add_argument(
        "--map",
        action="append",
        metavar="ROLE=COLUMN",
        default=[],
        help="interactions column for a role",
    )
    p.add_argument(
        "--catalog-map",
        action="append",
        metavar="ROLE=COLUMN",
        default=[],
        help="catalog column for a role",
    )
    p.add_argument(
        "--event-weight",
        action="append",
        metavar="EVENT=W",
        default=[],
        help="weight of an event type",
    )
    if preset:
        p.add_argument(
            "--preset",
            type=Path,
            help="preset JSON (default: the default models, weights tuned on validation)",
        )
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")


def _load(args: argparse.Namespace):
    from recsys.data.ingest import load_dataset

    result = load_dataset(
        args.interactions,
        args.catalog,
        interactions_map=parse_pairs(args.map, "--map"),
        catalog_map=parse_pairs(args.catalog_map, "--catalog-map"),
        event_weights=parse_weights(args.event_weight),
        name=args.interactions.stem,
        users=args.users_file,
        users_map=parse_pairs(args.users_map, "--users-map"),
    )
    for warning in result.report.warnings:
        sys.stderr.write(f"warning: {warning}\n")
    return result.dataset


def _progress(args: argparse.Namespace):
    if getattr(args, "quiet", False):
        return None
    last: dict[str, float] = {}

    def report(stage: str, model: str | None, fraction: float, message: str) -> None:
        key = f"{stage}/{model}"
        if fraction >= 1.0 or fraction - last.get(key, -1.0) >= 0.25:
            last[key] = fraction
            sys.stderr.write(f"[{stage}] {model or ''} {fraction:4.0%} {message}\n")

    return report


def _strategy(args: argparse.Namespace, dataset, *, stages=None):
    """Train the run for ``args`` and return (run, preset) with tuned weights when no preset is given."""
    from recsys.ranking.fusion import FUSERS
    from recsys.service.preset import Preset, default_preset
    from recsys.service.stage import STAGES
    from recsys.service.training import train_run

    preset = Preset.read(args.preset) if getattr(args, "preset", None) else default_preset()
    if stages is None:
        # A given preset needs only the models fitted on all data, unless its fusion learns
        # (stacking) or no preset was given (weights are then tuned on the validation split).
        needs_validation = (
            FUSERS[preset.fusion.method].needs_training or getattr(args, "preset", None) is None
        )
        stages = STAGES if needs_validation else ("full",)
    tune = getattr(args, "preset", None) is None and "validation" in stages
    run = train_run(dataset, preset, progress=_progress(args), stages=stages, tune=tune)
    if tune:
        run.preset.id, run.preset.name = "default-tuned", "Default (weights tuned on validation)"
    return run, run.preset


def _add_export(p: argparse.ArgumentParser) -> None:
    _add_data_arguments(p, users_flag=False)  # export's --users lists user ids
    p.add_argument("--k", type=int, default=20, help="list length (default 20)")
    p.add_argument("--out", type=Path, required=True, help="output file")
    p.add_argument(
        "--format", choices=("csv", "parquet"), help="default: from the file suffix, else csv"
    )
    p.add_argument(
        "--excel", action="store_true", help="UTF-8 with BOM so Excel shows Chinese text"
    )
    p.add_argument("--users", nargs="*", help="only these user ids")


def _run_export(args: argparse.Namespace) -> int:
    from recsys.service.export import write_table

    if not 1 <= args.k <= 1000:
        raise ConfigError("--k must be between 1 and 1000.")
    dataset = _load(args)
    run, preset = _strategy(args, dataset)
    rerank_cfg = preset.rerank.__class__.from_dict({**preset.rerank.to_dict(), "k": args.k})
    table = run.recommend(args.users, preset.fusion, rerank_cfg).table()
    table["preset_id"] = preset.id
    fmt = args.format or ("parquet" if args.out.suffix.lower() == ".parquet" else "csv")
    write_table(table, args.out, fmt, excel_bom=args.excel)
    _say(
        f"wrote {len(table):,} rows for {table['user_id'].nunique():,} users to {args.out} "
        f"(preset '{preset.id}', fusion {preset.fusion.method}, weights "
        + ", ".join(f"{m}={w:.2f}" for m, w in preset.fusion.weights.items())
        + ")"
    )
    return EXIT_OK


register("export", "train, fuse and write top-k recommendations for every user")(
    _add_export, _run_export
)


def _add_audience(p: argparse.ArgumentParser) -> None:
    _add_data_arguments(p)
    target = p.add_mutually_exclusive_group(required=True)
    target.add_argument("--item", help="item id")
    target.add_argument("--brand", help="every item of this brand")
    target.add_argument("--category", help="every item of this category")
    p.add_argument("--k", type=int, default=500, help="number of users (default 500)")
    p.add_argument("--out", type=Path, required=True, help="output CSV")


def _run_audience(args: argparse.Namespace) -> int:
    from recsys.service.export import write_table

    dataset = _load(args)
    run, preset = _strategy(args, dataset, stages=("full",))
    table = run.audience(
        item_id=args.item, brand=args.brand, category=args.category, k=args.k, fusion=preset.fusion
    )
    write_table(table, args.out)
    _say(f"wrote {len(table):,} users to {args.out}")
    return EXIT_OK


register("audience", "rank the users most likely to want an item, brand or category")(
    _add_audience, _run_audience
)


def _add_evaluate(p: argparse.ArgumentParser) -> None:
    _add_data_arguments(p)
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
    dataset = _load(args)
    preset = _apply_split_args(args)
    run = train_run(
        dataset,
        preset,
        progress=_progress(args),
        stages=("validation", "test"),
        tune=args.preset is None,
    )
    fusion = run.preset.fusion
    evaluation = run.evaluate(fusion, preset.rerank)
    table = evaluation.table()
    metric = f"ndcg@{args.k}"
    p_values = evaluation.significance(metric)
    table[f"p({metric} vs fusion)"] = pd.Series(p_values)
    _say(f"split: {run.split.info.get('method')} | " + _split_summary(run.split.info))
    with_pd_options = table.round(4).to_string()
    _say(with_pd_options)
    _say(
        "fusion: "
        + fusion.method
        + " / "
        + fusion.normalization
        + " | weights "
        + ", ".join(f"{m}={w:.3f}" for m, w in fusion.weights.items())
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
        }
        _write_json(args.json, payload)
        _say(f"metrics written to {args.json}")
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
    _add_data_arguments(p, preset=False)
    p.add_argument("--a", type=Path, required=True, help="preset A (JSON)")
    p.add_argument("--b", type=Path, required=True, help="preset B (JSON)")
    p.add_argument("--json", type=Path, metavar="OUT", help="also write the comparison as JSON")


def _run_compare(args: argparse.Namespace) -> int:
    from recsys.service.preset import Preset
    from recsys.service.training import train_run

    a, b = Preset.read(args.a), Preset.read(args.b)
    union = Preset.from_dict({**a.to_dict(), "models": {**b.models, **a.models}, "id": "ab-union"})
    dataset = _load(args)
    run = train_run(dataset, union, progress=_progress(args), stages=("test",))
    result = run.compare(a, b)
    _say(f"A = {a.name}   B = {b.name}")
    _say(result.table.round(4).to_string(index=False))
    if args.json:
        _write_json(
            args.json,
            {
                "a": a.to_dict(),
                "b": b.to_dict(),
                "table": json.loads(result.table.to_json(orient="records")),
            },
        )
        _say(f"comparison written to {args.json}")
    return EXIT_OK


register("compare", "offline A/B of two presets on the same split")(_add_compare, _run_compare)


def _add_bench(p: argparse.ArgumentParser) -> None:
    p.add_argument("--sizes", default="default,medium", help="comma list of default, medium, large")
    p.add_argument("--models", default=None, help="comma list of model names")
    p.add_argument("--interactions", type=Path, help="also benchmark this CSV")
    p.add_argument("--catalog", type=Path)
    p.add_argument("--no-naive", action="store_true", help="skip the per-pair predict loop")


def _run_bench(args: argparse.Namespace) -> int:
    from recsys import bench

    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    unknown = [s for s in sizes if s not in bench.SIZES]
    if unknown:
        raise ConfigError(f"unknown size(s) {', '.join(unknown)}; use {', '.join(bench.SIZES)}.")
    models = tuple(m.strip() for m in args.models.split(",")) if args.models else bench.BENCH_MODELS
    return bench.main(
        sizes,
        models,
        str(args.interactions) if args.interactions else None,
        str(args.catalog) if args.catalog else None,
        naive=not args.no_naive,
    )


register("bench", "speed benchmark: fit, score, top-k, fusion, memory (prints figures)")(
    _add_bench, _run_bench
)
