"""Find (or, as root on Debian/Ubuntu, install) the Chromium the browser test drives.

Usage: ``python tests/browser_setup.py`` prints the browser path, installing Debian's
``chromium`` package with apt-get when it is missing and we have the rights; elsewhere it
prints how to install it. The Playwright Python package comes from ``requirements-dev.txt``;
we use the system Chromium rather than ``playwright install`` (no browser download).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

CANDIDATES = (
    "/usr/bin/chromium",
    "/usr/bin/chromium-browser",
    "/usr/lib/chromium/chromium",
    "/usr/bin/google-chrome",
    "/usr/bin/google-chrome-stable",
)

#: Flags for a headless run in containers and CI.
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-dev-shm-usage",
]

HOW_TO = (
    "Chromium was not found. Install it with your package manager, e.g. "
    "`sudo apt-get update && sudo apt-get install -y chromium` (Debian/Ubuntu), "
    "or set FUSION_STUDIO_CHROMIUM=/path/to/chromium."
)


def find_chromium() -> str | None:
    """Path of a Chromium/Chrome executable, or None."""
    env = os.environ.get("FUSION_STUDIO_CHROMIUM")
    if env and os.path.exists(env):
        return env
    for path in CANDIDATES:
        if os.path.exists(path):
            return path
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def can_install() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get") is not None


def ensure_chromium(verbose: bool = True) -> str | None:
    """Find Chromium; install it with apt-get when missing and running as root."""
    path = find_chromium()
    if path:
        return path
    if can_install():
        if verbose:
            print("Installing chromium with apt-get ...", flush=True)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update"], check=True, env=env)
        subprocess.run(
            ["apt-get", "install", "-y", "--no-install-recommends", "chromium"], check=True, env=env
        )
        return find_chromium()
    if verbose:
        print(HOW_TO, flush=True)
    return None


if __name__ == "__main__":
    found = ensure_chromium()
    if found:
        print(found)
    sys.exit(0 if found else 1)
