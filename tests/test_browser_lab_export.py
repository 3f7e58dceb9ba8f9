"""Several browser sessions move the Fusion lab's sliders and export at once: every export's
weights (its provenance columns) equal the sliders on screen, and the lab shows them again.

Each session moves a weight slider and switches to Export at once, without waiting for the
lab to finish (the case that used to lose the change: the lab's run was interrupted before it
stored the new value). The sessions are driven in turns, so their script runs overlap on the
server.
"""

from __future__ import annotations

import json
import random

import pandas as pd
import pytest
from browser_app import ARTIFACTS, idle, nav, running_app, seed_workspace
from browser_setup import LAUNCH_ARGS
from test_browser import chromium_path  # noqa: F401 - the shared fixture

pytestmark = pytest.mark.browser

SESSIONS = 3
TRIALS = 3
MODELS = ("popularity", "item_knn", "content_tfidf")


@pytest.fixture(scope="module")
def lab_server(tmp_path_factory, chromium_path):  # noqa: F811 - the shared fixture
    ws = tmp_path_factory.mktemp("lab_export_ws")
    seed_workspace(ws, models=MODELS)
    with running_app(ws, log_name="streamlit-lab-export.log") as (url, _):
        yield url


def _sliders(page) -> dict[str, float]:
    """The weight sliders' values as shown (model -> value)."""
    out = {}
    for model in MODELS:
        thumb = page.locator(f".st-key-lab_w_{model} [role=slider]").first
        thumb.wait_for(state="attached", timeout=60_000)
        out[model] = float(thumb.get_attribute("aria-valuenow"))
    return out


def _open_lab(page) -> None:
    page.locator(f".st-key-lab_w_{MODELS[0]} [role=slider]").first.wait_for(
        state="attached", timeout=120_000
    )
    page.locator('[data-testid="stMetricValue"]').first.wait_for(timeout=120_000)
    idle(page)


def _export_weights(page, tmp_path, name: str) -> dict[str, float]:
    button = page.get_by_role("button", name="Download CSV")
    button.wait_for(timeout=120_000)
    idle(page)
    with page.expect_download(timeout=60_000) as info:
        button.click()
    target = tmp_path / f"{name}.csv"
    info.value.save_as(str(target))
    frame = pd.read_csv(target, dtype=str)
    assert frame["fusion_weights"].nunique() == 1
    return json.loads(frame["fusion_weights"].iloc[0])


def test_exports_carry_the_weights_on_screen(lab_server, chromium_path, tmp_path):  # noqa: F811
    from playwright.sync_api import sync_playwright

    rng = random.Random(0)
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, headless=True, args=LAUNCH_ARGS)
        contexts = [browser.new_context(accept_downloads=True) for _ in range(SESSIONS)]
        pages = [c.new_page() for c in contexts]
        try:
            for page in pages:
                page.goto(lab_server + "/fusion", wait_until="domcontentloaded")
            for page in pages:
                _open_lab(page)
            for trial in range(TRIALS):
                shown = []
                for page in pages:  # every session moves a slider and leaves at once
                    model = rng.choice(MODELS)
                    thumb = page.locator(f".st-key-lab_w_{model} [role=slider]").first
                    thumb.focus()
                    for _ in range(rng.randint(1, 6)):
                        page.keyboard.press(rng.choice(["ArrowRight", "ArrowLeft", "PageUp"]))
                    shown.append(_sliders(page))
                    nav(page, "export")
                for i, page in enumerate(pages):
                    weights = _export_weights(page, tmp_path, f"s{i}_t{trial}")
                    exported = {m: round(float(weights[m]), 2) for m in MODELS}
                    assert exported == shown[i], (trial, i, exported, shown[i])
                    nav(page, "fusion")
                    _open_lab(page)
                    assert _sliders(page) == shown[i], (trial, i)  # the lab shows them again
        except BaseException:
            for i, page in enumerate(pages):
                page.screenshot(path=str(ARTIFACTS / f"lab-export-failure-{i}.png"), full_page=True)
            raise
        finally:
            for c in contexts:
                c.close()
            browser.close()
