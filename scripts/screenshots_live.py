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

from pathlib import Path

from screenshot_kit import TIMEOUT, idle, run_steps, shot


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
    return run_steps(__doc__.splitlines()[0], "screenshots-live-server.log", [abtest, search])


if __name__ == "__main__":
    raise SystemExit(main())
