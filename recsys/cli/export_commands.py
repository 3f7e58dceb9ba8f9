"""``export``: train a strategy and stream top-k lists for every user (one machine or Dask)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from recsys.cli.base import (
    EXIT_OK,
    add_data_arguments,
    load_data,
    read_preset,
    register,
    say,
    train_strategy,
)
from recsys.errors import ConfigError


def _add_export(p: argparse.ArgumentParser) -> None:
    add_data_arguments(p, users_flag=False)  # export's --users lists user ids
    p.add_argument("--k", type=int, default=20, help="list length (default 20)")
    p.add_argument(
        "--out", type=Path, required=True, help="output file (a folder of parts with Dask)"
    )
    p.add_argument(
        "--format", choices=("csv", "parquet"), help="default: from the file suffix, else csv"
    )
    p.add_argument(
        "--excel", action="store_true", help="UTF-8 with BOM so Excel shows Chinese text"
    )
    p.add_argument("--users", nargs="*", help="only these user ids")
    p.add_argument(
        "--block-users", type=int, default=None, metavar="N",
        help="users scored and written at once (default 4096; lower it to save memory)",
    )  # fmt: skip
    p.add_argument(
        "--full-validation", action="store_true",
        help="build the validation pool on every held-out user, not the lab's 5,000-user sample "
        "(only a learned fuser's training changes; costs memory and time on large stores)",
    )  # fmt: skip
    p.add_argument(
        "--pseudonymise", action="store_true",
        help="replace user ids by HMAC-SHA-256 pseudonyms (key in the workspace secrets); the "
        "mapping is written next to the output as <out>.mapping.csv: keep it local",
    )  # fmt: skip
    p.add_argument("--workspace", type=Path, help="workspace whose key pseudonymises (default)")
    p.add_argument(
        "--models", metavar="A,B",
        help="fit only these models (weights still tuned on validation); not with --preset",
    )  # fmt: skip
    p.add_argument(
        "--strategy", choices=("auto", "blend"), default="auto",
        help="auto: the blend, learning to rank or one model, whichever wins on validation; "
        "blend: the tuned blend (learning to rank left out, faster at scale)",
    )  # fmt: skip
    p.add_argument(
        "--time-budget", type=float, metavar="MINUTES",
        help="when the whole run is estimated to take longer, say which models to leave out "
        "(default: recsys.service.memory.EXPORT_MINUTES, 30)",
    )  # fmt: skip
    dask = p.add_mutually_exclusive_group()
    dask.add_argument(
        "--scheduler", metavar="ADDRESS",
        help="score and write on an existing Dask cluster (tcp://HOST:PORT); Parquet parts",
    )  # fmt: skip
    dask.add_argument(
        "--dask-local", type=int, metavar="N",
        help="score and write on a local Dask cluster of N worker processes; Parquet parts",
    )  # fmt: skip


def _run_export(args: argparse.Namespace) -> int:
    import numpy as np

    from recsys.service.batch_export import DEFAULT_BLOCK_USERS, output_format, stream_export
    from recsys.service.blocks import BlockRanker

    if not 1 <= args.k <= 1000:
        raise ConfigError("--k must be between 1 and 1000.")
    block_users = args.block_users or DEFAULT_BLOCK_USERS
    if block_users < 1:
        raise ConfigError("--block-users must be at least 1.")
    distributed = args.scheduler is not None or args.dask_local is not None
    fmt = output_format(args.out, args.format)
    if distributed and fmt != "parquet":
        raise ConfigError("a Dask export writes Parquet parts: use --format parquet.")
    if args.models and args.preset:
        raise ConfigError("give either --models or --preset, not both.")
    started = time.perf_counter()
    dataset = load_data(args)
    asked = read_preset(args, dataset)
    _advise_time(args, dataset, asked, time.perf_counter() - started)
    run, preset = train_strategy(
        args, dataset, preset=asked, sampled_validation=not args.full_validation
    )
    preset = _apply_strategy(args, run, preset, asked.fusion.method)
    rerank_cfg = preset.rerank.__class__.from_dict({**preset.rerank.to_dict(), "k": args.k})
    ranker = BlockRanker.from_run(run, preset.fusion, rerank_cfg, columns={"preset_id": preset.id})
    if args.users is None:
        users = np.arange(dataset.n_users, dtype=np.int32)
    else:
        users = run.internal_users(args.users)
    if args.pseudonymise:
        ranker = _pseudonymised(ranker, users, args)
    progress = None if args.quiet else _export_progress()
    if distributed:
        from recsys.service.dask_export import dask_export

        result = dask_export(
            ranker,
            users,
            args.out,
            scheduler=args.scheduler,
            local_workers=args.dask_local,
            block_users=block_users,
            progress=progress,
        )
    else:
        result = stream_export(
            ranker,
            users,
            args.out,
            fmt,
            excel_bom=args.excel,
            block_users=block_users,
            progress=progress,
        )
    weights = ", ".join(f"{m}={preset.fusion.weight(m):.2f}" for m in preset.models)
    say(
        f"wrote {result.rows:,} rows for {result.users:,} users to {result.path} "
        f"(preset '{preset.id}', fusion {preset.fusion.method}, weights {weights})"
    )
    return EXIT_OK


def _advise_time(args: argparse.Namespace, dataset, preset, reading: float) -> None:
    """Print one line on stderr when the export is estimated to exceed ``--time-budget``.

    The line names the models (and learning to rank) to leave out and the options to pass
    (``recsys.service.memory.time_advice``); the export then goes on as asked.
    """
    from recsys.cli.base import strategy_stages
    from recsys.ranking.candidates import default_jobs
    from recsys.ranking.fusion import FUSERS
    from recsys.service.memory import EXPORT_MINUTES, time_advice

    budget = EXPORT_MINUTES if args.time_budget is None else args.time_budget
    if not budget > 0:
        raise ConfigError("--time-budget must be a positive number of minutes.")
    stages = strategy_stages(args, preset)
    tuned = args.preset is None
    ltr = FUSERS[preset.fusion.method].needs_training or (tuned and args.strategy == "auto")
    users = dataset.n_users if args.users is None else len(args.users)
    advice = time_advice(
        budget,
        dict(preset.models),
        ltr,
        n_users=users,
        n_items=dataset.n_items,
        n_pairs=len(dataset.interactions),
        reading=reading,
        validation="validation" in stages,
        cores=default_jobs(),
        test_fraction=float(preset.split.get("test_fraction", 0.2)),
    )
    if advice is not None:
        what = "this preset" if args.preset or args.models else "the default preset"
        sys.stderr.write(advice.line(budget, what) + "\n")


def _apply_strategy(args: argparse.Namespace, run, preset, blend_method: str):
    """With ``--strategy blend``, the tuned blend (``blend_method``) where learning to rank won."""
    from dataclasses import replace

    from recsys.ranking.fusion import FUSERS

    choice = run.strategy_choice
    if args.strategy != "blend" or not FUSERS[preset.fusion.method].needs_training:
        return preset
    if choice is None:
        raise ConfigError("--strategy blend needs tuned weights: leave out --preset.")
    blend = replace(preset.fusion, method=blend_method, weights=dict(choice.blend_weights))
    return preset.with_fusion(blend)


def _pseudonymised(ranker, users, args: argparse.Namespace):
    """The ranker with the workspace key; the local mapping written next to the output."""
    import dataclasses

    from recsys.data.privacy import mapping
    from recsys.service.export import write_table
    from recsys.service.pseudonyms import MAPPING_MODE, workspace_key
    from recsys.service.workspace import Workspace

    key = workspace_key(Workspace(args.workspace))
    local = args.out.with_name(args.out.name + ".mapping.csv")
    ids = ranker.dataset.user_ids.to_external(users)
    write_table(mapping(ids, key), local, "csv", mode=MAPPING_MODE)
    say(f"wrote the re-identification mapping to {local} (keep it local)")
    return dataclasses.replace(ranker, pseudonym_key=key)


def _export_progress():
    """A progress printer for the export: a line every ~5 s and at the end, on stderr."""
    from recsys.service.batch_export import progress_line

    last = [-float("inf")]

    def report(done: int, total: int, seconds: float) -> None:
        now = time.monotonic()
        if done >= total or now - last[0] >= 5.0:
            last[0] = now
            sys.stderr.write(f"[export] {progress_line(done, total, seconds)}\n")

    return report


register("export", "train, fuse and write top-k recommendations for every user")(
    _add_export, _run_export
)
