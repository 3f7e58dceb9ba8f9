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
    from recsys.demo_data import write_demo

    catalog_path, interactions_path = write_demo(
        args.out, n_users=args.users, n_items=args.items, n_events=args.events, seed=args.seed
    )
    _say(f"wrote {catalog_path}")
    _say(f"wrote {interactions_path}")
    return EXIT_OK


register("demo-data", "write a seeded demo store (catalog.csv, interactions.csv)")(
    _add_demo_data, _run_demo_data
)


# --------------------------------------------------------------------------- validate
def _add_validate(p: argparse.ArgumentParser) -> None:
    p.add_argument("--interactions", type=Path, help="interaction log CSV (one row per event)")
    p.add_argument("--catalog", type=Path, help="catalog CSV (one row per item)")
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
    from recsys.errors import DataValidationError
    from recsys.ingest import load_catalog, load_dataset

    if args.interactions is None and args.catalog is None:
        raise ConfigError(
            "give --interactions FILE (and optionally --catalog FILE), or --catalog alone."
        )
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


def _fail(message: str) -> int:
    sys.stderr.write(f"error: {message}\n")
    return EXIT_ERROR
