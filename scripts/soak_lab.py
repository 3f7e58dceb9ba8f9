"""Soak test of the Fusion lab: refresh time and server memory over many browser tabs.

Seeds a workspace with the demo store (2,000 users; ``--fast`` for the 600-user test store)
and a trained run, starts ``streamlit run app.py`` on it and drives headless Chromium:

1. opens the Fusion lab once (the run is loaded from disk) and times it, then refreshes the
   page and times how long the trained pages (Fusion lab, Train) take to show their figures;
2. opens and closes ``--tabs`` lab tabs one after another, each waiting for the lab's metrics,
   and prints the server's RSS before, at the peak, right after and after ``--idle`` seconds.

Run from the project root: ``python scripts/soak_lab.py [--tabs 50] [--idle 60] [--refreshes 3] [--fast]``.
Prints one line per figure and writes them to ``test-artifacts/soak.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from browser_app import ARTIFACTS, idle, running_app, seed_workspace  # noqa: E402
from browser_setup import LAUNCH_ARGS, find_chromium  # noqa: E402

DEFAULT_MODELS = ("svd", "lightfm_warp", "item_knn", "content_tfidf", "popularity")

#: In every page: the in-page clock (ms since the navigation started) when the lab's first
#: metric value appeared, and when the page last changed. The harness's own figure adds
#: Playwright's polling and a 150 ms settle wait (``idle``) on top.
PAGE_CLOCK = """
window.__shown = {};
new MutationObserver(() => {
  const now = Math.round(performance.now());
  if (!window.__shown.metric && document.querySelector('[data-testid="stMetricValue"]'))
    window.__shown.metric = now;
  window.__shown.last = now;
}).observe(document, {subtree: true, childList: true, characterData: true});
"""


def rss_mb(pid: int) -> float:
    """Resident memory of process ``pid`` in MB (Linux ``/proc``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS line")


def wait_lab(page, timeout: float = 180_000) -> None:
    """Wait until the lab shows its headline metrics and the script is idle."""
    page.locator('[data-testid="stMetricValue"]').first.wait_for(timeout=timeout)
    idle(page, timeout)


def timed_open(page, url: str, ready: str) -> float:
    """Seconds from navigation to ``ready`` (a selector) being visible with the app idle."""
    start = time.perf_counter()
    page.goto(url, wait_until="domcontentloaded")
    page.locator(ready).first.wait_for(timeout=180_000)
    idle(page, 180_000)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    """Run the soak and print its figures; returns the exit code (1 if over the target)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tabs", type=int, default=50)
    parser.add_argument("--idle", type=float, default=60.0)
    parser.add_argument("--refreshes", type=int, default=3, help="Fusion lab refreshes timed")
    parser.add_argument("--fast", action="store_true", help="the 600-user store, few epochs")
    parser.add_argument("--models", default=",".join(DEFAULT_MODELS))
    parser.add_argument("--target-mb", type=float, default=150.0)
    args = parser.parse_args(argv)
    chromium = find_chromium()
    if chromium is None:
        print("Chromium was not found (see tests/browser_setup.py).")
        return 2
    from playwright.sync_api import sync_playwright

    figures: dict[str, object] = {"tabs": args.tabs, "idle_s": args.idle, "fast": args.fast}
    with tempfile.TemporaryDirectory(prefix="soak_ws_") as tmp:
        ws = Path(tmp)
        t0 = time.perf_counter()
        if args.fast:
            seed_workspace(ws, models=tuple(args.models.split(",")))
        else:
            from recsys.data.demo import generate_store

            catalog, events = generate_store(n_users=2000, n_items=500, n_events=50_000, seed=0)
            seed_workspace(
                ws, catalog=catalog, interactions=events, models=tuple(args.models.split(","))
            )
        print(f"seeded workspace in {time.perf_counter() - t0:.1f} s")
        with (
            running_app(ws, log_name="streamlit-soak.log", fast=args.fast) as (url, proc),
            sync_playwright() as p,
        ):
            browser = p.chromium.launch(executable_path=chromium, headless=True, args=LAUNCH_ARGS)
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            context.add_init_script(PAGE_CLOCK)
            page = context.new_page()
            figures["first_lab_s"] = round(
                timed_open(page, url + "/fusion", "[data-testid=stMetricValue]"), 2
            )
            refresh, in_page = [], []
            for _ in range(args.refreshes):
                start = time.perf_counter()
                page.reload(wait_until="domcontentloaded")
                wait_lab(page)
                refresh.append(round(time.perf_counter() - start, 2))
                shown = page.evaluate("window.__shown")
                in_page.append((shown.get("metric", 0) / 1000, shown.get("last", 0) / 1000))
            figures["refresh_lab_s"] = refresh
            figures["refresh_lab_in_page_s"] = [[round(a, 2), round(b, 2)] for a, b in in_page]
            figures["refresh_train_s"] = round(
                timed_open(page, url + "/train", "[data-testid=stDataFrame]"), 2
            )
            page.close()
            time.sleep(2)
            start_rss = rss_mb(proc.pid)
            peak = start_rss
            samples = []
            for i in range(args.tabs):
                tab = context.new_page()
                tab.goto(url + "/fusion", wait_until="domcontentloaded")
                wait_lab(tab)
                tab.close()
                now = rss_mb(proc.pid)
                peak = max(peak, now)
                samples.append(round(now))
                if (i + 1) % 10 == 0:
                    print(f"  {i + 1} tabs opened and closed: RSS {now:.0f} MB")
            after = rss_mb(proc.pid)
            time.sleep(args.idle)
            idle_rss = rss_mb(proc.pid)
            context.close()
            browser.close()
        figures.update(
            rss_start_mb=round(start_rss),
            rss_peak_mb=round(peak),
            rss_after_tabs_mb=round(after),
            rss_after_idle_mb=round(idle_rss),
            rss_samples_mb=samples,
        )
    print(f"first lab load: {figures['first_lab_s']} s; refresh: {figures['refresh_lab_s']} s")
    print(
        "refresh, in-page clock (metrics shown, page settled): "
        + ", ".join(f"{a} / {b} s" for a, b in figures["refresh_lab_in_page_s"])
    )
    print(f"Train page after a refresh: {figures['refresh_train_s']} s")
    print(
        f"server RSS: start {start_rss:.0f} MB, peak {peak:.0f} MB, after {args.tabs} tabs "
        f"{after:.0f} MB, after {args.idle:.0f} s idle {idle_rss:.0f} MB "
        f"(+{idle_rss - start_rss:.0f} MB; target +{args.target_mb:.0f} MB)"
    )
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "soak.json").write_text(json.dumps(figures, indent=2))
    return 0 if idle_rss - start_rss <= args.target_mb else 1


if __name__ == "__main__":
    sys.exit(main())
