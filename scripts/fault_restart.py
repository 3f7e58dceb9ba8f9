"""Fault test: the server killed (SIGKILL) during a training, then restarted.

Seeds a workspace with the fast demo store and one trained run, starts the studio
(``python -m ui.serve``), presses Train in a headless-Chromium session and, once the worker
reports progress, kills the server process with SIGKILL. Then it checks, and prints:

* the worker process exits by itself (it watches its server) and saves nothing;
* what the kill left on disk (temporary ``.tmp-`` folders, the job still marked running);
* after a restart on the same workspace: the earlier run is listed and loads, no half-written
  run is listed (nor reported invalid), the leftovers are gone, and the interrupted job is
  reported as stopped, in the job's state and on the Train page.

``--at saving`` kills it when the worker starts saving the run instead (the save is atomic:
the run is then either complete or absent). ``--at export`` kills it during an export on the
Export page instead (pseudonymised user ids, whose mapping the server writes to the
workspace's ``exports/``), at several moments after the export starts, restarting each time:
every mapping file left is complete, no temporary file remains after a restart, the run loads.
Run from the project root: ``python scripts/fault_restart.py [--at training|saving|export]``.
Exit status 1 when a check fails.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from browser_app import idle, running_app, seed_workspace  # noqa: E402
from browser_setup import LAUNCH_ARGS, find_chromium  # noqa: E402


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie (exited, not yet reaped) is not alive
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def _job(ws: Path) -> tuple[Path, dict, dict]:
    """The newest job's folder, state and progress."""
    folders = sorted((ws / "jobs").glob("*/state.json"))
    if not folders:
        return ws, {}, {}
    folder = folders[-1].parent

    def read(name: str) -> dict:
        try:
            return json.loads((folder / name).read_text())
        except (OSError, ValueError):
            return {}

    return folder, read("state.json"), read("progress.json")


def _leftovers(ws: Path) -> list[str]:
    return sorted(p.name for sub in ("runs", "datasets") for p in (ws / sub).glob(".tmp-*"))


def _exports(ws: Path) -> tuple[list[str], list[str]]:
    """``(complete mapping files, temporary leftovers)`` in the workspace's ``exports/``."""
    import pandas as pd

    folder = ws / "exports"
    if not folder.is_dir():
        return [], []
    complete, leftovers = [], []
    for path in sorted(folder.iterdir()):
        if path.name.startswith("."):
            leftovers.append(path.name)
            continue
        frame = pd.read_csv(path, dtype=str)  # a partial file would miss rows or columns
        if {"pseudonym", "original"} <= set(frame.columns) and len(frame) == 600:
            complete.append(path.name)
    return complete, leftovers


def kill_during_exports(ws: Path, browser, query: str, delays: list[float]) -> dict[str, bool]:
    """Kill the server ``delay`` s after ticking pseudonymised ids on Export, restart, check."""
    from recsys.service.persistence import load_run
    from recsys.service.workspace import Workspace

    checks: dict[str, bool] = {}
    ds_id, run_id = query.split("ds=")[1].split("&run=")
    for delay in delays:
        with running_app(ws, log_name="streamlit-fault-export.log") as (url, proc):
            page = browser.new_page()
            page.goto(url + "/export" + query, wait_until="domcontentloaded")
            box = page.get_by_text("Pseudonymise user ids")
            box.wait_for(timeout=180_000)
            page.get_by_role("button", name="Download CSV").wait_for(timeout=180_000)
            idle(page)
            box.click()
            time.sleep(delay)
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(10)
            page.close()
        complete, leftovers = _exports(ws)
        with running_app(ws, log_name="streamlit-fault-export-restart.log") as (url, _):
            after, left_after = _exports(ws)
            space = Workspace(ws)
            load_run(space, run_id, space.load_dataset(ds_id), ds_id)
            listed = [m["run_id"] for m in space.list_runs(ds_id)]
        all_complete = len(after) == len(list((ws / "exports").glob("*.csv")))
        checks[f"killed {delay:.2f} s into an export: files complete, no leftovers, run loads"] = (
            all_complete and not left_after and listed == [run_id] and not space.invalid_runs()
        )
        print(
            f"killed {delay:.2f} s after the export started: complete mappings {complete}, "
            f"temporary files {leftovers}; after the restart: leftovers {left_after}, "
            f"runs {len(listed)}, the run loads"
        )
    return checks


def main(argv: list[str] | None = None) -> int:
    """Run the fault test and print its figures; the exit code (1 when a check fails)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--at", choices=("training", "saving", "export"), default="training")
    args = parser.parse_args(argv)
    chromium = find_chromium()
    if chromium is None:
        print("Chromium was not found (see tests/browser_setup.py).")
        return 2
    from playwright.sync_api import sync_playwright

    from recsys.service.persistence import load_run
    from recsys.service.workspace import Workspace

    checks: dict[str, bool] = {}
    with tempfile.TemporaryDirectory(prefix="fault_ws_") as tmp, sync_playwright() as p:
        ws = Path(tmp)
        ds_id, run_id = seed_workspace(ws)
        query = f"?ds={ds_id}&run={run_id}"
        browser = p.chromium.launch(executable_path=chromium, headless=True, args=LAUNCH_ARGS)
        if args.at == "export":
            checks = kill_during_exports(ws, browser, query, [0.0, 0.05, 0.2, 0.5, 1.0, 2.0])
            browser.close()
            for name, ok in checks.items():
                print(f"  {'ok  ' if ok else 'FAIL'} {name}")
            return 0 if all(checks.values()) else 1
        with running_app(ws, log_name="streamlit-fault.log") as (url, proc):
            page = browser.new_page()
            page.goto(url + "/train" + query, wait_until="domcontentloaded")
            page.get_by_role("button", name="Train", exact=True).wait_for(timeout=180_000)
            idle(page)
            page.get_by_role("button", name="Train", exact=True).click()
            start = time.perf_counter()
            while True:
                folder, state, progress = _job(ws)
                ready = progress.get("saving") if args.at == "saving" else progress.get("model")
                if ready or time.perf_counter() - start > 300:
                    break
                time.sleep(0.01 if args.at == "saving" else 0.2)
            worker = int(state.get("worker_pid") or 0)
            print(
                f"killing the server (pid {proc.pid}) {time.perf_counter() - start:.1f} s after "
                f"Train, the worker (pid {worker}) at {100 * progress.get('fraction', 0):.0f} % "
                f"({'saving' if progress.get('saving') else progress.get('stage')})"
            )
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(10)
            killed = time.perf_counter()
            while worker and _alive(worker) and time.perf_counter() - killed < 30:
                time.sleep(0.05)
            gone = time.perf_counter() - killed
            checks["the worker exits by itself after the kill"] = not _alive(worker)
            print(f"worker gone {gone:.2f} s after the kill")
            page.close()
        _, state, _ = _job(ws)
        print(f"left by the kill: job state {state.get('state')!r}, leftovers {_leftovers(ws)}")
        t0 = time.perf_counter()
        with running_app(ws, log_name="streamlit-fault-restart.log") as (url, proc):
            print(f"restarted and healthy in {time.perf_counter() - t0:.1f} s")
            page = browser.new_page()
            page.goto(url + "/train" + query, wait_until="domcontentloaded")
            page.get_by_role("button", name="Train", exact=True).wait_for(timeout=180_000)
            idle(page)
            warning = page.get_by_text("because the server stopped")
            shown = warning.count() > 0
            checks["the Train page reports the interrupted training"] = shown or bool(
                state.get("state") == "done"
            )
            _, state, _ = _job(ws)
            space = Workspace(ws)
            listed = [m["run_id"] for m in space.list_runs(ds_id)]
            saved_late = [r for r in listed if r != run_id]
            t1 = time.perf_counter()
            load_run(space, run_id, space.load_dataset(ds_id), ds_id)
            load_s = time.perf_counter() - t1
            checks["the earlier run is listed and loads"] = run_id in listed
            checks["no half-written run is listed or invalid"] = not space.invalid_runs()
            checks["the leftovers are cleaned at start-up"] = not _leftovers(ws)
            checks["the job is reported as stopped (or done, with its run)"] = (
                state.get("state") == "stopped" and not saved_late
            ) or (state.get("state") == "done" and state.get("run_id") in listed)
            print(
                f"after the restart: job {state.get('state')!r}, runs listed {len(listed)} "
                f"(earlier run loads in {load_s:.1f} s; saved by the killed job: {saved_late}), "
                f"invalid runs {len(space.invalid_runs())}, leftovers {_leftovers(ws)}, "
                f"page warning shown: {shown}"
            )
        browser.close()
    for name, ok in checks.items():
        print(f"  {'ok  ' if ok else 'FAIL'} {name}")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
