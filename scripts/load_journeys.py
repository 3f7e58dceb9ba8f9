"""Load test: ten browser sessions each do demo -> train -> slider -> export on one studio.

Starts the studio (``python -m ui.serve``, fast settings) on an empty workspace and drives
``--sessions`` headless-Chromium sessions side by side, step by step:

1. each loads the demo store (the first one opens the demo a fresh workspace starts with, the
   others tick "as a new copy"), so every session works on a dataset of its own;
2. each presses Train: the trainings share the server's queue (worker processes);
3. once its run is saved, each moves the Fusion lab's popularity weight: even sessions to the
   top of the slider, odd ones to the bottom;
4. each downloads its recommendations CSV from the Export page.

Then it checks for leakage between sessions: every row of a session's CSV names that
session's own run (``run_id``), and the popularity weight recorded in every row
(``fusion_weights``) is the one that session's slider shows. Prints the time of each step per
session, the checks, the server's peak RSS and the load average before and after. Run from the
project root: ``python scripts/load_journeys.py [--sessions 10]``. Writes the figures to
``test-artifacts/load_journeys.json``. Exit status 1 when a check fails.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from browser_app import ARTIFACTS, idle, metric_values, move_slider, running_app  # noqa: E402
from browser_setup import LAUNCH_ARGS, find_chromium  # noqa: E402
from load_sessions import load_average, rss_mb  # noqa: E402

SLIDER = "lab_w_popularity"
LONG = 900_000  # ms: ten trainings on two cores take a while


def _param(page, key: str) -> str | None:
    values = parse_qs(urlparse(page.url).query).get(key)
    return values[0] if values else None


def _go(page, path: str) -> None:
    """Open a page from the sidebar (the URL keeps this tab's dataset and run)."""
    page.locator(f'[data-testid="stSidebarNav"] a[href*="/{path}"]').first.click()
    page.wait_for_function("(p) => location.pathname.endsWith('/' + p)", arg=path, timeout=LONG)
    idle(page, LONG)


def load_demo(page, url: str, first: bool) -> None:
    """Load the demo store: the first session creates it, the others a new copy each."""
    page.goto(url, wait_until="domcontentloaded")
    page.get_by_role("button", name="Load the demo store").wait_for(timeout=LONG)
    idle(page, LONG)
    before = _param(page, "ds")
    if first and before:  # a fresh workspace opens on the demo store (created on first load)
        return
    if not first:
        page.get_by_text("as a new copy").first.click()
        idle(page, LONG)
    page.get_by_role("button", name="Load the demo store").click()
    page.wait_for_function(
        "(b) => { const d = new URL(location.href).searchParams.get('ds'); return d && d !== b; }",
        arg=before,
        timeout=180_000,
    )
    idle(page, LONG)


def slider_value(page) -> float:
    """The value the popularity weight's slider shows."""
    return float(page.locator(f".st-key-{SLIDER} input[type=range]").first.input_value())


def journeys(
    url: str,
    pages: list,
    times: dict[str, list[float]],
    checks: dict[str, bool],
    rows: list[dict],
    tmp: Path,
) -> None:
    """Drive every session through demo -> train -> slider -> export, step by step."""
    for i, page in enumerate(pages):
        start = time.perf_counter()
        load_demo(page, url, first=i == 0)
        times["demo"].append(time.perf_counter() - start)
    datasets = [_param(page, "ds") for page in pages]
    checks["every session has a dataset of its own"] = len(set(datasets)) == len(pages)
    starts = []
    for page in pages:
        _go(page, "train")
        page.get_by_role("button", name="Train", exact=True).click()
        starts.append(time.perf_counter())
    for page, start in zip(pages, starts, strict=True):
        done = page.locator('[data-testid="stAlertContentSuccess"]')
        done.filter(has_text="Trained and saved").first.wait_for(timeout=LONG)
        times["train"].append(time.perf_counter() - start)
        idle(page, LONG)
    runs = [_param(page, "run") for page in pages]
    checks["every session trained a run of its own"] = len(set(runs)) == len(pages)
    weights = []
    for i, page in enumerate(pages):
        _go(page, "fusion")
        page.locator('[data-testid="stMetricValue"]').first.wait_for(timeout=LONG)
        idle(page, LONG)
        key = "End" if i % 2 == 0 else "Home"
        times["slider"].append(move_slider(page, SLIDER, [key], metric_values(page), timeout=LONG))
        idle(page, LONG)
        weights.append(slider_value(page))
    for i, page in enumerate(pages):
        start = time.perf_counter()
        _go(page, "export")
        button = page.get_by_role("button", name="Download CSV")
        button.wait_for(timeout=LONG)
        idle(page, LONG)
        with page.expect_download(timeout=LONG) as info:
            button.click()
        target = Path(tmp) / f"session_{i}.csv"
        info.value.save_as(str(target))
        times["export"].append(time.perf_counter() - start)
        frame = pd.read_csv(target, dtype=str)
        shown = {json.dumps(json.loads(w)["popularity"]) for w in frame["fusion_weights"]}
        rows.append(
            {
                "session": i + 1,
                "dataset": datasets[i],
                "run": runs[i],
                "rows": len(frame),
                "run_ids_in_csv": sorted(set(frame["run_id"])),
                "slider": weights[i],
                "popularity_weight_in_csv": sorted(shown),
            }
        )
        own_run = set(frame["run_id"]) == {runs[i]}
        own_weight = {float(s) for s in shown} == {weights[i]}
        checks[f"session {i + 1}: its CSV names its own run and weight"] = (
            own_run and own_weight and len(frame) > 0
        )


def main(argv: list[str] | None = None) -> int:
    """Run the journeys and print their figures; the exit code (1 when a check fails)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", type=int, default=10)
    args = parser.parse_args(argv)
    chromium = find_chromium()
    if chromium is None:
        print("Chromium was not found (see tests/browser_setup.py).")
        return 2
    from playwright.sync_api import sync_playwright

    load_before = load_average()
    print(f"load average before: {load_before} (2 cores, shared)")
    times: dict[str, list[float]] = {s: [] for s in ("demo", "train", "slider", "export")}
    checks: dict[str, bool] = {}
    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="journeys_ws_") as tmp:
        with (
            running_app(Path(tmp) / "ws", log_name="streamlit-journeys.log") as (url, proc),
            sync_playwright() as p,
        ):
            peak = [rss_mb(proc.pid)]
            stop = threading.Event()

            def sample() -> None:
                while not stop.wait(0.5):
                    peak[0] = max(peak[0], rss_mb(proc.pid))

            threading.Thread(target=sample, daemon=True).start()
            browser = p.chromium.launch(executable_path=chromium, args=LAUNCH_ARGS)
            contexts = [
                browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
                for _ in range(args.sessions)
            ]
            pages = [c.new_page() for c in contexts]
            try:
                journeys(url, pages, times, checks, rows, Path(tmp))
            except Exception:
                ARTIFACTS.mkdir(exist_ok=True)
                for i, page in enumerate(pages):
                    page.screenshot(path=str(ARTIFACTS / f"journeys_{i + 1}.png"), full_page=True)
                print(f"failed; screenshots in {ARTIFACTS}/journeys_N.png")
                raise
            stop.set()
            browser.close()
    figures = {
        "sessions": args.sessions,
        "load_before": load_before,
        "load_after": load_average(),
        "server_peak_rss_mb": round(peak[0]),
        "seconds": {k: [round(v, 1) for v in vs] for k, vs in times.items()},
        "sessions_detail": rows,
        "checks": checks,
    }
    for step, values in times.items():
        print(
            f"{step:7s} median {statistics.median(values):6.1f} s, max {max(values):6.1f} s "
            f"({', '.join(f'{v:.1f}' for v in values)})"
        )
    for row in rows:
        print(
            f"  session {row['session']}: {row['rows']} rows, run {row['run']}, "
            f"slider {row['slider']}, CSV weight {row['popularity_weight_in_csv']}"
        )
    for name, ok in checks.items():
        print(f"  {'ok  ' if ok else 'FAIL'} {name}")
    print(f"server peak RSS {peak[0]:.0f} MB; load average after: {figures['load_after']}")
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "load_journeys.json").write_text(json.dumps(figures, indent=2))
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
