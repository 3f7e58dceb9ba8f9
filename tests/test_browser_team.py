"""The team studio in a real headless Chromium, against ``streamlit run app.py``.

* the project's config serves 127.0.0.1 only (the listening sockets of a default start);
* with a password configured, every page, the data and the downloads need the sign-in;
* two sessions on different datasets never move each other across refreshes, and a refresh
  keeps the Fusion lab's unsaved settings (this tab's URL);
* entries with one name (datasets, runs, presets) each open when picked.

The workspace holds two people's work (``tests/team_workspace.py``); nothing is trained in the
browser. Under ``CI=true`` a missing browser is a failure (see ``tests/test_browser.py``).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pytest
from browser_app import running_app
from team_workspace import build
from test_browser import (
    ARTIFACTS,
    _idle,
    chromium_path,  # noqa: F401 (fixture)
)

from recsys.service.access import hash_password
from ui.session import decode_lab

pytestmark = pytest.mark.browser

PASSWORD = "a long team password"
LAUNCH = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture(scope="module")
def team(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    root = tmp_path_factory.mktemp("team_browser_ws")
    env = os.environ.copy()
    os.environ["FUSION_STUDIO_FAST"] = "1"
    try:
        ids = build(root)
    finally:
        os.environ.clear()
        os.environ.update(env)
    return root, ids


@contextmanager
def _serve(
    ws: Path, *args: str, name: str = "team", port: int | None = None
) -> Iterator[tuple[str, int, int]]:
    """The studio on ``ws`` with the project's config (plus ``args``); ``(url, port, pid)``."""
    with running_app(ws, log_name=f"streamlit-{name}.log", args=args, port=port) as (url, proc):
        yield url, int(url.rsplit(":", 1)[1]), proc.pid


@contextmanager
def _browser(chromium: str):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=LAUNCH)
        try:
            yield browser
        finally:
            browser.close()


def _open(page, url: str) -> None:
    page.goto(url)
    page.locator("h1").first.wait_for(timeout=120_000)
    _idle(page)


def _param(page, key: str) -> str | None:
    from urllib.parse import parse_qs, urlparse

    values = parse_qs(urlparse(page.url).query).get(key)
    return values[0] if values else None


def _go(page, path: str) -> None:
    """Open a page from the sidebar (the URL keeps this tab's query parameters)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for attempt in range(3):  # a click landing during a rerun of the page can be dropped
        page.locator(f'[data-testid="stSidebarNav"] a[href*="/{path}"]').first.click()
        try:
            page.wait_for_function(
                "(p) => location.pathname.endsWith('/' + p)", arg=path, timeout=15_000
            )
            break
        except PlaywrightTimeout:  # not navigated: click again
            if attempt == 2:
                raise
    _idle(page)


def _wait_param(page, key: str, value: str, timeout: float = 60_000) -> None:
    """Wait until this tab's URL has ``key=value`` (the app writes it after the rerun)."""
    page.wait_for_function(
        "([k, v]) => new URL(location.href).searchParams.get(k) === v",
        arg=[key, value],
        timeout=timeout,
    )


def _shown(page, key: str) -> str:
    """The option a selectbox shows (its combobox input's value)."""
    return page.locator(f".st-key-{key} input[role='combobox']").first.input_value()


def _pick(page, key: str, text: str) -> None:
    """Open the selectbox with widget key ``key`` and click the option starting with ``text``."""
    option = page.locator("[role='option']").filter(has_text=text).first
    for attempt in range(4):  # a rerun still drawing the page may close the list: open again
        page.locator(f".st-key-{key} [data-testid='stSelectbox']").first.click()
        try:
            option.wait_for(timeout=10_000)
            break
        except Exception:  # playwright's TimeoutError; the last try raises
            if attempt == 3:
                raise
            page.keyboard.press("Escape")
            _idle(page)
    option.click()
    _idle(page)


def _listening(port: int) -> list[str]:
    """Local addresses with a listening TCP socket on ``port`` (``/proc/net/tcp``, ``tcp6``)."""
    out = []
    for table, size in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            local, state = line.split()[1], line.split()[3]
            addr, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                raw = bytes.fromhex(addr)
                if size == 8:
                    out.append(".".join(str(b) for b in raw[::-1]))
                else:
                    words = [raw[i : i + 4][::-1].hex() for i in range(0, 16, 4)]
                    out.append(":".join(words))
    return out


# ------------------------------------------------------------------------------ private default
def test_the_default_server_listens_on_localhost_only(team):
    ws, _ = team
    with _serve(ws, name="default") as (_, port, _pid):
        addresses = _listening(port)
    assert addresses == ["127.0.0.1"], addresses


# ------------------------------------------------------------------------------ password gate
def test_pages_data_and_downloads_need_the_password(team, chromium_path, tmp_path):  # noqa: F811
    ws, ids = team
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(f'[passwords]\nalice = "{hash_password(PASSWORD)}"\n', encoding="utf-8")
    paths = ["", "train", "fusion", "users", "items", "insights", "compare", "export"]
    with _serve(ws, "--secrets.files", str(secrets), name="password") as (url, _, _pid):
        with _browser(chromium_path) as browser:
            stranger = browser.new_page()
            for path in paths:
                _open(stranger, f"{url}/{path}?ds={ids['demo']}&run={ids['demo_run_2']}")
                body = stranger.locator("body").inner_text()
                assert "Sign in to Fusion Studio" in body, path
                for secret in ("Demo store", "MovieLens", "Anker", "Shop", "Download"):
                    assert secret not in body, (path, secret)
                assert stranger.locator('[data-testid="stSidebarNav"] a').count() == 0, path
                assert stranger.locator('[data-testid="stDownloadButton"]').count() == 0, path
                assert stranger.locator('[data-testid="stMetricValue"]').count() == 0, path
            stranger.get_by_label("Password", exact=True).fill("not the password")
            stranger.get_by_role("button", name="Sign in").click()
            stranger.get_by_text("Wrong name or password.").wait_for(timeout=30_000)
            ARTIFACTS.mkdir(exist_ok=True)
            stranger.screenshot(path=str(ARTIFACTS / "team-sign-in.png"), full_page=True)

            member = browser.new_page(accept_downloads=True)
            _open(member, f"{url}/export?ds={ids['demo']}&run={ids['demo_run_2']}")
            member.get_by_label("Password", exact=True).fill(PASSWORD)
            member.get_by_role("button", name="Sign in").click()
            button = member.get_by_role("button", name="Download CSV")
            button.wait_for(timeout=120_000)
            _idle(member)
            with member.expect_download(timeout=60_000) as info:
                button.click()
            target = tmp_path / "recommendations.csv"
            info.value.save_as(str(target))
            frame = pd.read_csv(target, dtype=str)
            assert {"user_id", "item_id", "preset_id", "preset", "preset_modified"} <= set(
                frame.columns
            )
            assert frame["user_id"].nunique() == 600
            assert "Signed in as alice" in member.locator("body").inner_text()


# ------------------------------------------------------------------------------ per-tab state
def test_two_sessions_never_move_each_other_and_a_refresh_keeps_the_lab(team, chromium_path):  # noqa: F811
    ws, ids = team
    with _serve(ws, name="sessions") as (url, _, _pid), _browser(chromium_path) as browser:
        a, b = browser.new_page(), browser.new_page()
        _open(a, url)
        _open(b, url)
        assert _param(a, "ds") == _param(b, "ds") == ids["demo"]  # the newest run's dataset
        _pick(a, f"data_pick_{ids['demo']}", "MovieLens #")
        _wait_param(a, "ds", ids["movielens"])
        for _ in range(2):  # neither moves the other, refresh after refresh
            b.reload()
            b.locator("h1").first.wait_for(timeout=60_000)
            _idle(b)
            a.reload()
            a.locator("h1").first.wait_for(timeout=60_000)
            _idle(a)
            assert _param(a, "ds") == ids["movielens"] and _param(b, "ds") == ids["demo"]
            assert "MovieLens" in a.locator("h3").first.inner_text()
            assert "Demo store" in b.locator("h3").first.inner_text()
        fresh = browser.new_page()  # a new tab is not moved by a's switch either
        _open(fresh, url)
        assert _param(fresh, "ds") == ids["demo"]

        # the lab: change the method and a slider, refresh, find them as they were
        _go(b, "fusion")
        b.locator('[data-testid="stMetricValue"]').first.wait_for(timeout=120_000)
        _idle(b)
        _pick(b, "lab_method", "Reciprocal rank")
        thumb = b.locator(".st-key-lab_w_popularity input[type=range]").first
        thumb.focus()
        for _ in range(3):
            b.keyboard.press("ArrowLeft")
        _idle(b)
        before = b.locator(".st-key-lab_w_popularity [data-testid='stSliderThumbValue']")
        weight = before.inner_text()
        assert float(weight) < 1.0, weight
        # the URL follows the last change once its rerun has finished
        deadline = time.monotonic() + 60
        while True:
            lab = decode_lab(_param(b, "lab") or "")
            fusion = (lab or {}).get("fusion") or {}
            weights = fusion.get("weights") or {}
            if fusion.get("method") == "rrf" and weights.get("popularity") == float(weight):
                break
            assert time.monotonic() < deadline, (lab, weight)
            b.wait_for_timeout(250)
        b.reload()
        b.locator('[data-testid="stMetricValue"]').first.wait_for(timeout=120_000)
        _idle(b)
        method = _shown(b, "lab_method")
        assert "Reciprocal rank" in method, method
        after = b.locator(".st-key-lab_w_popularity [data-testid='stSliderThumbValue']")
        assert after.inner_text() == weight
        b.screenshot(path=str(ARTIFACTS / "team-lab-after-refresh.png"), full_page=True)


# ------------------------------------------------------------------------------ names and ids
def test_entries_with_one_name_each_open_when_picked(team, chromium_path):  # noqa: F811
    ws, ids = team
    with _serve(ws, name="names") as (url, _, _pid), _browser(chromium_path) as browser:
        page = browser.new_page()
        _open(page, f"{url}/?ds={ids['demo']}")
        # datasets: two "Shop" entries, told apart by their short ids
        for key in ("shop_a", "shop_b", "shop_a"):
            active = _param(page, "ds")
            _pick(page, f"data_pick_{active}", f"Shop #{ids[key][-8:-2]}")
            _wait_param(page, "ds", ids[key])

        # runs: two runs of the same models on the demo store
        _open(page, f"{url}/train?ds={ids['demo']}")
        for key in ("demo_run_1", "demo_run_2", "demo_run_1"):
            active = _param(page, "run")
            _pick(page, f"tr_pick_{active}", f"#{ids[key][-8:-2]}")
            _wait_param(page, "run", ids[key])

        # presets: two "Spring" presets compared with each other are not the same strategy
        _go(page, "compare")
        page.locator('[data-testid="stMetricValue"]').first.wait_for(timeout=120_000)
        _idle(page)
        _pick(page, "cmp_a", f"Spring #{ids['spring_weighted'][-8:-2]}")
        _pick(page, "cmp_b", f"Spring #{ids['spring_rrf'][-8:-2]}")
        a, b = _shown(page, "cmp_a"), _shown(page, "cmp_b")
        assert ids["spring_weighted"][-8:-2] in a and ids["spring_rrf"][-8:-2] in b
        # (A = Spring against the current setting was the same strategy; A against B is not)
        page.get_by_text("A and B are the same strategy").wait_for(state="detached", timeout=60_000)
        page.screenshot(path=str(ARTIFACTS / "team-compare-same-names.png"), full_page=True)
