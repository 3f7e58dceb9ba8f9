"""The main journey in a real headless Chromium (Playwright), against ``streamlit run app.py``.

demo data -> train -> move a fusion slider and see the metrics change (timed) -> open a user ->
download the recommendations CSV and check its rows. Screenshots go to ``test-artifacts/`` on
failure; the slider-to-metrics times to ``test-artifacts/timings.json``. With
``FUSION_STUDIO_SCREENSHOTS=<dir>`` the test also saves a screenshot of every page there.

Under ``CI=true`` the test must run: a missing browser or Playwright is a failure, not a skip.
Elsewhere it is skipped with a message saying how to install Chromium.
"""

from __future__ import annotations

import json
import os
import statistics
import time
from pathlib import Path
from urllib.parse import urlparse

import pandas as pd
import pytest
from browser_app import metric_values, move_slider, running_app
from browser_setup import HOW_TO, LAUNCH_ARGS, ensure_chromium, find_chromium

from ui.nav import PAGE_FILES, url_path

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
#: ``FUSION_STUDIO_BROWSER_FULL=1``: the full demo store (2,000 users) and default epochs
#: (for the README figures); default: fast mode (600 users, few epochs).
FULL = os.environ.get("FUSION_STUDIO_BROWSER_FULL", "") == "1"
N_USERS = 2000 if FULL else 600
K = 10


def _require(condition: bool, message: str) -> None:
    if condition:
        return
    if IN_CI:
        pytest.fail(message + " (CI=true: the browser test must run)")
    pytest.skip(message)


@pytest.fixture(scope="module")
def chromium_path() -> str:
    path = find_chromium() or (ensure_chromium() if IN_CI else None)
    _require(path is not None, HOW_TO)
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _require(False, "the playwright package is missing: pip install -r requirements-dev.txt")
    return path


@pytest.fixture(scope="module")
def server(tmp_path_factory, chromium_path):
    """The studio on a fresh workspace, started with the README's command (``ui.serve``)."""
    with running_app(tmp_path_factory.mktemp("browser_ws"), fast=not FULL) as (url, _):
        yield url


# ------------------------------------------------------------------------------ page helpers
def _nav(page, url_path: str) -> None:
    page.locator(f'[data-testid="stSidebarNav"] a[href$="/{url_path}"]').first.click()
    # the URL also carries the tab's state (?ds=...&run=...): match its path only
    page.wait_for_url(lambda url: urlparse(url).path.endswith(f"/{url_path}"), timeout=30_000)


def _idle(page, timeout: float = 120_000) -> None:
    """Wait until the app is not running a script (the status widget disappears)."""
    page.wait_for_timeout(150)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=timeout
    )


#: Records every sidebar navigation link and any "Page not found" text, from the first paint.
WATCH_NAV = """
window.__navSeen = new Set();
window.__notFound = false;
new MutationObserver(() => {
    document.querySelectorAll('[data-testid="stSidebarNav"] a').forEach(a => {
        const path = new URL(a.href).pathname.replace(/\\/+$/, '').split('/').pop();
        window.__navSeen.add(path + '|' + a.innerText.trim());
    });
    if (document.body && /Page not found/i.test(document.body.innerText)) window.__notFound = true;
}).observe(document, {childList: true, subtree: true, characterData: true});
"""


def _nav_seen(page) -> tuple[set[str], set[str], bool]:
    """(url paths, link texts) the sidebar ever listed, and whether "Page not found" showed."""
    seen = page.evaluate("() => [...window.__navSeen]")
    paths = {s.split("|", 1)[0] for s in seen}
    texts = {s.split("|", 1)[1] for s in seen}
    return paths, texts, bool(page.evaluate("() => window.__notFound"))


def _assert_only_pages_listed(page) -> None:
    """The sidebar never listed anything but our pages (no helper), and no "Page not found"."""
    paths, texts, not_found = _nav_seen(page)
    assert paths <= {url_path(k) for k in PAGE_FILES} | {""}, paths  # "": app.py (legacy mode)
    assert not texts & {"ui", "i18n", "_ui", "_i18n"}, texts
    assert not not_found


def _shot(page, directory: Path | None, name: str, *, wait: bool = True) -> None:
    if directory is None:
        return
    directory.mkdir(parents=True, exist_ok=True)
    if wait:
        _idle(page)
        page.wait_for_timeout(600)  # let plotly finish drawing
    page.screenshot(path=str(directory / f"{name}.png"), full_page=True)


# ------------------------------------------------------------------------------ the journey
def test_main_journey(server, chromium_path, tmp_path):
    from playwright.sync_api import sync_playwright

    shots_env = os.environ.get("FUSION_STUDIO_SCREENSHOTS")
    shots = Path(shots_env) if shots_env else None
    timings: dict[str, object] = {"demo_users": N_USERS, "fast_mode": not FULL}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, headless=True, args=LAUNCH_ARGS)
        context = browser.new_context(
            accept_downloads=True,
            viewport={"width": 1440, "height": 1800 if shots else 1000},
            locale="en-US",
        )
        context.add_init_script(WATCH_NAV)
        page = context.new_page()
        try:
            # 1. first start through a deep link: a fresh server starts in Streamlit's legacy
            # pages-folder mode, which runs the page file on its own; the page draws the app
            # frame (the demo store is created) and shows itself, with no "Page not found"
            t0 = time.perf_counter()
            page.goto(server + "/train", wait_until="domcontentloaded")
            page.get_by_role("button", name="Train", exact=True).wait_for(timeout=120_000)
            page.locator('[data-testid="stSidebar"]').get_by_text("Demo store").first.wait_for(
                timeout=60_000
            )
            _idle(page)
            timings["first_load_s"] = round(time.perf_counter() - t0, 2)
            _assert_only_pages_listed(page)
            # the Data page (the default page, at the root URL) shows the demo store
            page.locator('[data-testid="stSidebarNav"] a').filter(has_text="Data").first.click()
            page.get_by_text("Active dataset: Demo store").first.wait_for(timeout=60_000)
            page.locator('[data-testid="stMetricValue"]').first.wait_for(timeout=60_000)
            _idle(page)
            assert (
                page.locator('[data-testid="stMetricValue"]').first.inner_text() == f"{N_USERS:,}"
            )
            _shot(page, shots, "1_data")
            if shots is not None:  # an upload with Chinese column names: roles are detected
                upload = tmp_path / "订单.csv"
                upload.write_text(
                    "会员ID,商品编号,行为类型,下单时间\n"
                    + "\n".join(
                        f"M{u},SKU{(u * 7 + j) % 13},{'购买' if j % 3 == 0 else '浏览'},2024-03-{1 + j:02d} 10:00"
                        for u in range(40)
                        for j in range(5)
                    ),
                    encoding="utf-8",
                )
                page.get_by_text("Upload your data").first.click()
                page.locator('[data-testid="stFileUploaderDropzoneInput"]').first.set_input_files(
                    str(upload)
                )
                page.get_by_text("Columns of the interactions file").first.wait_for(timeout=60_000)
                _shot(page, shots, "1b_data_upload")
                page.get_by_text("Upload your data").first.click()

            _assert_only_pages_listed(page)

            # 2. train (fast mode) and see each model's metrics
            _nav(page, "train")
            page.get_by_role("button", name="Train", exact=True).click()
            t0 = time.perf_counter()
            if shots is not None and FULL:
                page.get_by_text("Your training").first.wait_for(timeout=60_000)
                page.wait_for_timeout(2500)
                _shot(page, shots, "2a_train_progress", wait=False)
            # "Trained and saved" first shows in the status box, before the rerun that makes
            # the run active and draws its metrics: wait for what the next steps need, the
            # rerun's flash message, the metrics table and the run in the sidebar status.
            page.locator('[data-testid="stAlertContentSuccess"]').filter(
                has_text="Trained and saved"
            ).first.wait_for(timeout=300_000)
            page.locator('[data-testid="stDataFrame"]').first.wait_for(timeout=60_000)
            page.locator('[data-testid="stSidebar"]').get_by_text("run-").first.wait_for(
                timeout=60_000
            )
            _idle(page)
            timings["train_s"] = round(time.perf_counter() - t0, 2)
            assert page.locator('[data-testid="stDataFrame"]').count() >= 1
            _shot(page, shots, "2_train")

            # 3. fusion lab: move a weight slider and time the metrics update (fragment rerun)
            _nav(page, "fusion")
            page.locator(".st-key-lab_w_popularity input[type=range]").first.wait_for(
                state="attached", timeout=60_000
            )
            page.locator('[data-testid="stMetricValue"]').first.wait_for(timeout=60_000)
            _idle(page)
            moves = []
            for keys in (["Home"], ["End"], ["Home"], ["End"], ["Home"]):
                before = metric_values(page)
                moves.append(move_slider(page, "lab_w_popularity", keys, before))
                _idle(page)
            after = metric_values(page)
            assert len(after) == 6  # the lab's six headline metrics (glossary, headline=True)
            timings["slider_to_metrics_ms"] = [round(s * 1000) for s in moves]
            timings["slider_to_metrics_median_ms"] = round(statistics.median(moves) * 1000)
            print(
                f"slider -> updated metrics: {timings['slider_to_metrics_ms']} ms (median {timings['slider_to_metrics_median_ms']} ms)"
            )
            _shot(page, shots, "3_fusion_lab")
            if shots is not None:  # the auto-tune Pareto chart, for the README
                _idle(page)
                page.get_by_text("Auto-tune the weights").first.click()
                page.wait_for_timeout(500)
                for attempt in range(3):  # a click during a rerun can be swallowed: retry
                    page.get_by_role("button", name="Auto-tune", exact=True).click()
                    try:
                        page.get_by_text("Tried weightings").first.wait_for(timeout=45_000)
                        break
                    except Exception:
                        if attempt == 2:
                            raise
                _shot(page, shots, "3b_fusion_lab_autotune")

            # 4. user explorer: the fused list with item cards and the contribution chart
            _nav(page, "users")
            page.get_by_role("tab", name="Fused list").click()
            page.get_by_text("#1 ·").first.wait_for(timeout=60_000)
            _idle(page)
            assert page.get_by_text("#10 ·").count() >= 1
            _shot(page, shots, "4_user_explorer")
            if shots is not None:
                page.get_by_role("tab", name="Profile").click()
                _shot(page, shots, "4a_user_profile")
                page.get_by_role("tab", name="What-if").click()
                page.get_by_role("button", name="Add", exact=True).click()
                page.get_by_text("new item(s)").first.wait_for(timeout=60_000)
                _shot(page, shots, "4c_user_what_if")

            if shots is not None:
                for path, name in (
                    ("items", "5_item_explorer"),
                    ("insights", "6_insights"),
                    ("compare", "7_compare"),
                ):
                    _nav(page, path)
                    page.locator('[data-testid="stMetricValue"]').first.wait_for(timeout=120_000)
                    _shot(page, shots, name)

            # 5. export: download the recommendations CSV and check its rows
            _nav(page, "export")
            button = page.get_by_role("button", name="Download CSV")
            button.wait_for(timeout=120_000)
            _idle(page)
            _shot(page, shots, "8_export")
            with page.expect_download(timeout=60_000) as info:
                button.click()
            target = tmp_path / "recommendations.csv"
            info.value.save_as(str(target))
            frame = pd.read_csv(target, dtype={"user_id": str, "item_id": str})
            assert {"user_id", "rank", "item_id", "score", "strategy"} <= set(frame.columns)
            assert frame["user_id"].nunique() == N_USERS
            assert len(frame) <= N_USERS * K and len(frame) >= N_USERS * K * 0.9
            assert frame.groupby("user_id")["rank"].min().eq(1).all()
            _assert_only_pages_listed(page)

            if shots is not None:  # the Chinese interface
                page.locator('[data-testid="stSidebar"]').get_by_text("简体中文").click()
                _idle(page)
                _nav(page, "fusion")
                page.locator('[data-testid="stMetricValue"]').first.wait_for(timeout=60_000)
                _shot(page, shots, "9_fusion_lab_zh")
                _nav(page, "users")
                page.get_by_role("tab", name="融合推荐列表").click()
                _shot(page, shots, "9_user_explorer_zh")
        except BaseException:
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "browser-failure.png"), full_page=True)
            (ARTIFACTS / "browser-failure.html").write_text(page.content(), encoding="utf-8")
            raise
        finally:
            ARTIFACTS.mkdir(exist_ok=True)
            (ARTIFACTS / "timings.json").write_text(json.dumps(timings, indent=2), encoding="utf-8")
            context.close()
            browser.close()
