"""Peak memory of reading an uploaded interaction log, the way the app and the CLI do it.

Writes a seeded interaction log of ``--mb`` megabytes (``user_id, item_id, event, timestamp,
quantity``, as the demo store's, about 41 bytes a row), then measures in a fresh child process
each:

* ``app``: the Data page's path. The upload's bytes are in memory (Streamlit holds them), the
  page reads the file for its column pickers and preview (``ui.data_upload._read_columns``),
  then *Check and save* runs ``load_dataset`` on the bytes and saves the dataset into a
  temporary workspace.
* ``cli``: ``python -m recsys validate --interactions FILE`` (``recsys.cli.main``).

Each child imports what it needs, resets its peak-RSS mark (``/proc/self/clear_refs``), takes
its baseline RSS, does the work and reports its peak RSS (``VmHWM``). The ratio is
``(peak - baseline) / file size``: what the upload costs on top of a running process, the
uploaded bytes included. ``--where`` also samples the RSS every 10 ms and prints the Python
stack at the peak (to find which step holds the most).

Run from the project root: ``python scripts/upload_memory.py [--mb 256] [--keep DIR]``.
Exit code 1 when a ratio is above ``--max-ratio`` (default 4).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MB = 2**20
EVENTS = ("view", "view", "view", "view", "cart", "favorite", "purchase")


def write_log(path: Path, n_bytes: int, seed: int = 0) -> int:
    """Write a seeded interaction log of about ``n_bytes``; returns its data rows."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    block, rows, written = 500_000, 0, 0
    start = np.datetime64("2024-01-01T00:00:00")
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        fh.write("user_id,item_id,event,timestamp,quantity\n")
        while written < n_bytes:
            users = rng.zipf(1.3, block) % 200_000
            items = rng.zipf(1.2, block) % 20_000
            frame = pd.DataFrame(
                {
                    "user_id": pd.Series(users).map("U{:06d}".format),
                    "item_id": pd.Series(items).map("{:05d}".format),
                    "event": np.asarray(EVENTS, dtype=object)[rng.integers(0, len(EVENTS), block)],
                    "timestamp": (start + rng.integers(0, 365 * 86400, block)).astype(str),
                    "quantity": rng.integers(1, 4, block),
                }
            )
            text = frame.to_csv(index=False, header=False, lineterminator="\n")
            fh.write(text)
            written += len(text)
            rows += block
    return rows


def _status(field: str) -> int:
    """A ``/proc/self/status`` figure in bytes."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {field} line")


def _reset_peak() -> bool:
    """Reset this process's peak-RSS mark (Linux 4.0+); False when not allowed."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


class _Where(threading.Thread):
    """Samples the RSS; keeps the main thread's stack at the highest sample."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.top, self.stack, self.done = 0, "", False
        self.main = threading.main_thread().ident

    def run(self) -> None:
        while not self.done:
            rss = _status("VmRSS")
            if rss > self.top:
                frame = sys._current_frames().get(self.main)
                self.top = rss
                self.stack = "".join(traceback.format_stack(frame)[-12:]) if frame else ""
                del frame  # a kept frame would keep its locals (the upload's bytes) alive
            time.sleep(0.01)


def child(mode: str, path: Path, where: bool) -> dict:
    """Measure one path in this (fresh) process; returns the figures."""
    import gc

    from recsys.cli import main as cli_main
    from recsys.data.ingest import load_dataset
    from recsys.service.workspace import Workspace
    from ui.data_upload import _read_columns

    gc.collect()
    exact = _reset_peak()
    baseline = _status("VmRSS")
    sampler = _Where() if where else None
    if sampler:
        sampler.start()
    t0 = time.perf_counter()
    if mode == "app":
        data = path.read_bytes()  # what Streamlit holds once the upload has arrived
        columns = _read_columns("digest", data, path.name)[0]
        result = load_dataset(data, interactions_name=path.name, name="upload")
        with tempfile.TemporaryDirectory() as tmp:
            Workspace(tmp).save_dataset("upload", result.events, result.catalog, {})
        n_rows = result.report.n_events
        del result, data
    else:
        code = cli_main(["validate", "--interactions", str(path)])
        if code:
            raise SystemExit(f"validate exited {code}")
        columns, n_rows = [], -1
    seconds = time.perf_counter() - t0
    if sampler:
        sampler.done = True
        sampler.join()
    peak = _status("VmHWM") if exact else 0
    if not exact:  # ru_maxrss: the process's peak since it started (KB on Linux)
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    out = {
        "mode": mode,
        "baseline": baseline,
        "peak": peak,
        "seconds": round(seconds, 1),
        "rows": n_rows,
        "columns": len(columns),
        "exact": exact,
    }
    if sampler:
        out["where"] = sampler.stack
    return out


def main(argv: list[str] | None = None) -> int:
    """Write the log, measure both paths in child processes, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mb", type=float, default=256.0, help="log size in MB (default 256)")
    parser.add_argument("--keep", type=Path, help="folder for the log (reused if present)")
    parser.add_argument("--modes", default="app,cli", help="app, cli or both (default)")
    parser.add_argument("--max-ratio", type=float, default=4.0)
    parser.add_argument("--where", action="store_true", help="print the stack at the peak")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.file, args.where)))
        return 0

    folder = args.keep or Path(tempfile.mkdtemp(prefix="upload-memory-"))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"interactions_{args.mb:g}mb.csv"
    if not path.exists():
        write_log(path, int(args.mb * MB))
    size = path.stat().st_size
    print(f"file: {path} ({size / MB:,.1f} MB)")
    worst = 0.0
    for mode in args.modes.split(","):
        cmd = [sys.executable, __file__, "--child", mode, "--file", str(path)]
        if args.where:
            cmd.append("--where")
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
        if done.returncode:
            print(done.stdout, done.stderr, sep="\n")
            return 2
        fig = json.loads(done.stdout.strip().splitlines()[-1])
        ratio = (fig["peak"] - fig["baseline"]) / size
        worst = max(worst, ratio)
        print(
            f"{mode}: baseline {fig['baseline'] / MB:,.0f} MB, peak {fig['peak'] / MB:,.0f} MB, "
            f"peak - baseline {(fig['peak'] - fig['baseline']) / MB:,.0f} MB = {ratio:.2f}x the "
            f"file; {fig['seconds']} s" + ("" if fig["exact"] else " (peak since start)")
        )
        if fig.get("where"):
            print(fig["where"])
    if not args.keep:
        path.unlink()
    return 1 if worst > args.max_ratio else 0


if __name__ == "__main__":
    raise SystemExit(main())
