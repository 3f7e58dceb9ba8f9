"""Train page: fold new events into the active run (``AppTest``, no browser, fast mode)."""

from __future__ import annotations

from pathlib import Path

import pytest
from app_session import studio_workspace
from app_training import train
from streamlit.testing.v1 import AppTest

from recsys.service.workspace import Workspace

APP = Path(__file__).resolve().parents[1] / "app.py"
TRAIN = "pages/2_train.py"


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    with studio_workspace(tmp_path_factory.mktemp("update_ws")) as root:
        yield root


def _trained(root: Path) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=300)
    at.run()
    at.switch_page(TRAIN)
    at.run()
    at.multiselect(key="tr_models").set_value(["popularity", "item_knn", "ease"])
    train(at)
    assert not at.exception, [e.value for e in at.exception]
    assert at.session_state["run_id"]
    return at


def test_new_events_update_the_run(workspace):
    at = _trained(workspace)
    ds_before, run_before = at.session_state["dataset_id"], at.session_state["run_id"]
    events, _ = Workspace(workspace).load_frames(ds_before)
    users = events["user_id"].astype(str).unique()[:5]
    items = events["item_id"].astype(str).unique()[:4]
    rows = [f"{u},{i},purchase,2024-07-01 10:00" for u in users for i in items]
    rows += [f"NEWBIE,{items[0]},view,2024-07-01 11:00"]
    csv = ("user_id,item_id,event,timestamp\n" + "\n".join(rows)).encode()

    at.file_uploader(key="tr_up_events").set_value(("bad.csv", b"foo,bar\n1,2\n", "text/csv"))
    at.run()
    at.button(key="tr_up_go").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.error and all("Traceback" not in e.value for e in at.error)
    assert at.session_state["run_id"] == run_before

    at.file_uploader(key="tr_up_events").set_value(("new.csv", csv, "text/csv"))
    at.run()
    at.button(key="tr_up_go").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert at.session_state["run_id"] != run_before
    assert at.session_state["dataset_id"] != ds_before
    assert any("Added 21 events (1 new shoppers" in s.value for s in at.success)
    table = next(d.value for d in at.dataframe if "How" in d.value.columns)
    how = dict(zip(table["Model"], table["How"], strict=True))
    assert list(how.values()).count("retrained in full") == 1  # EASE
    assert list(how.values()).count("updated incrementally") == 2
