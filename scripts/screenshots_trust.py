"""Screenshots in headless Chromium of what the trust issue asked to see on screen.

Seeds a workspace with the fast demo store (600 users) and a trained run
(``tests/browser_app.seed_workspace``), starts the studio and takes:

1. ``13_compare_change.png``: Compare after the lab's popularity weight went to 1, with the
   paired-bootstrap interval of every metric;
2. ``13_item_audience.png``: the Item explorer's audience (relative score, rank percentile,
   the user attributes);
3. ``13_data_zh.png`` and ``13_insights_zh.png``: the Data page's readiness report and the
   Insights page in Chinese;
4. ``13_readiness_warnings.png``: the readiness report of an export with flaws a real shop's
   files have (rows without a user id, nine days of events, shared titles, missing prices),
   saved the way the Data page saves an upload.

Run from the project root: ``python scripts/screenshots_trust.py [--out docs/screenshots]``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from browser_app import idle, metric_values, move_slider, running_app, seed_workspace  # noqa: E402
from browser_setup import LAUNCH_ARGS, find_chromium  # noqa: E402
from screenshots_live import TIMEOUT, shot  # noqa: E402


def nav(page, path: str) -> None:
    """Open a page from the sidebar (the session and its lab settings stay)."""
    page.locator(f'[data-testid="stSidebarNav"] a[href$="/{path}"]').first.click()
    idle(page)


def compare_after_a_change(page, out: Path) -> None:
    """Move the lab's popularity weight to 1, then open Compare (lab setting vs trained)."""
    nav(page, "fusion")
    page.locator(".st-key-lab_w_popularity input[type=range]").first.wait_for(state="attached")
    page.locator('[data-testid="stMetricValue"]').first.wait_for()
    idle(page)
    move_slider(page, "lab_w_popularity", ["End"], metric_values(page))
    idle(page)
    nav(page, "compare")
    page.locator('[data-testid="stMetricValue"]').first.wait_for()
    shot(page, out, "13_compare_change")


def audience(page, out: Path) -> None:
    """The Item explorer's audience tab for the first item."""
    nav(page, "items")
    page.get_by_role("tab", name="Audience (who wants it)").click()
    idle(page)
    page.wait_for_timeout(1500)  # the tab's table draws after the rerun
    shot(page, out, "13_item_audience")


def chinese_pages(page, out: Path) -> None:
    """The Data page's readiness report and Insights, in Chinese."""
    page.locator('[data-testid="stSidebar"]').get_by_text("简体中文").first.click()
    idle(page)
    page.locator('[data-testid="stSidebarNav"] a').first.click()  # Data, the default page
    idle(page)
    shot(page, out, "13_data_zh")
    nav(page, "insights")
    page.locator(".js-plotly-plot").first.wait_for()
    shot(page, out, "13_insights_zh")


def seed_flawed_dataset(root: Path) -> str:
    """Save a second dataset: the fast demo store with the flaws the readiness report names."""
    import numpy as np
    import pandas as pd

    from recsys.data.demo import generate_store
    from recsys.data.ingest import load_dataset
    from recsys.jsonable import jsonable
    from recsys.service.workspace import Workspace

    catalog, events = generate_store(n_users=600, n_items=200, n_events=12_000, seed=0)
    rng = np.random.default_rng(0)
    catalog.loc[catalog.index[:40], "title"] = catalog["title"].iloc[40:80].to_numpy()
    catalog["price"] = catalog["price"].astype(object)
    catalog.loc[rng.random(len(catalog)) < 0.3, "price"] = ""
    ts = pd.to_datetime(events["timestamp"])
    nine_days = (ts - ts.min()) / (ts.max() - ts.min()) * pd.Timedelta(days=9)
    events["timestamp"] = (pd.Timestamp("2026-11-20") + nine_days).dt.strftime("%Y-%m-%d %H:%M")
    events["user_id"] = events["user_id"].astype(object)
    events.loc[rng.random(len(events)) < 0.12, "user_id"] = ""
    result = load_dataset(
        events.to_csv(index=False).encode("utf-8"),
        catalog.to_csv(index=False).encode("utf-8"),
        interactions_name="shop_events.csv",
        catalog_name="shop_catalog.csv",
        name="Shop export",
    )
    meta = {
        "source": "upload",
        "report": result.report.to_dict(),
        "mappings": jsonable(result.mappings),
    }
    return Workspace(root).save_dataset("Shop export", result.events, result.catalog, meta)


def readiness_warnings(page, url: str, dataset_id: str, out: Path) -> None:
    """The Data page's readiness report tab for the flawed dataset (opened through its URL)."""
    page.goto(f"{url}?ds={dataset_id}")
    idle(page)
    page.get_by_role("tab", name="Readiness report").click()
    idle(page)
    shot(page, out, "13_readiness_warnings")


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
        flawed = seed_flawed_dataset(workspace)
        with (
            running_app(workspace, log_name="screenshots-trust-server.log") as (url, _),
            sync_playwright() as p,
        ):
            browser = p.chromium.launch(executable_path=chromium, headless=True, args=LAUNCH_ARGS)
            page = browser.new_context(viewport={"width": 1600, "height": 900}).new_page()
            page.set_default_timeout(TIMEOUT)
            page.goto(url)
            idle(page)
            compare_after_a_change(page, args.out)
            audience(page, args.out)
            chinese_pages(page, args.out)
            readiness_warnings(page, url, flawed, args.out)
            browser.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
