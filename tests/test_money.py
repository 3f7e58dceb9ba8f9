"""Prices in the dataset's currency with the decimals its catalog needs; the setting is kept."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recsys.data.prices import format_price, price_column_format, price_decimals
from recsys.errors import ConfigError
from recsys.service.workspace import Workspace


def test_pence_are_never_rounded_away():
    assert price_decimals([0.85, 12.0, np.nan]) == 2
    assert price_decimals([829.0, 1299.0]) == 0
    assert format_price(0.85, "£", 2) == "£0.85"
    assert format_price(1299, "¥", 0) == "¥1,299"
    assert format_price(829, "", 2) == "829.00"
    assert format_price(np.nan, "£") == "" and format_price(None) == "" and format_price(0) == ""
    assert price_column_format("£", 2) == "£%.2f" and price_column_format("", 0) == "%.0f"


def test_currency_setting_is_kept_with_the_dataset(tmp_path):
    ws = Workspace(tmp_path)
    events = pd.DataFrame({"user_id": ["u1", "u2"], "item_id": ["a", "b"], "weight": [1.0, 1.0]})
    ds_id = ws.save_dataset("shop", events, None, {"source": "upload"})
    assert "currency" not in ws.dataset_meta(ds_id)  # default: none
    ws.update_dataset_meta(ds_id, currency="£")
    meta = ws.dataset_meta(ds_id)
    assert meta["currency"] == "£" and meta["n_users"] == 2 and meta["source"] == "upload"
    with pytest.raises(ConfigError):
        ws.update_dataset_meta(ds_id, n_users=5)
