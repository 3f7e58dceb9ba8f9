"""Data page with personal data (``AppTest``, fast mode): the preview masks it, the warning names
the columns and never a value, and the chosen action (hash) reaches the stored dataset."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from recsys.service.workspace import Workspace

APP = Path(__file__).resolve().parents[1] / "app.py"


@pytest.fixture
def workspace(tmp_path, monkeypatch):
    monkeypatch.setenv("FUSION_STUDIO_WORKSPACE", str(tmp_path))
    monkeypatch.setenv("FUSION_STUDIO_FAST", "1")
    return tmp_path


def test_personal_columns_are_masked_and_hashed(workspace):
    emails = [f"buyer{u}@example.net" for u in range(20)]
    rows = [
        f"{emails[u]},+1 415-555-{1000 + u},p{(u + j) % 9},view"
        for u in range(20)
        for j in range(4)
    ]
    csv = ("customer_id,phone,sku,action\n" + "\n".join(rows)).encode()
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.run()
    at.file_uploader(key="data_up_inter").set_value(("people.csv", csv, "text/csv"))
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    shown = " ".join(str(d.value.to_dict()) for d in at.dataframe) + " ".join(
        w.value for w in at.warning
    )
    assert "customer_id" in shown and "e-mail addresses" in shown and "phone numbers" in shown
    assert not any(e in shown for e in emails) and "415-555" not in shown
    assert at.radio[0].value == "hash"
    at.button(key="data_save").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    ws = Workspace(workspace)
    events, _ = ws.load_frames(at.session_state["dataset_id"])
    stored = events.to_csv()
    assert len(events) == 80 and not any(e in stored for e in emails) and "415-555" not in stored
    meta = ws.dataset_meta(at.session_state["dataset_id"])
    assert not any(e in str(meta) for e in emails)
