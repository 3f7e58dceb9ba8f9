"""Screenshots in headless Chromium of what the trust issue asked to see on screen.

Seeds a workspace with the fast demo store (600 users) and a trained run
(``tests/browser_app.seed_workspace``), starts the studio and takes:

1. ``13_compare_change.png``: Compare after the lab's popularity weight went to 1, with the
   paired-bootstrap interval of every metric;
2. ``13_item_audience.png``: the Item explorer's audience (relative score, rank percentile,
   the user attributes);
3. ``14_rule_impact.png`` and ``14_rule_impact_zh.png``: the lab with a saved preset loaded
   (a boost rule on, a bury rule off), the rules table open, each rule's impact and one
   shopper's list before and after, in English and in Chinese;
4. ``13_data_zh.png`` and ``13_insights_zh.png``: the Data page's readiness report and the
   Insights page in Chinese;
5. ``13_readiness_warnings.png``: the readiness report of an export with flaws a real shop's
   files have (rows without a user id, nine days of events, shared titles, missing prices),
   saved the way the Data page saves an upload.

Run from the project root: ``python scripts/screenshots_trust.py [--out docs/screenshots]``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from screenshot_kit import ROOT, run_steps, settled, shot

sys.path.insert(0, str(ROOT))

from browser_app import idle, metric_values, move_slider

from recsys.ranking.rerank import RerankConfig, Rule
from recsys.service.preset import Preset
from recsys.service.workspace import Workspace

#: The saved preset the rule-impact step loads: a boost switched on, a bury switched off.
RULE_PRESET = "Anker push"
RULES = (
    Rule("boost", "brand", "==", "Anker", factor=2.0),
    Rule("bury", "category", "==", "case", factor=0.5, enabled=False),
)


def nav(page, path: str) -> None:
    """Open a page from the sidebar (the session and its lab settings stay)."""
    page.locator(f'[data-testid="stSidebarNav"] a[href$="/{path}"]').first.click()
    idle(page)


def seed_rule_preset(workspace: Path) -> None:
    """Save ``RULE_PRESET``: the seeded run's preset with ``RULES`` (as the lab saves one)."""
    ws = Workspace(workspace)
    preset = Preset.from_dict(ws.list_runs()[0]["preset"])
    rerank = RerankConfig.from_dict(
        {**preset.rerank.to_dict(), "rules": [r.to_dict() for r in RULES]}
    )
    preset = preset.with_rerank(rerank)
    preset.name = RULE_PRESET
    ws.save_preset(preset, as_new=True)


def compare_after_a_change(page, _url: str, out: Path) -> None:
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


def audience(page, _url: str, out: Path) -> None:
    """The Item explorer's audience tab for the first item."""
    nav(page, "items")
    page.get_by_role("tab", name="Audience (who wants it)").click()
    idle(page)
    page.wait_for_timeout(1500)  # the tab's table draws after the rerun
    shot(page, out, "13_item_audience")


def rule_impact(page, _url: str, out: Path) -> None:
    """Load the preset with rules in the lab, open the rules table: the impact of each rule."""
    nav(page, "fusion")
    page.locator('[data-testid="stMetricValue"]').first.wait_for()
    page.locator('[data-testid="stExpander"] summary', has_text="Presets").first.click()
    idle(page)
    page.locator(".st-key-lab_load_preset button").click()
    idle(page)
    page.locator(".st-key-lab_rules_open summary").click()
    page.get_by_text("What each rule does").wait_for()
    tables = page.locator('.st-key-lab_rules_open [data-testid="stDataFrame"]')
    tables.nth(2).wait_for()  # the rules, their impact, one shopper's list
    shot(page, out, "14_rule_impact")
    page.locator('[data-testid="stSidebar"]').get_by_text("简体中文").first.click()
    settled(page)
    if page.locator(".st-key-lab_rules_open details[open]").count() == 0:  # closed by the rerun
        page.locator(".st-key-lab_rules_open summary").click()
    page.get_by_text("每条规则的作用").wait_for()
    tables.nth(2).wait_for()
    shot(page, out, "14_rule_impact_zh")


def chinese_pages(page, _url: str, out: Path) -> None:
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


#: Ids of what ``seed`` saved besides the seeded run (``flawed``: the dataset with flaws).
SEEDED: dict[str, str] = {}


def seed(workspace: Path) -> None:
    """Add the preset with rules and the flawed dataset to the seeded workspace."""
    seed_rule_preset(workspace)
    SEEDED["flawed"] = seed_flawed_dataset(workspace)


def readiness_warnings(page, url: str, out: Path) -> None:
    """The Data page's readiness report tab for the flawed dataset (opened through its URL)."""
    dataset_id = SEEDED["flawed"]
    page.goto(f"{url}?ds={dataset_id}")
    idle(page)
    page.get_by_role("tab", name="Readiness report").click()
    idle(page)
    shot(page, out, "13_readiness_warnings")


def main() -> int:
    """Seed a workspace (and the preset with rules), start the app, take the screenshots."""
    return run_steps(
        __doc__.splitlines()[0],
        "screenshots-trust-server.log",
        [compare_after_a_change, audience, rule_impact, chinese_pages, readiness_warnings],
        seed=seed,
    )


if __name__ == "__main__":
    raise SystemExit(main())
