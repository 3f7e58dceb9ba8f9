"""Commands on data files: ``demo-data`` writes the demo store, ``validate`` checks a log."""

from __future__ import annotations

import argparse
from pathlib import Path

from recsys.cli.base import (
    EXIT_OK,
    add_user_arguments,
    parse_pairs,
    parse_weights,
    register,
    say,
    write_json,
)
from recsys.errors import ConfigError


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
    say(f"wrote {catalog_path}")
    say(f"wrote {interactions_path}")
    say(f"wrote {interactions_path.parent / 'users.csv'}")
    return EXIT_OK


register("demo-data", "write a seeded demo store (catalog.csv, interactions.csv, users.csv)")(
    _add_demo_data, _run_demo_data
)


# --------------------------------------------------------------------------- validate
def _add_validate(p: argparse.ArgumentParser) -> None:
    p.add_argument("--interactions", type=Path, help="interaction log CSV (one row per event)")
    p.add_argument("--catalog", type=Path, help="catalog CSV (one row per item)")
    add_user_arguments(p)
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
        partial = getattr(err, "report", None)
        if partial is not None and args.json:
            write_json(args.json, partial.to_dict())
        if partial is not None and partial.files:
            say(partial.to_text())
        raise
    say(report.to_text())
    if args.json:
        write_json(args.json, report.to_dict())
        say(f"report written to {args.json}")
    return EXIT_OK


register("validate", "read interactions (+ catalog) and print the data-readiness report")(
    _add_validate, _run_validate
)
