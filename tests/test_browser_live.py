"""The live-store pages in headless Chromium: the Search preview (English and Chinese queries),
an A/B/C assignment downloaded and analysed, and a pseudonymised export whose downloaded file
carries pseudonyms while the mapping stays in the workspace.

``scripts/screenshots_live.py`` takes the README's screenshots along the same path.
"""

from __future__ import annotations

import pandas as pd
import pytest
from browser_app import idle, running_app, seed_workspace
from browser_setup import LAUNCH_ARGS
from test_browser import chromium_path  # noqa: F401 - the shared fixture

pytestmark = pytest.mark.browser

TIMEOUT = 120_000


def _fill(page, key: str, text: str) -> None:
    box = page.locator(f".st-key-{key} input").first
    box.wait_for(timeout=TIMEOUT)
    box.fill(text)
    box.press("Enter")
    idle(page)


def _no_error(page) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.locator('[data-testid="stAlertContentError"]').count() == 0


def test_live_store_pages(tmp_path, chromium_path):  # noqa: F811 - the shared fixture
    from playwright.sync_api import sync_playwright

    ws = tmp_path / "ws"
    seed_workspace(ws)
    with (
        running_app(ws, log_name="streamlit-live.log") as (url, _),
        sync_playwright() as p,
    ):
        browser = p.chromium.launch(executable_path=chromium_path, headless=True, args=LAUNCH_ARGS)
        page = browser.new_context(
            viewport={"width": 1400, "height": 900}, accept_downloads=True
        ).new_page()
        page.set_default_timeout(TIMEOUT)
        try:
            # Search preview: English, then the Chinese interface with a Chinese query
            page.goto(f"{url}/search")
            _fill(page, "search_query", "wireless earbuds")
            page.get_by_text("moved up for this shopper").wait_for()
            page.locator('[data-testid="stDataFrame"]').nth(1).wait_for()  # both tables
            _no_error(page)
            page.locator('[data-testid="stSidebar"]').get_by_text("简体中文").first.click()
            idle(page)
            _fill(page, "search_query", "保护壳")
            page.get_by_text("为该用户上移").wait_for()
            page.locator('[data-testid="stDataFrame"]').nth(1).wait_for()  # both tables
            _no_error(page)
            page.locator('[data-testid="stSidebar"]').get_by_text("English").click()
            idle(page)

            # A/B test: assign A/B/C 40/30/30, download the assignment, analyse simulated outcomes
            page.goto(f"{url}/abtest")
            page.get_by_role("tab", name="Assign").click()
            _fill(page, "abt_a_names", "A,B,C")
            _fill(page, "abt_a_shares", "40,30,30")
            page.locator(".st-key-abt_a_go button").click()
            button = page.get_by_role("button", name="Download the assignment (CSV)")
            button.wait_for()
            with page.expect_download() as info:
                button.click()
            info.value.save_as(str(tmp_path / "assignment.csv"))
            plan = pd.read_csv(tmp_path / "assignment.csv", dtype=str)
            assert len(plan) == 600 and plan["user_id"].is_unique
            shares = plan["variant"].value_counts(normalize=True)
            assert abs(shares["A"] - 0.4) < 0.08 and abs(shares["C"] - 0.3) < 0.08, shares
            page.get_by_role("tab", name="Analyse").click()
            page.locator(".st-key-abt_r_sim button").click()
            page.get_by_text("Sample ratio").wait_for()
            _no_error(page)

            # Export: pseudonymised recommendations; the mapping stays in the workspace
            page.goto(f"{url}/export")
            page.get_by_text("Pseudonymise user ids").click()
            page.get_by_text("User ids pseudonymised").wait_for()
            idle(page)
            with page.expect_download() as info:
                page.get_by_role("button", name="Download CSV").click()
            info.value.save_as(str(tmp_path / "recs.csv"))
            recs = pd.read_csv(tmp_path / "recs.csv", dtype=str)
            assert set(recs["user_id_pseudonymised"]) == {"HMAC-SHA-256"}
            assert recs["user_id"].str.fullmatch(r"[0-9a-f]{16}").all()
            local = pd.read_csv(ws / "exports" / "recommendations-all-mapping.csv", dtype=str)
            assert set(recs["user_id"]) <= set(local["pseudonym"])
            assert set(local["original"]) == set(plan["user_id"])
        finally:
            browser.close()
