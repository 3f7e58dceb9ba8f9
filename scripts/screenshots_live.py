"""Screenshots of the live-store pages in headless Chromium: the A/B test and the Search preview.

Seeds a workspace with the fast demo store (600 users) and a quickly trained run
(``tests/browser_app.seed_workspace``), starts ``streamlit run app.py`` on it and drives the
system Chromium with Playwright:

1. A/B test, *Assign*: variants A,B,C with shares 40,30,30, stratified by activity segment;
2. A/B test, *Analyse*: outcomes simulated for that assignment with a planted 5 % lift;
3. Search preview in English (``wireless earbuds``) and in Chinese (``保护壳``, phone cases).

Run from the project root: ``python scripts/screenshots_live.py [--out docs/screenshots]``.
Writes ``11_abtest_assign.png``, ``11b_abtest_analyse.png``, ``12_search.png`` and
``12_search_zh.png`` there.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from browser_app import idle, running_app, seed_workspace  # noqa: E402
from browser_setup import LAUNCH_ARGS, find_chromium  # noqa: E402

TIMEOUT = 120_000


def shot(page, out: Path, name: str) -> None:
    """Save the whole page as ``<out>/<name>.png``.

    Streamlit scrolls inside its main block, so the window is made as tall as the block's
    content first (and set back afterwards).
    """
    idle(page)
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


def fill(page, key: str, text: str) -> None:
    """Type ``text`` into the text input of widget ``key`` and submit it."""
    box = page.locator(f".st-key-{key} input").first
    box.fill(text)
    box.press("Enter")
    idle(page)


def abtest(page, url: str, out: Path) -> None:
    """Assign A,B,C stratified by activity, then analyse simulated outcomes."""
    page.goto(f"{url}/abtest")
    page.get_by_role("tab", name="Assign").click()
    fill(page, "abt_a_names", "A,B,C")
    fill(page, "abt_a_shares", "40,30,30")
    page.locator(".st-key-abt_a_strat").click()
    page.get_by_role("option", name="Activity segment (new, cold, regular, heavy)").click()
    idle(page)
    page.locator(".st-key-abt_a_go button").click()
    page.locator(".st-key-abt_a_dl").wait_for(timeout=TIMEOUT)
    shot(page, out, "11_abtest_assign")
    page.get_by_role("tab", name="Analyse").click()
    page.locator(".st-key-abt_r_sim button").click()
    page.get_by_text("Simulated outcomes (not real data)").wait_for(timeout=TIMEOUT)
    shot(page, out, "11b_abtest_analyse")


def search(page, url: str, out: Path) -> None:
    """Search in English, then in the Chinese interface with a Chinese query."""
    page.goto(f"{url}/search")
    page.locator(".st-key-search_query input").wait_for(timeout=TIMEOUT)
    fill(page, "search_query", "wireless earbuds")
    page.locator('[data-testid="stDataFrame"]').nth(1).wait_for(timeout=TIMEOUT)
    shot(page, out, "12_search")
    page.locator('[data-testid="stSidebar"]').get_by_text("简体中文").first.click()
    idle(page)
    fill(page, "search_query", "保护壳")
    page.locator('[data-testid="stDataFrame"]').nth(1).wait_for(timeout=TIMEOUT)
    shot(page, out, "12_search_zh")


def main() -> int:
    """Seed a workspace, start the app, take the screenshots."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
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
        with (
            running_app(workspace, log_name="screenshots-live-server.log") as (url, _),
            sync_playwright() as p,
        ):
            browser = p.chromium.launch(executable_path=chromium, headless=True, args=LAUNCH_ARGS)
            page = browser.new_context(viewport={"width": 1600, "height": 900}).new_page()
            page.set_default_timeout(TIMEOUT)
            page.goto(url)
            idle(page)
            abtest(page, url, args.out)
            search(page, url, args.out)
            browser.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
