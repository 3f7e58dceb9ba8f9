"""``python -m ui.serve``: the launcher refuses to bind a non-local address without a login
(plain message, exit status 2, nothing listening); with a login or the explicit opt-out it
serves. Real processes, started the way the README starts the studio."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from browser_app import free_port, wait_healthy

from recsys.service.access import hash_password

ROOT = Path(__file__).resolve().parents[1]


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STREAMLIT_", "FUSION_"))}
    pythonpath = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    return {**env, "HOME": str(home), "PYTHONPATH": pythonpath, **extra}


def _start(cwd: Path, port: int, **env: str) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable, "-m", "ui.serve", "--server.address", "0.0.0.0",
            "--server.port", str(port), "--server.headless", "true",
            "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
        ],
        cwd=cwd, env=_env(cwd, FUSION_STUDIO_WORKSPACE=str(cwd / "ws"), **env),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _serves(proc: subprocess.Popen, port: int) -> None:
    try:
        wait_healthy(f"http://127.0.0.1:{port}", proc)
        assert _listening(port)
    finally:
        proc.terminate()
        proc.communicate(timeout=30)


def test_no_login_on_every_interface_is_refused_before_binding(tmp_path):
    port = free_port()
    proc = _start(tmp_path, port)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 2, (out, err)
    assert "refuses to listen on 0.0.0.0 without a login" in err
    assert "open_without_login" in err and "Traceback" not in err
    assert not _listening(port)


def test_the_explicit_opt_out_serves(tmp_path):
    port = free_port()
    _serves(_start(tmp_path, port, FUSION_STUDIO_OPEN_WITHOUT_LOGIN="1"), port)


def test_a_configured_password_login_serves(tmp_path):
    (tmp_path / ".streamlit").mkdir()
    line = f'[passwords]\nana = "{hash_password("a long enough secret")}"\n'
    (tmp_path / ".streamlit" / "secrets.toml").write_text(line)
    port = free_port()
    _serves(_start(tmp_path, port), port)
