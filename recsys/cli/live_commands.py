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


# --------------------------------------------------------------------------- abtest
def _add_abtest(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    a = sub.add_parser("assign", help="split users into variants by a salted hash of the id")
    a.add_argument("--users", type=Path, required=True, help="CSV with a user id column")
    a.add_argument("--variants", default="A,B", help="variant names, comma separated (A,B)")
    a.add_argument("--shares", help="shares in the order of --variants, e.g. 50,50 (equal)")
    a.add_argument("--salt", default=None, help="the experiment's salt (default: fusion-studio)")
    a.add_argument("--stratify", metavar="COLUMN", help="split every value of this column evenly")
    a.add_argument("--out", type=Path, required=True, help="assignment CSV to write")
    r = sub.add_parser("analyse", help="per-variant CTR, conversion, revenue, lift, significance")
    r.add_argument("--outcomes", type=Path, required=True, help="outcomes CSV (one row per user)")
    r.add_argument("--assignment", type=Path, help="assignment CSV: users without outcomes = 0")
    r.add_argument("--control", help="control variant (default: the first in sorted order)")
    r.add_argument(
        "--shares", help="planned shares for the sample-ratio check, e.g. A=50,B=50 (equal)"
    )
    r.add_argument("--alpha", type=float, default=0.05, help="significance level (0.05)")
    r.add_argument("--power", type=float, default=0.8, help="power for the MDE (0.8)")
    r.add_argument("--bootstrap", type=int, default=2000, help="bootstrap resamples (2000)")
    r.add_argument("--json", type=Path, metavar="OUT", help="also write the analysis as JSON")
    s = sub.add_parser("size", help="users needed per variant to detect a relative lift")
    s.add_argument("--baseline", type=float, required=True, help="control rate (or mean)")
    s.add_argument("--lift", type=float, required=True, help="relative lift, 0.05 = +5 %%")
    s.add_argument(
        "--metric", choices=("conversion", "ctr", "revenue_per_user"), default="conversion"
    )
    s.add_argument("--sd", type=float, help="standard deviation (revenue_per_user)")
    s.add_argument("--alpha", type=float, default=0.05)
    s.add_argument("--power", type=float, default=0.8)
    s.add_argument("--variants", type=int, default=2, help="number of variants (2)")


def _numbers(text: str | None, what: str) -> list[float] | None:
    if not text:
        return None
    try:
        return [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise ConfigError(f"{what} must be numbers separated by commas, got '{text}'.") from None


def _run_abtest(args: argparse.Namespace) -> int:
    return {"assign": _abtest_assign, "analyse": _abtest_analyse, "size": _abtest_size}[
        args.action
    ](args)


def _abtest_assign(args: argparse.Namespace) -> int:
    from recsys.data.column_roles import resolve_mapping
    from recsys.data.csv_reader import read_csv_bytes
    from recsys.evaluation.abtest import DEFAULT_SALT, assign
    from recsys.service.export import write_table

    raw = read_csv_bytes(args.users.read_bytes(), args.users.name)
    user = resolve_mapping(list(raw.frame.columns), "users", None, raw.file_name)["user"]
    segments = None
    if args.stratify:
        if args.stratify not in raw.frame.columns:
            raise ConfigError(
                f"--stratify {args.stratify}: no such column in {raw.file_name}; columns: "
                + ", ".join(raw.frame.columns)
                + "."
            )
        segments = raw.frame[args.stratify]
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    table = assign(
        raw.frame[user],
        variants,
        _numbers(args.shares, "--shares"),
        salt=args.salt or DEFAULT_SALT,
        segments=segments,
    )
    write_table(table, args.out, "csv")
    counts = table["variant"].value_counts()
    say(
        f"wrote {len(table):,} users to {args.out}: "
        + ", ".join(f"{v}: {int(counts.get(v, 0)):,}" for v in variants)
    )
    return EXIT_OK


def _abtest_analyse(args: argparse.Namespace) -> int:
    from recsys.evaluation.abtest import analyse
    from recsys.evaluation.outcomes import read_assignment, read_outcomes

    plan = read_assignment(args.assignment) if args.assignment else None
    outcomes = read_outcomes(args.outcomes, assignment=plan)
    shares = {k: float(v) for k, v in parse_pairs(_split(args.shares), "--shares").items()}
    result = analyse(
        outcomes,
        control=args.control,
        shares=shares or None,
        alpha=args.alpha,
        power=args.power,
        bootstrap_draws=args.bootstrap,
    )
    say(result.variants.round(4).to_string(index=False))
    say("")
    shown = ["variant", "metric", "test", "lift", "lift_low", "lift_high", "p_value"]
    say(result.comparisons[[*shown, "significant", "mde_relative"]].round(4).to_string(index=False))
    srm = result.srm
    verdict = "MISMATCH: do not trust the results" if srm["mismatch"] else "ok"
    say(f"sample ratio: {srm['counts']} chi2={srm['chi2']:.2f} p={srm['p_value']:.4f} ({verdict})")
    for note in result.notes:
        say(f"note: {note}")
    if args.json:
        write_json(args.json, result.to_dict())
        say(f"analysis written to {args.json}")
    return EXIT_OK


def _split(text: str | None) -> list[str]:
    return [x for x in (text or "").split(",") if x.strip()]


def _abtest_size(args: argparse.Namespace) -> int:
    from recsys.evaluation.abtest import plan_sample_size

    plan = plan_sample_size(
        args.baseline,
        args.lift,
        metric=args.metric,
        sd=args.sd,
        alpha=args.alpha,
        power=args.power,
        variants=args.variants,
    )
    say(
        f"{plan['per_arm']:,} users per variant ({plan['total']:,} in all) to detect a "
        f"{args.lift:+.1%} lift of {args.metric} from {args.baseline:g} "
        f"(alpha {args.alpha:g}, power {args.power:g})"
    )
    return EXIT_OK


register("abtest", "online A/B test: assign users to variants, analyse outcomes, sample size")(
    _add_abtest, _run_abtest
)


# --------------------------------------------------------------------------- forget
def _add_forget(p: argparse.ArgumentParser) -> None:
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--user", nargs="+", metavar="ID", help="user ids to delete")
    who.add_argument("--file", type=Path, help="CSV of user ids to delete (a user id column)")
    p.add_argument(
        "--workspace",
        type=Path,
        help="workspace folder (default: $FUSION_STUDIO_WORKSPACE, else data/workspace)",
    )


def _run_forget(args: argparse.Namespace) -> int:
    from recsys.service.forget import forget_users, read_user_ids
    from recsys.service.workspace import Workspace

    ids = read_user_ids(args.file) if args.file else list(args.user)
    done = forget_users(Workspace(args.workspace), ids)
    say(
        f"{done.found:,} of {done.requested:,} users found; "
        f"{sum(done.events_removed.values()):,} events removed from "
        f"{len(done.events_removed):,} dataset(s); {len(done.stale_runs):,} run(s) marked stale "
        "(retrain or delete them)"
    )
    return EXIT_OK


register("forget", "delete users' events from every dataset (right to be forgotten)")(
    _add_forget, _run_forget
)


# --------------------------------------------------------------------------- search
def _add_search(p: argparse.ArgumentParser) -> None:
    from recsys.cli.base import add_data_arguments

    add_data_arguments(p, users_flag=False)
    p.add_argument("--user", required=True, help="the shopper the results are personalised for")
    p.add_argument("--query", required=True, help="search text (any language)")
    p.add_argument(
        "--weight", type=float, default=0.5, help="personalisation weight in [0, 1] (0.5)"
    )
    p.add_argument("--k", type=int, default=10, help="results shown (10)")


def _run_search(args: argparse.Namespace) -> int:
    from recsys.cli.base import load_data, train_strategy
    from recsys.service.searching import search_for_user

    if not 0 <= args.weight <= 1:
        raise ConfigError("--weight must lie between 0 and 1.")
    dataset = load_data(args)
    run, preset = train_strategy(args, dataset, stages=("full",))
    table = search_for_user(run, args.user, args.query, args.weight, k=args.k, fusion=preset.fusion)
    if table.empty:
        say(f"no item matches '{args.query}'")
        return EXIT_OK
    shown = [c for c in ("item_id", "title", "brand", "category") if c in table.columns]
    say(table[[*shown, "plain_rank", "personal_rank", "moved"]].to_string(index=False))
    return EXIT_OK


register("search", "search the catalog for a query, personalised for one shopper")(
    _add_search, _run_search
)
