"""Helpers for browser tests and soak scripts: start ``streamlit run app.py`` on a workspace,
wait for it, drive a page (idle, navigation), seed a workspace with a trained run."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
#: Cheap models for seeded runs (seconds to train on the fast demo store).
SEED_MODELS = ("popularity", "item_knn", "content_tfidf")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 90.0) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited early with code {proc.returncode}")
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise TimeoutError("streamlit did not become healthy in time")


@contextlib.contextmanager
def running_app(
    workspace: Path,
    *,
    log_name: str = "streamlit-server.log",
    fast: bool = True,
    args: Sequence[str] = (),
    port: int | None = None,
    **env: str,
) -> Iterator[tuple[str, subprocess.Popen]]:
    """``(url, process)`` of the studio on ``workspace``, started as the README does
    (``python -m ui.serve``, which runs ``streamlit run app.py``); stopped on exit.

    ``args`` are further ``streamlit run`` flags (e.g. ``--secrets.files F``); ``port`` default:
    a free one. The login opt-out variable is not inherited (only ``env`` can set it).
    """
    port = port or free_port()
    ARTIFACTS.mkdir(exist_ok=True)
    environ = {
        **os.environ,
        "FUSION_STUDIO_WORKSPACE": str(workspace),
        "FUSION_STUDIO_FAST": "1" if fast else "0",
        "PYTHONUNBUFFERED": "1",
    }
    environ.pop("FUSION_STUDIO_OPEN_WITHOUT_LOGIN", None)
    environ.update(env)
    with open(ARTIFACTS / log_name, "w") as log:
        proc = subprocess.Popen(
            [
                sys.executable, "-m", "ui.serve",
                "--server.port", str(port), "--server.headless", "true",
                "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
                *args,
            ],
            cwd=ROOT, env=environ, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        try:
            wait_healthy(url, proc)
            yield url, proc
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)


def idle(page: Any, timeout: float = 120_000) -> None:
    """Wait until the app is not running a script (the status widget disappears)."""
    page.wait_for_timeout(150)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=timeout
    )


def metric_values(page: Any) -> list[str]:
    """The headline metric values a page shows, in order."""
    return page.locator('[data-testid="stMetricValue"]').all_inner_texts()


def move_slider(
    page: Any, key: str, keys: list[str], before: list[str], timeout: float = 60_000
) -> float:
    """Press ``keys`` on a slider and return the seconds until the metric values change."""
    thumb = page.locator(f".st-key-{key} input[type=range]").first
    thumb.focus()
    start = time.perf_counter()
    for k in keys:
        page.keyboard.press(k)
    page.wait_for_function(
        """(before) => {
            const now = [...document.querySelectorAll('[data-testid="stMetricValue"]')].map(e => e.innerText);
            return now.length === before.length && now.some((v, i) => v !== before[i]);
        }""",
        arg=before,
        timeout=timeout,
        polling=10,
    )
    return time.perf_counter() - start


def nav(page: Any, url_path: str) -> None:
    """Open ``url_path`` from the sidebar and wait for the new page's address."""
    page.locator(f'[data-testid="stSidebarNav"] a[href$="/{url_path}"]').first.click()
    # the URL also carries the tab's state (?ds=...&run=...): match its path only
    page.wait_for_url(lambda url: urlparse(url).path.endswith(f"/{url_path}"), timeout=30_000)


def seed_workspace(
    root: Path,
    *,
    catalog: Any = None,
    interactions: Any = None,
    name: str = "Demo store",
    interactions_name: str = "demo_interactions.csv",
    catalog_name: str = "demo_catalog.csv",
    models: tuple[str, ...] = SEED_MODELS,
) -> tuple[str, str]:
    """A workspace holding one dataset (the fast demo store unless given) and a trained run of
    ``models``, made active; returns ``(dataset_id, run_id)``. Saved the way the Data and Train
    pages save them."""
    from recsys.data.demo import generate_store
    from recsys.data.ingest import load_dataset
    from recsys.jsonable import jsonable
    from recsys.models import QUICK_PARAMS
    from recsys.service.persistence import save_run
    from recsys.service.preset import Preset, default_preset
    from recsys.service.training import train_run
    from recsys.service.workspace import Workspace

    if catalog is None or interactions is None:
        demo_catalog, demo_events = generate_store(
            n_users=600, n_items=200, n_events=12_000, seed=0
        )
        catalog = demo_catalog if catalog is None else catalog
        interactions = demo_events if interactions is None else interactions
    result = load_dataset(
        interactions.to_csv(index=False).encode("utf-8"),
        catalog.to_csv(index=False).encode("utf-8"),
        interactions_name=interactions_name,
        catalog_name=catalog_name,
        name=name,
    )
    ws = Workspace(root)
    meta = {
        "source": "upload",
        "report": result.report.to_dict(),
        "mappings": jsonable(result.mappings),
    }
    ds_id = ws.save_dataset(name, result.events, result.catalog, meta)
    ws.set_state(active_dataset=ds_id)
    preset = default_preset(models).to_dict()
    preset["models"] = {m: dict(QUICK_PARAMS.get(m, {})) for m in models}
    run = train_run(result.dataset, Preset.from_dict(preset), tune=True)
    run_id = save_run(run, ws, ds_id)
    return ds_id, run_id
