"""Streaming batch export: users scored, fused, re-ranked and written block by block.

The full candidate pool of a large store does not fit in memory (1M users x 300 candidates x
3 models is ~8 GB), so ``stream_export`` never builds it: each block of users gets its own
pool (``BlockRanker.table``), its rows are appended to the output, and the block is dropped.
Rows come out in the order of ``users`` and are identical to ``Serving.recommend(...).table()``
over the same users (per-user fusion and re-ranking do not depend on the other users of the
block).

The output is written to a temporary sibling (``.tmp-<name>.<random>``) and renamed at the end
(``atomic.atomic_stream``): a killed export never leaves a file that looks complete, and its
leftovers are removed by the next export to the same path.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pandas as pd

from recsys.errors import ConfigError
from recsys.service.atomic import atomic_stream, remove_leftovers
from recsys.service.blocks import BlockRanker
from recsys.service.export import CSV_LINE_END, FORMATS, needs_protection, safe_frame

#: Users per export block: large enough that per-block overheads vanish, small enough that a
#: block's pool stays in the tens of MB (4096 users x 300 candidates x 3 models ~ 35 MB).
DEFAULT_BLOCK_USERS = 4096

#: ``progress(users_done, users_total, seconds_elapsed)``
ExportProgress = Callable[[int, int, float], None]


@dataclass(frozen=True)
class ExportResult:
    """What an export wrote: the path, row and user counts, wall seconds."""

    path: Path
    rows: int
    users: int
    seconds: float


def user_blocks(users: np.ndarray, block_users: int) -> Iterator[np.ndarray]:
    """Consecutive slices of ``users`` (n,) of at most ``block_users`` each, in order."""
    for start in range(0, len(users), block_users):
        yield users[start : start + block_users]


def output_format(path: Path, fmt: str | None) -> str:
    """``fmt``, or ``parquet`` for a ``.parquet`` path, else ``csv``; checked."""
    fmt = fmt or ("parquet" if path.suffix.lower() == ".parquet" else "csv")
    if fmt not in FORMATS:
        raise ConfigError(f"unknown format '{fmt}'; use one of {', '.join(FORMATS)}.")
    return fmt


class TableWriter:
    """Appends frames with the same columns to one open binary file as CSV or Parquet.

    CSV: the header once (after a UTF-8 BOM with ``excel_bom``), cells made safe exactly as
    ``export.to_csv_bytes`` writes the whole table (``export.safe_frame``: formulas neutralised,
    ids exact; id columns in ``encode`` percent-encoded in every block, so that the header
    holds for all). Parquet: one row group per frame, with ``schema`` (a
    ``pyarrow.Schema``; default: the first frame's), so that parts written apart agree.
    """

    def __init__(
        self,
        f: BinaryIO,
        fmt: str,
        *,
        excel_bom: bool = False,
        schema: Any = None,
        encode: Iterable[str] = (),
    ) -> None:
        self.f, self.fmt, self.excel_bom = f, fmt, excel_bom
        self.encode = frozenset(encode)
        self._header: list[str] | None = None
        self.rows = 0
        self._parquet: Any = None  # pyarrow.parquet.ParquetWriter, opened by the first frame
        self._schema: Any = schema  # pyarrow.Schema; default: the first frame's

    def write(self, frame: pd.DataFrame) -> None:
        """Append ``frame``'s rows."""
        if self.fmt == "csv":
            buffer = io.StringIO()
            safe = safe_frame(frame, encode=self.encode)
            if self._header is None:
                self._header = list(safe.columns)
            elif list(safe.columns) != self._header:
                raise ConfigError(
                    "an id column needs protection in a later block only; export it as Parquet."
                )
            safe.to_csv(buffer, index=False, header=self.rows == 0, lineterminator=CSV_LINE_END)
            first = self.rows == 0 and self.excel_bom
            self.f.write(buffer.getvalue().encode("utf-8-sig" if first else "utf-8"))
        else:
            import pyarrow as pa
            import pyarrow.parquet as pq

            table = pa.Table.from_pandas(frame, preserve_index=False)
            if self._schema is None:
                self._schema = table.schema
            if not table.schema.equals(self._schema, check_metadata=False):
                table = table.cast(self._schema)
            if self._parquet is None:
                self._parquet = pq.ParquetWriter(self.f, self._schema)
            self._parquet.write_table(table)
        self.rows += len(frame)

    def close(self) -> None:
        """Flush and close the file."""
        if self._parquet is not None:
            self._parquet.close()


def stream_export(
    ranker: BlockRanker,
    users: np.ndarray,
    path: str | Path,
    fmt: str | None = None,
    *,
    excel_bom: bool = False,
    block_users: int = DEFAULT_BLOCK_USERS,
    progress: ExportProgress | None = None,
) -> ExportResult:
    """Write the lists of ``users`` (n,) internal indices to ``path``, one block at a time.

    Memory is bounded by one block's pool and table, whatever ``n``. ``block_users`` is
    rounded to a multiple of ``ranker.block_rows`` so that the rows equal those of one pool
    over all ``users``. The file appears at ``path`` only when complete (module docstring).
    """
    path = Path(path)
    fmt = output_format(path, fmt)
    users = np.asarray(users, np.int32)
    if len(users) == 0:
        raise ConfigError("there are no users to export.")
    block_users = ranker.aligned(block_users)
    remove_leftovers(path)
    t0 = time.perf_counter()
    done = 0
    with atomic_stream(path) as f:
        writer = TableWriter(f, fmt, excel_bom=excel_bom, encode=_protected_ids(ranker))
        for block in user_blocks(users, block_users):
            writer.write(ranker.table(block))
            done += len(block)
            if progress is not None:
                progress(done, len(users), time.perf_counter() - t0)
        writer.close()
    return ExportResult(path, writer.rows, len(np.unique(users)), time.perf_counter() - t0)


def _protected_ids(ranker: BlockRanker) -> set[str]:
    """The id columns to percent-encode in every block: those with an id that would run."""
    ids = {"user_id": ranker.dataset.user_ids, "item_id": ranker.dataset.item_ids}
    return {
        column
        for column, id_map in ids.items()
        if needs_protection(pd.Series(id_map.external_ids, dtype=object)).any()
    }


def progress_line(done: int, total: int, seconds: float) -> str:
    """``"120,000/1,000,000 users (12%), 2,400 users/s, about 6 min left"``."""
    rate = done / seconds if seconds > 0 else 0.0
    left = (total - done) / rate if rate > 0 else float("nan")
    return (
        f"{done:,}/{total:,} users ({done / max(total, 1):.0%}), {rate:,.0f} users/s, "
        f"{format_duration(left)} left"
    )


def format_duration(seconds: float) -> str:
    """``"about 40 s"``, ``"about 6 min"``, ``"about 1 h 05 min"`` (``"unknown"`` for NaN)."""
    if not np.isfinite(seconds):
        return "unknown time"
    if seconds < 90:
        return f"about {max(seconds, 0):.0f} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"about {minutes} min"
    return f"about {minutes // 60} h {minutes % 60:02d} min"


__all__ = [
    "DEFAULT_BLOCK_USERS",
    "ExportProgress",
    "ExportResult",
    "TableWriter",
    "format_duration",
    "output_format",
    "progress_line",
    "stream_export",
    "user_blocks",
]
