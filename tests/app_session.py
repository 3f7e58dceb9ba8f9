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


def small_lab(root: Path, models: tuple[str, ...], catalog=None) -> AppTest:
    """A new session on the Fusion lab of a small trained run (60 shoppers, 23 items).

    The workspace is ``root`` (the caller points the studio at it); ``catalog`` is an optional
    frame for the 23 items ``i0`` ... ``i22``.
    """
    import pandas as pd

    from recsys.data.ingest import load_dataset
    from recsys.service.persistence import save_run
    from recsys.service.preset import default_preset
    from recsys.service.training import train_run
    from recsys.service.workspace import Workspace

    events = pd.DataFrame(
        {
            "user_id": [f"u{u}" for u in range(60) for _ in range(6)],
            "item_id": [f"i{(u * 5 + j * 3) % 23}" for u in range(60) for j in range(6)],
        }
    )
    loaded = load_dataset(
        events.to_csv(index=False).encode(),
        None if catalog is None else catalog.to_csv(index=False).encode(),
        name="shop",
    )
    ws = Workspace(root)
    ds_id = ws.save_dataset("shop", loaded.events, loaded.catalog, {})
    save_run(train_run(ws.load_dataset(ds_id), default_preset(models)), ws, ds_id)
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.query_params["ds"] = ds_id
    at.run()
    at.switch_page("pages/3_fusion.py")
    at.run()
    assert not at.exception, at.exception
    return at
