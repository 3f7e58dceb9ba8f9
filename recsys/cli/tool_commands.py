"""Tool commands: ``bench``, the speed benchmark (see ``recsys.bench``)."""

from __future__ import annotations

import argparse
from pathlib import Path

from recsys.cli.base import register
from recsys.errors import ConfigError


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
