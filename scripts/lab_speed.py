"""How fast the Fusion lab answers a change, per fusion method, measured in headless Chromium.

Starts ``streamlit run app.py`` on a workspace (a fresh one by default: the app creates the
demo store, 2,000 shoppers; the script trains it on the Train page with the default models),
opens the Fusion lab and, for every fusion method:

1. switches to the method and times it (the first switch to a learned method includes its
   one-off training on the validation split);
2. makes ``--reps`` changes, one key press each, and times each from the key press to the lab
   showing the new figures (headline metrics or the "updated in … ms" caption changed) with
   the app no longer busy (Streamlit's running indicator and the lab's "Updating…" badge
   gone). Methods with weights move a weight slider (a different model each time, to 0 or 1);
   methods without weights move the MMR diversity slider one step. Every change is a setting
   the lab has not evaluated before (no cache hit).

The lab is left ``--settle`` seconds (default 20) before the first change: a run's first
visit to the lab warms every method's fixed tensors in the background, as while a user reads
the page. Prints the median per method and the load average before and after (other processes on the
machine slow the figures down; compare with ``nproc``). Run from the project root:
``python scripts/lab_speed.py [--reps 5] [--workspace DIR] [--methods weighted,condorcet]``.
Writes the figures to ``test-artifacts/lab_speed.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from browser_app import ARTIFACTS, idle, running_app  # noqa: E402
from browser_setup import LAUNCH_ARGS  # noqa: E402

CHROMIUM = "/usr/bin/chromium"

#: True once the lab shows figures other than ``before`` and nothing is running.
SETTLED = """(before) => {
    const now = [...document.querySelectorAll(
        '[data-testid="stMetricValue"], [data-testid="stCaptionContainer"]'
    )].map(e => e.innerText).join('|');
    return now !== before
        && !document.querySelector('[data-testid="stStatusWidget"]')
        && !document.querySelector('[data-testid="fs-busy"]');
}"""

SNAPSHOT = """() => [...document.querySelectorAll(
    '[data-testid="stMetricValue"], [data-testid="stCaptionContainer"]'
)].map(e => e.innerText).join('|')"""


def load_average() -> str:
    """The 1, 5 and 15 minute load averages (``uptime``'s figures)."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def nav(page, url_path: str) -> None:
    """Open a page from the sidebar (keeps the session) and wait for its address."""
    page.locator(f'[data-testid="stSidebarNav"] a[href$="/{url_path}"]').first.click()
    page.wait_for_url(lambda url: urlparse(url).path.endswith(f"/{url_path}"), timeout=30_000)


def timed(page, action) -> float:
    """Seconds from ``action()`` to the lab settled on new figures."""
    before = page.evaluate(SNAPSHOT)
    start = time.perf_counter()
    action()
    page.wait_for_function(SETTLED, arg=before, timeout=180_000, polling=10)
    return time.perf_counter() - start


def train(page) -> float:
    """Train the active dataset on the Train page with its defaults; returns seconds."""
    nav(page, "train")
    button = page.get_by_role("button", name="Train", exact=True)
    button.wait_for(timeout=120_000)
    idle(page)
    start = time.perf_counter()
    button.click()
    page.locator('[data-testid="stAlertContentSuccess"]').filter(
        has_text="Trained and saved"
    ).first.wait_for(timeout=900_000)
    page.locator('[data-testid="stSidebar"]').get_by_text("run-").first.wait_for(timeout=60_000)
    idle(page)
    return time.perf_counter() - start


def current_method(page, names: list[str]) -> str:
    """The method the lab's method box shows (its label matched to the registry order)."""
    shown = page.locator(".st-key-lab_method input[role=combobox]").first.input_value()
    page.locator(".st-key-lab_method input[role=combobox]").first.click()
    labels = page.get_by_role("option").all_inner_texts()
    page.keyboard.press("Escape")
    return names[labels.index(shown)] if shown in labels else ""


def choose_method(page, index: int) -> None:
    """Pick the ``index``-th fusion method in the lab's method box."""
    page.locator(".st-key-lab_method input[role=combobox]").first.click()
    page.get_by_role("option").nth(index).click()


def press(page, key: str, keys: str) -> None:
    """Focus the slider ``key`` and press ``keys``."""
    thumb = page.locator(f".st-key-{key} input[type=range]").first
    thumb.focus()
    page.keyboard.press(keys)


def open_rerank(page) -> None:
    """Open the lab's re-ranking expander (its MMR slider is moved for methods without weights)."""
    details = page.locator("details").filter(
        has=page.locator("summary").filter(has_text="Re-ranking")
    )
    if details.first.get_attribute("open") is None:
        details.first.locator("summary").click()
    page.locator(".st-key-lab_mmr input[type=range]").first.wait_for(state="visible")


def slider_value(page, key: str) -> float:
    """The value a slider shows."""
    return float(page.locator(f".st-key-{key} input[type=range]").first.input_value())


def measure(page, methods: list[str], reps: int, models: list[str]) -> dict[str, dict]:
    """Switch to each method and time ``reps`` changes; returns the figures per method."""
    from recsys.ranking.fusion import FUSERS

    names = list(FUSERS)
    out: dict[str, dict] = {}
    for method in methods:
        switch = 0.0
        if method != current_method(page, names):
            switch = timed(page, lambda m=method: choose_method(page, names.index(m)))
            idle(page)
        times = []
        for rep in range(reps):
            if FUSERS[method].uses_weights:
                key = f"lab_w_{models[rep % len(models)]}"
                target = "Home" if slider_value(page, key) >= 0.5 else "End"
            else:
                key, target = "lab_mmr", "ArrowLeft"
                open_rerank(page)
            times.append(timed(page, lambda k=key, x=target: press(page, k, x)))
            idle(page)
        out[method] = {
            "switch_s": round(switch, 3),
            "change_s": [round(x, 3) for x in times],
            "median_s": round(statistics.median(times), 3),
        }
        print(
            f"{method:10s} median {out[method]['median_s']:.2f} s  "
            f"changes {[f'{x:.2f}' for x in times]}  switch {switch:.2f} s",
            flush=True,
        )
    return out


def main(argv: list[str] | None = None) -> int:
    """Run the measurement and print it; returns the exit code (1 if a median is over 1 s)."""
    from recsys.ranking.fusion import FUSERS

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--workspace", type=Path, help="reuse (and keep) this workspace")
    parser.add_argument("--methods", default=",".join(FUSERS))
    parser.add_argument("--fast", action="store_true", help="the 600-user store, few epochs")
    parser.add_argument("--target", type=float, default=1.0, help="seconds per change")
    parser.add_argument(
        "--settle",
        type=float,
        default=20.0,
        help="seconds to wait on the lab before measuring (its background warm-up runs then)",
    )
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    figures: dict[str, object] = {"load_before": load_average(), "cores": os.cpu_count()}
    print(f"load average before: {figures['load_before']} ({os.cpu_count()} cores)", flush=True)
    with tempfile.TemporaryDirectory(prefix="lab_speed_ws_") as tmp:
        ws = args.workspace or Path(tmp)
        ws.mkdir(parents=True, exist_ok=True)
        env = {"PYTHONPATH": str(ROOT)}
        with running_app(ws, log_name="lab-speed.log", fast=args.fast, **env) as (url, _):
            with sync_playwright() as p:
                browser = p.chromium.launch(
                    executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS
                )
                page = browser.new_page(viewport={"width": 1440, "height": 1000})
                page.goto(url, wait_until="domcontentloaded")
                page.locator('[data-testid="stSidebarNav"]').first.wait_for(timeout=180_000)
                idle(page, 300_000)
                if not page.locator('[data-testid="stSidebar"]').get_by_text("run-").count():
                    figures["train_s"] = round(train(page), 1)
                    print(f"trained in {figures['train_s']} s", flush=True)
                nav(page, "fusion")
                page.locator('[data-testid="stMetricValue"]').first.wait_for(timeout=180_000)
                idle(page)
                page.wait_for_timeout(args.settle * 1000)
                models = [
                    el.get_attribute("class").split("st-key-lab_w_")[1].split()[0]
                    for el in page.locator("[class*='st-key-lab_w_']").all()
                ]
                methods = [m for m in args.methods.split(",") if m]
                figures["methods"] = measure(page, methods, args.reps, models)
                browser.close()
    figures["load_after"] = load_average()
    print(f"load average after: {figures['load_after']}")
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "lab_speed.json").write_text(json.dumps(figures, indent=2))
    slow = [m for m, f in figures["methods"].items() if f["median_s"] > args.target]  # type: ignore[union-attr]
    if slow:
        print(f"over {args.target} s: {', '.join(slow)}")
    return 1 if slow else 0


if __name__ == "__main__":
    raise SystemExit(main())
