"""AppTest set-up shared by the app tests: a workspace for a test module, and a fresh session."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

APP = Path(__file__).resolve().parents[1] / "app.py"


@contextmanager
def studio_workspace(root: Path) -> Iterator[Path]:
    """Point the studio at workspace ``root`` (fast demo settings) while the block runs."""
    mp = pytest.MonkeyPatch()
    mp.setenv("FUSION_STUDIO_WORKSPACE", str(root))
    mp.setenv("FUSION_STUDIO_FAST", "1")
    try:
        yield root
    finally:
        mp.undo()


def fresh_session(timeout: float = 120) -> AppTest:
    """A new browser session on the app's first page, checked to have raised nothing."""
    at = AppTest.from_file(str(APP), default_timeout=timeout)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at
