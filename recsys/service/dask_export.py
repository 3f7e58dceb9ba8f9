"""The export on a Dask cluster: the ranker goes to every worker once, each task writes a part.

``dask_export`` connects to a running scheduler (``tcp://HOST:PORT``, e.g. Dask on Kubernetes or
YARN) or starts a ``LocalCluster`` of worker processes. The fitted models travel inside a slim
``BlockRanker`` scattered to every worker once (``Client.scatter(broadcast=True)``). Users are
cut into parts of whole export blocks; a task scores, fuses, re-ranks and writes its part as
``part-00000.parquet`` (one row group per block) and returns only its row count, so the driver
never holds the scores. Read back in name order the parts are, row for row, the single-machine
export (blocks start on the same pool-build grid, see ``BlockRanker.block_rows``).

Parts are written into ``.tmp-<out>-<random>/`` beside the output and the folder is renamed to
``out`` only when every part is there. Dask re-runs the tasks of a worker that dies
(``distributed.scheduler.allowed-failures`` times); past that the export stops with one line
saying so, and nothing that looks like an output is left. Workers must see the output's
folder (a shared volume on a real cluster) and have this package installed.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from recsys.errors import RecsysError
from recsys.service.atomic import atomic_replace_directory, atomic_stream, remove_leftovers
from recsys.service.batch_export import (
    DEFAULT_BLOCK_USERS,
    ExportProgress,
    ExportResult,
    TableWriter,
    user_blocks,
)
from recsys.service.blocks import BlockRanker

#: Export blocks per part at most (a re-run after a lost worker redoes at most this much).
MAX_BLOCKS_PER_PART = 16
#: Seconds to wait for a scheduler or for workers to appear.
CONNECT_TIMEOUT = 30


class DaskExportError(RecsysError):
    """The cluster could not finish the export (unreachable, workers lost); nothing was written."""


def part_slices(n_users: int, block_users: int, n_workers: int) -> list[slice]:
    """Consecutive slices of ``n_users`` made of whole blocks.

    About 4 parts per worker, at most ``MAX_BLOCKS_PER_PART`` blocks each, at least one each.
    """
    blocks = max(1, math.ceil(n_users / block_users))
    per_part = min(MAX_BLOCKS_PER_PART, max(1, math.ceil(blocks / (4 * max(1, n_workers)))))
    size = per_part * block_users
    return [slice(start, min(start + size, n_users)) for start in range(0, n_users, size)]


def write_part(
    index: int,
    users: np.ndarray,
    ranker: BlockRanker,
    folder: str,
    block_users: int,
    schema: Any,
    after_part: Callable[[int], None] | None = None,
) -> tuple[int, int, int]:
    """On a worker: write part ``index`` (``users`` in blocks) into ``folder``.

    Returns ``(index, rows, users)``. The part is written under a temporary name and renamed,
    so a part file is always whole. ``after_part(index)`` runs after the rename (a hook for
    tests and monitoring).
    """
    path = Path(folder) / f"part-{index:05d}.parquet"
    with atomic_stream(path, make_parent=False) as f:  # the export may have been abandoned
        writer = TableWriter(f, "parquet", schema=schema)
        for block in user_blocks(users, block_users):
            writer.write(ranker.table(block))
        writer.close()
    if after_part is not None:
        after_part(index)
    return index, writer.rows, len(users)


def dask_export(
    ranker: BlockRanker,
    users: np.ndarray,
    out: str | Path,
    *,
    scheduler: str | None = None,
    local_workers: int | None = None,
    block_users: int = DEFAULT_BLOCK_USERS,
    progress: ExportProgress | None = None,
    retries: int = 1,
    after_part: Callable[[int], None] | None = None,
) -> ExportResult:
    """Write the lists of ``users`` (n,) internal indices as Parquet parts in the folder ``out``.

    Parameters
    ----------
    scheduler : address of a running Dask scheduler; else ``local_workers`` processes are
        started here (a ``LocalCluster``, one thread each).
    block_users : users per block, rounded to a multiple of ``ranker.block_rows``.
    retries : Dask re-runs of a task that raised (a lost worker is handled by Dask itself).
    after_part : run on the worker after each part is written (tests, monitoring).
    """
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError as exc:  # pragma: no cover - pinned in requirements
        raise RecsysError("Dask is not installed: pip install 'dask[distributed]'.") from exc
    out = Path(out)
    users = np.asarray(users, np.int32)
    if len(users) == 0:
        raise RecsysError("there are no users to export.")
    if scheduler is None and not (local_workers and local_workers >= 1):
        raise RecsysError("give a scheduler address or a number of local workers (at least 1).")
    block_users = ranker.aligned(block_users)
    remove_leftovers(out)
    t0 = time.perf_counter()
    cluster = client = None
    try:
        try:
            if scheduler is None:
                cluster = LocalCluster(
                    n_workers=local_workers,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=":0",
                    silence_logs=logging.ERROR,
                )
            client = Client(cluster if cluster is not None else scheduler, timeout=CONNECT_TIMEOUT)
            client.wait_for_workers(1, timeout=CONNECT_TIMEOUT)
        except Exception as err:
            where = scheduler or f"a local cluster of {local_workers} workers"
            raise DaskExportError(
                f"could not start or reach the Dask cluster ({where}): {_first_line(err)}"
            ) from err
        n_workers = len(client.scheduler_info()["workers"])
        schema = _schema(ranker, users[: ranker.block_rows])
        parts = part_slices(len(users), block_users, n_workers)
        rows = 0
        with atomic_replace_directory(out) as tmp:
            shared = client.scatter(ranker.slim(pool_jobs=1), broadcast=True, hash=False)
            futures = [
                client.submit(
                    write_part,
                    i,
                    users[part],
                    shared,
                    str(tmp),
                    block_users,
                    schema,
                    after_part,
                    retries=retries,
                    pure=False,
                    key=f"recsys-export-{tmp.name}-{i}",
                )  # fmt: skip
                for i, part in enumerate(parts)
            ]
            try:
                done = 0
                for future in as_completed(futures):
                    _, part_rows, part_users = future.result()
                    rows += part_rows
                    done += part_users
                    if progress is not None:
                        progress(done, len(users), time.perf_counter() - t0)
            except BaseException:
                client.cancel(futures)  # before the folder is removed
                raise
            for leftover in tmp.glob(".tmp-*"):  # of a part whose worker died mid-write
                leftover.unlink(missing_ok=True)
    except RecsysError:
        raise
    except Exception as err:
        raise DaskExportError(_explain(err, out)) from err
    finally:
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()
    return ExportResult(out, rows, len(np.unique(users)), time.perf_counter() - t0)


def _schema(ranker: BlockRanker, first: np.ndarray):
    """The Parquet schema every part is written with: the one of the first block's table."""
    import pyarrow as pa

    return pa.Table.from_pandas(ranker.table(first), preserve_index=False).schema


def _explain(err: Exception, out: Path) -> str:
    """One plain line for a failure while the parts were written."""
    kind = type(err).__name__
    if kind == "KilledWorker":
        what = "Dask workers kept dying while writing a part (out of memory, or killed)"
    elif "Cancelled" in kind:  # e.g. every worker died and the models sent to them were lost
        what = "the Dask cluster lost its workers or cancelled the export"
    else:
        what = f"the Dask export failed ({kind}: {_first_line(err)})"
    return f"{what}; nothing was written to {out}."


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


__all__ = ["DaskExportError", "dask_export", "part_slices", "write_part"]
