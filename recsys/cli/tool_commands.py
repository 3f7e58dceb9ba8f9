"""Tool commands: ``bench``, ``hash-password``.

The speed benchmark (``recsys.bench``); with ``--quality``, the accuracy benchmark
(``recsys.quality_bench``); with ``--update``, the incremental-update benchmark
(``recsys.update_bench``); the salted hash of a team password for ``.streamlit/secrets.toml``
(``recsys.service.access``).
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable
from pathlib import Path

from recsys.cli.base import EXIT_OK, register, say, write_json
from recsys.errors import ConfigError


def _add_bench(p: argparse.ArgumentParser) -> None:
    p.add_argument("--sizes", default="default,medium", help="comma list of default, medium, large")
    p.add_argument("--models", default=None, help="comma list of model names")
    p.add_argument("--interactions", type=Path, help="also benchmark this CSV")
    p.add_argument("--catalog", type=Path)
    p.add_argument("--no-naive", action="store_true", help="skip the per-pair predict loop")
    p.add_argument(
        "--quality",
        action="store_true",
        help="accuracy benchmark instead: every model, the blend, learning to rank and the "
        "default on held-out data (the demo store, plus --interactions/--catalog if given)",
    )
    p.add_argument("--json", type=Path, metavar="OUT", help="(--quality) also write JSON")
    p.add_argument(
        "--preset", type=Path, help="(--quality) benchmark this preset instead of the default"
    )
    p.add_argument(
        "--no-demo", action="store_true", help="(--quality) only the given log, not the demo store"
    )
    p.add_argument(
        "--update",
        action="store_true",
        help="incremental-update benchmark instead: fold the newest events of the demo store (or "
        "of --interactions/--catalog) into a trained run of the default preset (or of --models) "
        "and compare with a full retrain (time and held-out metrics)",
    )
    p.add_argument(
        "--fraction", type=float, default=0.01, help="(--update) share of newest events (0.01)"
    )


def _run_bench(args: argparse.Namespace) -> int:
    if args.quality:
        return _run_quality(args)
    if args.update:
        from recsys import update_bench

        models = tuple(m.strip() for m in args.models.split(",")) if args.models else None
        return update_bench.main(
            args.fraction,
            write=say,
            models=models,
            interactions=args.interactions,
            catalog=args.catalog,
        )
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
        write=say,
    )


def _run_quality(args: argparse.Namespace) -> int:
    from recsys import quality_bench
    from recsys.data.dataset import Dataset
    from recsys.data.ingest import load_dataset
    from recsys.service.preset import Preset

    def log() -> Dataset:
        name = args.interactions.parent.name or args.interactions.stem
        return load_dataset(args.interactions, args.catalog, name=name).dataset

    sources: list[tuple[str, Callable[[], Dataset]]] = []
    if not args.no_demo:
        sources.append(("demo store", quality_bench.demo_source))
    if args.interactions is not None:
        sources.append((args.interactions.parent.name or args.interactions.stem, log))
    if not sources:
        raise ConfigError("--no-demo needs --interactions FILE.")
    preset = Preset.read(args.preset) if args.preset else None
    results = quality_bench.run_benchmark(sources, say, preset)
    if args.json:
        write_json(args.json, {"results": [quality_bench.result_dict(r) for r in results]})
        say(f"results written to {args.json}")
    return EXIT_OK


register("bench", "speed benchmark: fit, score, top-k, fusion, memory (prints figures)")(
    _add_bench, _run_bench
)


def _add_hash_password(p: argparse.ArgumentParser) -> None:
    p.add_argument("--user", default="team", help="the login name the line is for (default: team)")
    p.add_argument(
        "--stdin",
        action="store_true",
        help="read the password from the first line of stdin instead of asking twice",
    )


def _run_hash_password(args: argparse.Namespace) -> int:
    from recsys.service.access import MIN_PASSWORD_LENGTH, hash_password

    user = str(args.user).strip()
    if not user or any(c in user for c in '"= \t\n'):
        raise ConfigError("--user must be one word without quotes, '=' or spaces.")
    if args.stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != password:
            raise ConfigError("the two passwords differ; nothing was printed.")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ConfigError(f"use a password of at least {MIN_PASSWORD_LENGTH} characters.")
    say("# add to .streamlit/secrets.toml (the password itself is not stored):")
    say("[passwords]")
    say(f'{user} = "{hash_password(password)}"')
    return EXIT_OK


register(
    "hash-password",
    "print the salted hash of a team password for .streamlit/secrets.toml [passwords]",
)(_add_hash_password, _run_hash_password)
