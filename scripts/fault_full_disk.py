"""Fault test: the workspace's disk fills up while people use the studio.

Mounts a small tmpfs (root only), seeds a workspace on it with the fast demo store and one
trained run, fills the rest of the disk, starts the studio (``python -m ui.serve``) and, in
headless Chromium, tries what writes to the workspace: an upload, a preset saved from the
Fusion lab and a training. Then it checks, and prints:

* each attempt shows the plain "the workspace's disk is full" message (no traceback);
* every file the workspace held before is byte-for-byte unchanged, the dataset and the run
  still load, and no run or dataset is listed half-written;
* with space freed, no temporary leftovers remain.

Run from the project root as root: ``python scripts/fault_full_disk.py [--size-mb 64]``.
Exit status 1 when a check fails, 2 when it cannot run here (not root, no Chromium).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from browser_app import idle, running_app, seed_workspace  # noqa: E402
from browser_setup import LAUNCH_ARGS, find_chromium  # noqa: E402

FULL = "disk is full"


def _digests(ws: Path) -> dict[str, str]:
    """SHA-256 of every saved file (datasets, runs, presets, exports)."""
    out = {}
    for sub in ("datasets", "runs", "presets", "exports"):
        for path in sorted((ws / sub).rglob("*")):
            if path.is_file():
                out[str(path.relative_to(ws))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def _fill(folder: Path) -> int:
    """Write a filler file until the disk refuses; its size in bytes."""
    written = 0
    with open(folder / "filler.bin", "wb", buffering=0) as handle:
        for size in (1 << 20, 4096):  # megabytes, then the last partial one in small pieces
            try:
                while True:
                    written += handle.write(b"\0" * size) or 0
            except OSError:
                pass
    return written


def _message(page, timeout: float = 120_000) -> str:
    """The text of the first error box, once one is shown."""
    box = page.locator('[data-testid="stAlertContentError"]').first
    box.wait_for(timeout=timeout)
    return box.inner_text()


def _open(page, url: str) -> None:
    page.goto(url, wait_until="domcontentloaded")
    page.locator("h1").first.wait_for(timeout=180_000)
    idle(page)


def _try_upload(page, url: str, query: str, csv: Path) -> str:
    _open(page, url + "/" + query)
    page.get_by_text("Upload your data").first.click()
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').first.set_input_files(str(csv))
    page.get_by_role("button", name="Check and save").wait_for(timeout=60_000)
    idle(page)
    page.get_by_role("button", name="Check and save").click()
    return _message(page)


def _try_preset(page, url: str, query: str) -> str:
    _open(page, url + "/fusion" + query)
    page.locator('[data-testid="stMetricValue"]').first.wait_for(timeout=180_000)
    idle(page)
    page.get_by_text("Presets").first.click()
    idle(page)
    page.get_by_label("Name for the current setting").fill("Spring campaign")
    page.keyboard.press("Enter")
    idle(page)
    page.get_by_role("button", name="Save as preset").click()
    return _message(page)


def _try_training(page, url: str, query: str) -> str:
    _open(page, url + "/train" + query)
    page.get_by_role("button", name="Train", exact=True).wait_for(timeout=180_000)
    idle(page)
    page.get_by_role("button", name="Train", exact=True).click()
    return _message(page, timeout=300_000)


def main(argv: list[str] | None = None) -> int:
    """Run the fault test and print what it saw; the exit code (1 when a check fails)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size-mb", type=int, default=64, help="size of the tmpfs (MB)")
    args = parser.parse_args(argv)
    chromium = find_chromium()
    if chromium is None or os.geteuid() != 0:
        print("This needs root (to mount a tmpfs) and Chromium (see tests/browser_setup.py).")
        return 2
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    from recsys.data.demo import generate_store
    from recsys.service.persistence import load_run
    from recsys.service.workspace import Workspace

    checks: dict[str, bool] = {}
    with tempfile.TemporaryDirectory(prefix="full_disk_") as tmp:
        mount = Path(tmp) / "disk"
        mount.mkdir()
        size = f"size={args.size_mb}m"
        subprocess.run(["mount", "-t", "tmpfs", "-o", size, "tmpfs", str(mount)], check=True)
        try:
            ws = mount / "workspace"
            ds_id, run_id = seed_workspace(ws)
            _, events = generate_store(n_users=300, n_items=100, n_events=4000, seed=1)
            upload = Path(tmp) / "new_events.csv"
            events.to_csv(upload, index=False)
            before = _digests(ws)
            filled = _fill(mount)
            stat = os.statvfs(mount)
            print(
                f"workspace: {len(before)} files; filler {filled / 2**20:.1f} MB; "
                f"{stat.f_bavail * stat.f_frsize:,} bytes left on the {args.size_mb} MB disk"
            )
            query = f"?ds={ds_id}&run={run_id}"
            with (
                running_app(ws, log_name="streamlit-full-disk.log") as (url, _),
                sync_playwright() as p,
            ):
                browser = p.chromium.launch(executable_path=chromium, args=LAUNCH_ARGS)
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                for name, attempt in (
                    ("an upload", lambda: _try_upload(page, url, query, upload)),
                    ("a preset from the Fusion lab", lambda: _try_preset(page, url, query)),
                    ("a training", lambda: _try_training(page, url, query)),
                ):
                    start = time.perf_counter()
                    try:
                        text = attempt()
                    except PlaywrightTimeout as err:  # no message was shown
                        text = f"(no error box: {type(err).__name__})"
                        shot = ROOT / "test-artifacts" / "full-disk-failure.png"
                        shot.parent.mkdir(exist_ok=True)
                        page.screenshot(path=str(shot), full_page=True)
                    plain = FULL in text and "Traceback" not in text
                    checks[f"{name}: the plain disk-full message"] = plain
                    print(f"{name}: {time.perf_counter() - start:.1f} s, shown: {text!r}")
                browser.close()
            after = _digests(ws)
            changed = [k for k in before if before[k] != after.get(k)]
            checks["every earlier file is unchanged"] = not changed
            (mount / "filler.bin").unlink()
            space = Workspace(ws)
            listed = [r["run_id"] for r in space.list_runs(ds_id)]
            load_run(space, run_id, space.load_dataset(ds_id), ds_id)
            datasets = [d.id for d in space.list_datasets()]
            checks["the dataset and the run load, nothing else is listed"] = listed == [
                run_id
            ] and datasets == [ds_id]
            checks["no run is listed as invalid"] = not space.invalid_runs()
            leftovers = [str(p.relative_to(ws)) for p in ws.rglob(".tmp-*")]
            checks["no temporary leftovers once space is back"] = not leftovers
            print(
                f"after: {len(changed)} earlier files changed, runs listed {listed}, "
                f"leftovers {leftovers}, new files {sorted(set(after) - set(before))}"
            )
        finally:
            subprocess.run(["umount", "-l", str(mount)], check=False)
    for name, ok in checks.items():
        print(f"  {'ok  ' if ok else 'FAIL'} {name}")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
