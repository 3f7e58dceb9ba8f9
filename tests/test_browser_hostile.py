"""A hostile catalog in a real browser: text from the user's files stays text on every page.

Titles, categories and brands hold Markdown images and links, Streamlit colour directives,
LaTeX, backticks, emoji shortcodes, Material icon codes and HTML; so do the dataset name, the
upload's file name and a preset name. Every page (and every tab of the user explorer) is
opened in headless Chromium; the test then checks that the browser never asked for another
host, that no link or image points at it, and that no Markdown was rendered as markup (no
KaTeX, no coloured span, no bold or code made of the data). The browser fixtures are those of
``tests/test_browser.py``.
"""

from __future__ import annotations

import pandas as pd
import pytest
from browser_app import ARTIFACTS, idle, nav, running_app, seed_workspace
from browser_setup import LAUNCH_ARGS
from test_browser import chromium_path  # noqa: F401 - the shared fixture

pytestmark = pytest.mark.browser

HOST = "hostile.invalid"
TITLES = [
    f"![]( http://{HOST}/title.png)",
    f"![x](http://{HOST}/title2.png) Phone",
    f"[click me](http://{HOST}/link) Case",
    ":red[REDTITLE] Charger",
    "$x^2$ Cable",
    "Back`TICKTITLE`tick",
    f"<img src=http://{HOST}/img.png> Stand",
    f"www.{HOST} Bag",
    ":material/warning: Icon :smile:",
    "**BOLDTITLE** Film",
]
CATEGORIES = [f'<a href="http://{HOST}/cat">CATLINK</a>', ":blue[BLUECAT]", "**BOLDCAT**", "$y$"]
BRANDS = [f"![b](http://{HOST}/brand.png)", "`CODEBRAND`", "_EMBRAND_"]
DATASET = f"![](http://{HOST}/ds.png) [DSLINK](http://{HOST}/ds) :red[REDDS]"
FILE = f"ev`il![](http://{HOST}/file.png).csv"
PRESET = f"[PRESETLINK](http://{HOST}/p) :red[REDPRESET]"

#: (marker, what it looks like when rendered as text) for directives: the marker must never
#: appear without its directive around it.
DIRECTIVES = (
    ("REDTITLE", ":red[REDTITLE]"),
    ("BLUECAT", ":blue[BLUECAT]"),
    ("REDDS", ":red[REDDS]"),
    ("REDPRESET", ":red[REDPRESET]"),
)
#: Words that must never be the whole text of a markup element.
MARKUP = (
    "strong, b, em, i, code",
    ("BOLDTITLE", "BOLDCAT", "TICKTITLE", "CODEBRAND", "EMBRAND"),
)

PROBE = """([host, directives, selector, words]) => {
    const out = {links: [], katex: 0, markup: [], directives: [], emoji: false};
    for (const el of document.querySelectorAll('*')) {
        for (const a of el.attributes) {
            if (/href|src/i.test(a.name) && a.value.includes(host) && !a.value.startsWith('#')) out.links.push(el.tagName + ' ' + a.name + '=' + a.value);
        }
    }
    out.katex = document.querySelectorAll('.katex, .katex-display, math').length;
    for (const el of document.querySelectorAll(selector)) {
        if (words.includes(el.textContent.trim())) out.markup.push(el.tagName + ':' + el.textContent);
    }
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    let text = '';
    while (walker.nextNode()) {
        const p = walker.currentNode.parentElement;
        if (p && (p.tagName === 'SCRIPT' || p.tagName === 'STYLE')) continue;
        text += walker.currentNode.data + '\\n';
    }
    text = text.replaceAll('\\u2060', '');
    for (const [marker, literal] of directives) {
        const n = text.split(marker).length - 1, m = text.split(literal).length - 1;
        if (n !== m) out.directives.push(marker + ' ' + n + ' vs ' + m);
    }
    out.emoji = text.includes('\\u{1F604}');
    out.text = text;
    return out;
}"""


def _hostile_frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    from recsys.data.demo import generate_store

    catalog, events = generate_store(n_users=600, n_items=200, n_events=12_000, seed=0)
    n = len(catalog)
    catalog = catalog.drop(columns=["title_zh"]).assign(
        title=[f"{TITLES[i % len(TITLES)]} {i}" for i in range(n)],
        category=[CATEGORIES[i % len(CATEGORIES)] for i in range(n)],
        brand=[BRANDS[i % len(BRANDS)] for i in range(n)],
    )
    return catalog, events


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory, chromium_path):  # noqa: F811 - the shared fixture
    from recsys.service.workspace import Workspace

    ws = tmp_path_factory.mktemp("hostile_ws")
    catalog, events = _hostile_frames()
    seed_workspace(ws, catalog=catalog, interactions=events, name=DATASET, interactions_name=FILE)
    workspace = Workspace(ws)
    run = workspace.list_runs()[0]
    from recsys.service.preset import Preset

    preset = Preset.from_dict(run["preset"])
    preset.name = PRESET
    workspace.save_preset(preset, as_new=True)
    with running_app(ws, log_name="streamlit-hostile.log") as (url, _):
        yield url


def _wait_text(page, text: str) -> None:
    page.wait_for_function(
        "(t) => document.body.innerText.replaceAll('\\u2060', '').includes(t)",
        arg=text,
        timeout=60_000,
    )


def _check(page, where: str, outgoing: list[str]) -> str:
    found = page.evaluate(PROBE, [HOST, list(DIRECTIVES), MARKUP[0], list(MARKUP[1])])
    page.screenshot(path=str(ARTIFACTS / f"hostile-{where}.png"), full_page=True)
    assert not outgoing, f"{where}: the browser asked another host: {outgoing}"
    assert not found["links"], f"{where}: links or images to the data's host: {found['links']}"
    assert found["katex"] == 0, f"{where}: LaTeX from the data was rendered"
    assert not found["markup"], f"{where}: Markdown from the data was rendered: {found['markup']}"
    assert not found["directives"], f"{where}: colour directives rendered: {found['directives']}"
    assert not found["emoji"], f"{where}: an emoji shortcode from the data was rendered"
    return found["text"]


def test_hostile_catalog_stays_text(hostile_server, chromium_path, tmp_path):  # noqa: F811
    from playwright.sync_api import sync_playwright

    outgoing: list[str] = []

    def guard(route):
        url = route.request.url
        if url.startswith(hostile_server):
            route.continue_()
        else:
            outgoing.append(url)
            route.abort()

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, headless=True, args=LAUNCH_ARGS)
        context = browser.new_context(viewport={"width": 1440, "height": 1400}, locale="en-US")
        context.route("**/*", guard)
        page = context.new_page()
        try:
            page.goto(hostile_server, wait_until="domcontentloaded")
            page.locator('[data-testid="stMetricValue"]').first.wait_for(timeout=120_000)
            page.get_by_role("tab", name="Readiness report").click()
            idle(page)
            page.wait_for_timeout(800)  # plotly draws after the script ends
            text = _check(page, "data", outgoing)
            # shown as text: the literal dataset name and file name are on the page
            assert ":red[REDDS]" in text and "[DSLINK](http://" in text
            assert "ev`il![](http://" in text

            for path, ready in (
                ("train", '[data-testid="stDataFrame"]'),
                ("fusion", '[data-testid="stMetricValue"]'),
                ("items", '[data-testid="stMetricValue"]'),
                ("insights", '[data-testid="stMetricValue"]'),
                ("compare", '[data-testid="stMetricValue"]'),
                ("export", '[data-testid="stDownloadButton"]'),
            ):
                nav(page, path)
                page.locator(ready).first.wait_for(timeout=120_000)
                idle(page)
                page.wait_for_timeout(800)
                _check(page, path, outgoing)
                if path == "compare":  # the hostile preset as side B: named in the caption
                    page.locator(".st-key-cmp_b").click()
                    page.get_by_role("option").filter(has_text="PRESETLINK").first.click()
                    _wait_text(page, "B = [PRESETLINK](")
                    idle(page)
                    page.wait_for_timeout(800)
                    text = _check(page, "compare-preset", outgoing)
                    assert "B = [PRESETLINK](http://" in text

            nav(page, "users")
            for tab in ("Profile", "Fused list", "Each model", "What-if"):
                page.get_by_role("tab", name=tab).click()
                idle(page)
                if tab == "Fused list":
                    _wait_text(page, "#10")
                page.wait_for_timeout(800)
                text = _check(page, f"users-{tab}", outgoing)
                if tab == "Fused list":
                    assert "#1\n" in text and "hostile.invalid" in text
                if tab == "What-if":
                    page.get_by_role("button", name="Add", exact=True).click()
                    page.get_by_text("new item(s)").first.wait_for(timeout=60_000)
                    _check(page, "users-what-if-added", outgoing)
        except BaseException:
            page.screenshot(path=str(ARTIFACTS / "hostile-failure.png"), full_page=True)
            raise
        finally:
            context.close()
            browser.close()


def test_table_toolbar_offers_no_raw_download(hostile_server, chromium_path):  # noqa: F811
    """The data-table toolbar has no "Download as CSV" (it would bypass formula neutralising)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, headless=True, args=LAUNCH_ARGS)
        page = browser.new_page(viewport={"width": 1440, "height": 1200})
        try:
            page.goto(hostile_server, wait_until="domcontentloaded")
            page.locator('[data-testid="stMetricValue"]').first.wait_for(timeout=120_000)
            page.get_by_role("tab", name="Preview").click()
            idle(page)
            table = page.locator('[data-testid="stDataFrame"]').first
            table.wait_for(timeout=60_000)
            table.hover()
            toolbar = page.locator('[data-testid="stElementToolbar"]').first
            toolbar.wait_for(state="visible", timeout=10_000)
            page.wait_for_timeout(300)
            buttons = [
                (b.get_attribute("aria-label") or b.inner_text()).strip()
                for b in toolbar.locator("button").all()
            ]
            page.screenshot(path=str(ARTIFACTS / "hostile-table-toolbar.png"))
            assert buttons, "the table toolbar should show (search, fullscreen)"
            assert not [b for b in buttons if "download" in b.lower()], buttons
        finally:
            browser.close()
