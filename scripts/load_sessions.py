"""Load test: ten browser sessions on one studio; a lab slider while the others train.

Seeds a workspace with the fast demo store (600 users) and a trained run, starts the studio
(``python -m ui.serve``) on it and opens ``--sessions`` headless-Chromium sessions:

1. session 1 opens the Fusion lab and times a weight slider (key press -> new metric values),
   ``--moves`` times: the idle figure (median);
2. every other session opens the Train page and presses Train: their trainings go to the
   server's training queue (worker processes); each session's shown queue place is read;
3. while the queue is busy, session 1 times the same slider again: the busy figure;
4. optionally (``--wait``) waits until every training is saved.

With ``--leave`` the training sessions go to the Data page once their place is read, so their
finished runs are not opened (loaded in the server) while the slider is timed: the figure then
shows what the trainings themselves cost the server.

Prints both medians, their ratio (target: at most 2), the queue places, the server's peak
RSS and the load average before and after. Run from the project root:
``python scripts/load_sessions.py [--sessions 10] [--moves 5] [--wait]``.
Writes the figures to ``test-artifacts/load_sessions.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from browser_app import (  # noqa: E402
    ARTIFACTS,
    idle,
    metric_values,
    move_slider,
    running_app,
    seed_workspace,
)
from browser_setup import LAUNCH_ARGS, find_chromium  # noqa: E402

SLIDER = "lab_w_popularity"


def load_average() -> str:
    """The 1, 5 and 15-minute load averages."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def rss_mb(pid: int) -> float:
    """Resident memory of process ``pid`` in MB (0 when it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def job_states(workspace: Path) -> dict[str, int]:
    """How many jobs of the workspace are in each state."""
    out: dict[str, int] = {}
    for state in (workspace / "jobs").glob("*/state.json"):
        try:
            name = json.loads(state.read_text())["state"]
        except (OSError, ValueError, KeyError):
            continue
        out[name] = out.get(name, 0) + 1
    return out


def slider_times(page, moves: int, first: int = 0) -> list[float]:
    """Seconds from a key press on the slider to new metric values, ``moves`` times.

    The presses alternate End and Home; ``first`` is the index of the first press (continue
    where the last series stopped, so every press moves the slider).
    """
    out = []
    for i in range(first, first + moves):
        before = metric_values(page)
        key = "End" if i % 2 == 0 else "Home"
        out.append(move_slider(page, SLIDER, [key], before, timeout=300_000))
        idle(page)
    return out


def wait_all(workspace: Path, limit: float = 1800) -> float:
    """Seconds until no job is queued or running (at most ``limit``)."""
    start = time.perf_counter()
    while time.perf_counter() - start < limit:
        states = job_states(workspace)
        if not states.get("queued", 0) + states.get("running", 0):
            break
        time.sleep(2)
    return round(time.perf_counter() - start, 1)


def queue_line(page) -> str:
    """The line the Train page shows for this session's training (place or progress)."""
    line = page.get_by_text("Your training").first
    try:
        line.wait_for(timeout=180_000)
    except Exception:  # noqa: BLE001 - keep what the page showed, for the report
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "load_no_queue_line.png"), full_page=True)
        return "(no line shown: test-artifacts/load_no_queue_line.png)"
    return line.inner_text().strip()


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", type=int, default=10)
    parser.add_argument("--moves", type=int, default=5)
    parser.add_argument("--wait", action="store_true", help="wait until every training is saved")
    parser.add_argument(
        "--leave",
        action="store_true",
        help="the training sessions go to the Data page once their place is read (their runs "
        "are not opened, so no run is loaded in the server while the slider is timed)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the load test and print its figures; the exit code (1 when over 2x)."""
    args = _arguments(argv)
    chromium = find_chromium()
    if chromium is None:
        print("Chromium was not found (see tests/browser_setup.py).")
        return 2
    from playwright.sync_api import sync_playwright

    figures: dict[str, object] = {
        "sessions": args.sessions,
        "leave": args.leave,
        "load_before": load_average(),
    }
    print(f"load average before: {figures['load_before']} (2 cores, shared)")
    with tempfile.TemporaryDirectory(prefix="load_ws_") as tmp:
        ws = Path(tmp)
        ds_id, run_id = seed_workspace(ws)
        query = f"?ds={ds_id}&run={run_id}"
        with (
            running_app(ws, log_name="streamlit-load.log") as (url, proc),
            sync_playwright() as p,
        ):
            peak = [rss_mb(proc.pid)]
            sampling = threading.Event()

            def sample() -> None:
                while not sampling.wait(0.5):
                    peak[0] = max(peak[0], rss_mb(proc.pid))

            threading.Thread(target=sample, daemon=True).start()
            browser = p.chromium.launch(executable_path=chromium, headless=True, args=LAUNCH_ARGS)
            pages = [
                browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
                for _ in range(args.sessions)
            ]
            lab, trainers = pages[0], pages[1:]
            lab.goto(url + "/fusion" + query, wait_until="domcontentloaded")
            lab.locator(f".st-key-{SLIDER} input[type=range]").first.wait_for(
                state="attached", timeout=180_000
            )
            lab.locator('[data-testid="stMetricValue"]').first.wait_for(timeout=180_000)
            idle(lab)
            for page in trainers:
                page.goto(url + "/train" + query, wait_until="domcontentloaded")
            for page in trainers:
                page.get_by_role("button", name="Train", exact=True).wait_for(timeout=180_000)
                idle(page)
            idle_times = slider_times(lab, args.moves)
            print(f"slider, others idle: {[round(s * 1000) for s in idle_times]} ms")
            for page in trainers:
                page.get_by_role("button", name="Train", exact=True).click()
            time.sleep(3)  # every click reached the queue; the first training runs
            places = []
            for page in trainers:
                places.append(queue_line(page))
            if args.leave:
                for page in trainers:
                    page.goto(url + "/data" + query, wait_until="domcontentloaded", timeout=180_000)
                for page in trainers:
                    idle(page)
            states = job_states(ws)
            busy_times = slider_times(lab, args.moves, first=args.moves)
            states_after = job_states(ws)
            log = (ARTIFACTS / "streamlit-load.log").read_text(errors="replace")
            loads = [
                ln.split("INFO ")[-1]
                for ln in log.splitlines()
                if " loaded (" in ln and "fitted models, pools" in ln
            ]
            print(f"slider, others training: {[round(s * 1000) for s in busy_times]} ms")
            done_s = wait_all(ws) if args.wait else None
            sampling.set()
            finals = job_states(ws)
            browser.close()
    idle_ms = statistics.median(idle_times) * 1000
    busy_ms = statistics.median(busy_times) * 1000
    ratio = busy_ms / idle_ms
    figures.update(
        slider_idle_ms=[round(s * 1000) for s in idle_times],
        slider_busy_ms=[round(s * 1000) for s in busy_times],
        slider_idle_median_ms=round(idle_ms),
        slider_busy_median_ms=round(busy_ms),
        ratio=round(ratio, 2),
        queue_lines=places,
        jobs_while_measuring=states,
        jobs_after_measuring=states_after,
        jobs_at_end=finals,
        all_trained_after_s=done_s,
        server_peak_rss_mb=round(peak[0]),
        run_loads_in_server=loads,
        load_after=load_average(),
    )
    print("queue places shown to the training sessions:")
    for i, line in enumerate(places, start=2):
        print(f"  session {i}: {line}")
    print(f"jobs while the slider was timed: {states} -> {states_after}")
    print(
        f"slider median: idle {idle_ms:.0f} ms, while {len(trainers)} sessions train "
        f"{busy_ms:.0f} ms: {ratio:.2f}x (target <= 2x)"
    )
    if done_s is not None:
        print(f"all trainings over after {done_s} s more: {finals}")
    print(f"run loads in the server until the busy figure was taken: {loads}")
    print(f"server peak RSS {peak[0]:.0f} MB; load average after: {figures['load_after']}")
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "load_sessions.json").write_text(json.dumps(figures, indent=2))
    return 0 if ratio <= 2 else 1


if __name__ == "__main__":
    sys.exit(main())
