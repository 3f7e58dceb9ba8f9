"""What the screenshot scripts share: a whole-page shot and one runner.

``run_steps`` parses ``--out``, seeds a workspace (the fast demo store and a trained run:
``tests/browser_app.seed_workspace``), starts the studio on it, opens headless Chromium on the
start page and calls each step with ``(page, url, out)``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from browser_app import idle, running_app, seed_workspace  # noqa: E402
from browser_setup import LAUNCH_ARGS, find_chromium  # noqa: E402

TIMEOUT = 120_000

Step = Callable[..., None]


#: Nothing runs: no script (Streamlit's status widget) and no lab update ("Updating…" badge,
#: present from the start of a lab run, also of a fragment run the status widget misses).
QUIET = """() => !document.querySelector('[data-testid="stStatusWidget"]')
    && !document.querySelector('[data-testid="fs-busy"]')"""


def settled(page, quiet_ms: int = 1000) -> None:
    """Wait until nothing runs, and still nothing ``quiet_ms`` later (a follow-up run)."""
    idle(page)
    for _ in range(20):
        page.wait_for_function(QUIET, timeout=TIMEOUT)
        page.wait_for_timeout(quiet_ms)
        if page.evaluate(QUIET):
            return


def shot(page, out: Path, name: str) -> None:
    """Save the whole page as ``<out>/<name>.png``.

    Streamlit scrolls inside its main block, so the window is made as tall as the block's
    content first (and set back afterwards).
    """
    settled(page)
    page.wait_for_timeout(800)  # let tables and charts finish drawing
    size = page.viewport_size
    height = page.evaluate(
        "() => Math.max(...[...document.querySelectorAll("
        '\'[data-testid="stMain"], [data-testid="stAppViewContainer"]\')]'
        ".map(e => e.scrollHeight))"
    )
    page.set_viewport_size({"width": size["width"], "height": max(size["height"], height + 40)})
    page.wait_for_timeout(500)
    page.screenshot(path=str(out / f"{name}.png"), full_page=True)
    page.set_viewport_size(size)
    print(f"wrote {out / name}.png")


def run_steps(
    description: str,
    log_name: str,
    steps: Sequence[Step],
    *,
    seed: Callable[[Path], None] | None = None,
) -> int:
    """Seed a workspace, start the app, run ``steps(page, url, out)`` in order; exit code.

    ``seed(workspace)`` adds to the seeded workspace before the app starts (presets ...).
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    chromium = find_chromium()
    if chromium is None:
        print("Chromium was not found: see tests/browser_setup.py.", file=sys.stderr)
        return 1
    from playwright.sync_api import sync_playwright

    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        workspace = Path(tmp)
        seed_workspace(workspace)
        if seed is not None:
            seed(workspace)
        with (
            running_app(workspace, log_name=log_name) as (url, _),
            sync_playwright() as p,
        ):
            browser = p.chromium.launch(executable_path=chromium, headless=True, args=LAUNCH_ARGS)
            page = browser.new_context(viewport={"width": 1600, "height": 900}).new_page()
            page.set_default_timeout(TIMEOUT)
            page.goto(url)
            idle(page)
            for step in steps:
                step(page, url, args.out)
            browser.close()
    return 0
