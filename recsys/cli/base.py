"""What every command shares: the registry, argument helpers, data loading, progress lines."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from recsys.errors import ConfigError
from recsys.service.atomic import atomic_write_json, remove_leftovers

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


def say(text: str) -> None:
    """Print ``text`` on stdout with one trailing newline."""
    sys.stdout.write(text if text.endswith("\n") else text + "\n")


def write_json(path: Path, payload: dict) -> None:
    """Write ``payload`` as indented UTF-8 JSON with the one atomic writer (mode as exports).

    Leftovers of an earlier interrupted write of ``path`` are removed first.
    """
    remove_leftovers(path)
    atomic_write_json(path, payload)


def add_user_arguments(p: argparse.ArgumentParser, *, short_flag: bool = True) -> None:
    """Add ``--users FILE`` (also spelled ``--user-attributes FILE``) and ``--users-map``.

    Only ``--user-attributes`` when ``short_flag`` is off, because the command uses
    ``--users`` for user ids.
    """
    flags = ("--users", "--user-attributes") if short_flag else ("--user-attributes",)
    p.add_argument(
        *flags, dest="users_file", type=Path, metavar="FILE",
        help="user attribute CSV (optional): a user id column plus attributes (age, city ...)",
    )  # fmt: skip
    p.add_argument(
        "--users-map", action="append", metavar="ROLE=COLUMN", default=[],
        help="user attribute table column for a role (user)",
    )  # fmt: skip


def fail(message: str) -> int:
    """Print ``error: message`` on stderr; returns the error exit code."""
    sys.stderr.write(f"error: {message}\n")
    return EXIT_ERROR


# --------------------------------------------------------------------------- engine commands
def add_data_arguments(
    p: argparse.ArgumentParser, *, preset: bool = True, users_flag: bool = True
) -> None:
    """Add the options every engine command shares: files, column maps, event weights, preset."""
    p.add_argument("--interactions", type=Path, required=True, help="interaction log CSV")
    p.add_argument("--catalog", type=Path, help="catalog CSV (optional)")
    add_user_arguments(p, short_flag=users_flag)
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
    p.add_argument(
        "--personal",
        choices=("keep", "drop", "hash"),
        default="keep",
        help="columns that look like personal data (e-mails, phones, names, addresses): keep "
        "them (reported), drop them, or hash them with the workspace key",
    )
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")


def personal_options(args: argparse.Namespace) -> dict:
    """``load_dataset``'s ``personal`` and ``personal_key`` from ``--personal``."""
    action = getattr(args, "personal", "keep") or "keep"
    key = None
    if action == "hash":
        from recsys.service.pseudonyms import workspace_key
        from recsys.service.workspace import Workspace

        key = workspace_key(Workspace(getattr(args, "workspace", None)))
    return {"personal": action, "personal_key": key}


def load_data(args: argparse.Namespace):
    """Load the command's files into a Dataset; ingest warnings go to stderr."""
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
        **personal_options(args),
    )
    for warning in result.report.warnings:
        sys.stderr.write(f"warning: {warning}\n")
    return result.dataset


def progress_printer(args: argparse.Namespace):
    """Progress callback: a stderr line every 25 % per stage and model; None with ``--quiet``."""
    if getattr(args, "quiet", False):
        return None
    last: dict[str, float] = {}

    def report(stage: str, model: str | None, fraction: float, message: str) -> None:
        key = f"{stage}/{model}"
        if fraction >= 1.0 or fraction - last.get(key, -1.0) >= 0.25:
            last[key] = fraction
            sys.stderr.write(f"[{stage}] {model or ''} {fraction:4.0%} {message}\n")

    return report


def strategy_stages(args: argparse.Namespace, preset) -> tuple[str, ...]:
    """The stages serving ``preset`` needs.

    ``full`` always, ``validation`` when weights are tuned (no preset given) or the fusion
    learns; never ``test`` (nothing that serves reads it).
    """
    from recsys.ranking.fusion import FUSERS

    tuned = getattr(args, "preset", None) is None
    needs_validation = FUSERS[preset.fusion.method].needs_training or tuned
    return ("validation", "full") if needs_validation else ("full",)


def read_preset(args: argparse.Namespace, dataset):
    """The preset of ``--preset``, or the default one for ``dataset``.

    Models that cannot be fitted on it are left out, with a note on stderr saying why.
    ``--models a,b`` (commands that have it) fits exactly those models, weights tuned alike.
    """
    from recsys.models import DEFAULT_MODELS, model_class
    from recsys.service.preset import Preset, default_preset, unsuitable_models

    if getattr(args, "preset", None):
        return Preset.read(args.preset)
    chosen = getattr(args, "models", None)
    if chosen:
        names = tuple(dict.fromkeys(m.strip() for m in chosen.split(",") if m.strip()))
        for name in names:
            model_class(name)  # an unknown name is refused with the known ones
        if not names:
            raise ConfigError("--models needs at least one model name.")
        return default_preset(models=names)
    for name, reason in unsuitable_models(DEFAULT_MODELS, dataset).items():
        fits_anyway = model_class(name).size_problem(dataset) is None
        tail = " Name it in a --preset to fit it anyway." if fits_anyway else ""
        sys.stderr.write(
            f"note: {name} is left out of the default preset: {reason.rstrip('.')}.{tail}\n"
        )
    return default_preset(dataset=dataset)


def train_strategy(
    args: argparse.Namespace,
    dataset,
    *,
    stages=None,
    preset=None,
    sampled_validation: bool = False,
):
    """Train the run for ``args`` and return (run, preset) with tuned weights when no preset is given.

    ``stages`` default to ``strategy_stages``; ``sampled_validation`` see ``train_run``.
    """
    from recsys.service.training import train_run

    preset = preset or read_preset(args, dataset)
    if stages is None:
        stages = strategy_stages(args, preset)
    tune = getattr(args, "preset", None) is None and "validation" in stages
    run = train_run(
        dataset,
        preset,
        progress=progress_printer(args),
        stages=stages,
        tune=tune,
        sampled_validation=sampled_validation,
    )
    if tune:
        run.preset.id, run.preset.name = "default-tuned", "Default (weights tuned on validation)"
    return run, run.preset
