"""Shared pytest fixtures: small and general. Module-specific data lives in the test files
(or in ``tests/fixtures_data.py``)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest


@pytest.fixture
def tmp_workspace(tmp_path: Path) -> Path:
    """An empty directory to use as a workspace root."""
    root = tmp_path / "workspace"
    root.mkdir()
    return root


@pytest.fixture
def tiny_events() -> pd.DataFrame:
    """Raw interaction rows as an upload would have them (all strings): 3 users, 3 items."""
    return pd.DataFrame(
        {
            "user_id": ["u1", "u1", "u1", "u2", "u2", "u3"],
            "item_id": ["i1", "i2", "i1", "i2", "i3", "i3"],
            "event": ["view", "cart", "purchase", "view", "view", "purchase"],
            "timestamp": [
                "2024-01-01 10:00:00",
                "2024-01-01 10:05:00",
                "2024-01-02 09:00:00",
                "2024-01-03 12:00:00",
                "2024-01-03 12:01:00",
                "2024-01-04 08:00:00",
            ],
        }
    )


@pytest.fixture
def tiny_catalog() -> pd.DataFrame:
    """Raw catalog rows (all strings) for the items of ``tiny_events`` plus one cold item."""
    return pd.DataFrame(
        {
            "item_id": ["i1", "i2", "i3", "i4"],
            "title": ["Phone X", "Case X", "Charger", "Cable"],
            "category": ["phone", "case", "charger", "cable"],
            "brand": ["Acme", "Acme", "Volt", "Volt"],
            "price": ["999", "19.9", "29", "9.5"],
        }
    )


@pytest.fixture
def csv_bytes():
    """Frame -> CSV bytes: ``csv_bytes(frame, sep=",", encoding="utf-8")``."""

    def _make(frame: pd.DataFrame, sep: str = ",", encoding: str = "utf-8") -> bytes:
        return frame.to_csv(index=False, sep=sep).encode(encoding)

    return _make
