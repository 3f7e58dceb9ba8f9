"""Commands for the live store: ``update`` folds new events into a saved run."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from recsys.cli.base import (
    EXIT_OK,
    parse_pairs,
    parse_weights,
    progress_printer,
    register,
    say,
    write_json,
)
from recsys.errors import ConfigError


# --------------------------------------------------------------------------- update
def _add_update(p: argparse.ArgumentParser) -> None:
    p.add_argument("--events", type=Path, required=True, help="CSV of new events to append")
    p.add_argument("--catalog", type=Path, help="catalog CSV of new items (optional)")
    p.add_argument(
        "--run", help="id of the saved run to update (default: the newest run of the workspace)"
    )
    p.add_argument(
        "--workspace",
        type=Path,
        help="workspace folder (default: $FUSION_STUDIO_WORKSPACE, else data/workspace)",
    )
    p.add_argument(
        "--map", action="append", metavar="ROLE=COLUMN", default=[],
        help="column of the new events for a role",
    )  # fmt: skip
    p.add_argument(
        "--event-weight", action="append", metavar="EVENT=W", default=[],
        help="weight of an event type (default: the weights the dataset already uses)",
    )  # fmt: skip
    p.add_argument(
        "--compare-retrain",
        action="store_true",
        help="also retrain the preset from scratch on the grown data and print the time and "
        "held-out metric gap (slow: a full retrain)",
    )
    p.add_argument("--json", type=Path, metavar="OUT", help="also write the report as JSON")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")


def _run_update(args: argparse.Namespace) -> int:
    from recsys.service.incremental import refresh, retrain, retrain_gap, timing_table
    from recsys.service.workspace import Workspace

    workspace = Workspace(args.workspace)
    run_id = args.run
    if run_id is None:
        runs = workspace.list_runs()
        if not runs:
            raise ConfigError("the workspace has no saved run: train one first (Train page).")
        run_id = str(runs[0]["run_id"])
    done = refresh(
        workspace,
        run_id,
        args.events,
        catalog=args.catalog,
        interactions_map=parse_pairs(args.map, "--map"),
        event_weights=parse_weights(args.event_weight),
        progress=progress_printer(args),
    )
    for warning in done.appended.warnings:
        sys.stderr.write(f"warning: {warning}\n")
    report = done.report
    say(
        f"dataset {done.appended.parent_id} + {done.appended.n_events:,} events "
        f"({done.appended.new_users:,} new users, {done.appended.new_items:,} new items) "
        f"-> dataset {done.appended.dataset_id}"
    )
    say(f"run {run_id} updated in {report.seconds['total']:.1f} s -> run {done.run_id}")
    say("incremental: " + (", ".join(report.incremental) or "none"))
    say("full retrain: " + (", ".join(report.retrained) or "none"))
    notes = report.models.groupby("model", sort=False)["note"].last()
    for model, note in notes.items():
        say(f"  {model}: {note}")
    payload = {"dataset_id": done.appended.dataset_id, "run_id": done.run_id, **report.to_dict()}
    if args.compare_retrain:
        full = retrain(done.run, done.appended.dataset, progress=progress_printer(args))
        times = timing_table(report, full)
        gap = retrain_gap(done.run, full)
        say(times.round(3).to_string(index=False))
        say(gap.round(4).to_string(index=False))
        payload["retrain"] = {
            "models": times.to_dict(orient="records"),
            "gap": gap.to_dict(orient="records"),
        }
    if args.json:
        from recsys.jsonable import jsonable

        write_json(args.json, jsonable(payload))
        say(f"report written to {args.json}")
    return EXIT_OK


register("update", "fold new events into a saved run without a full retrain")(
    _add_update, _run_update
)
