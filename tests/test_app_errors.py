"""Failures in the app (``AppTest``, fast mode): expected ones read as plain messages, bugs are
logged with a traceback and an error id that the user sees too."""

from __future__ import annotations

import errno
import logging
import re
from pathlib import Path

import pandas as pd
import pytest
from app_session import fresh_session, studio_workspace
from streamlit.testing.v1 import AppTest

from recsys.errors import WorkspaceError
from ui.text import md

APP = Path(__file__).resolve().parents[1] / "app.py"
FULL = re.compile(
    r"Could not finish: the workspace's disk is full \(\d[\d,]* MB free\); nothing was changed\."
)


@pytest.fixture(scope="module", autouse=True)
def workspace(tmp_path_factory):
    with studio_workspace(tmp_path_factory.mktemp("errors_ws")) as root:
        yield root


def _app() -> AppTest:
    return fresh_session()


def _click_demo(at: AppTest) -> AppTest:
    """Press "Load the demo store" asking for a new copy (else it opens the existing one)."""
    at.checkbox(key="data_demo_new").check()
    at.button(key="data_demo").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]  # no traceback reaches the page
    return at


def test_a_bug_is_logged_with_the_id_the_user_sees(monkeypatch, caplog):
    at = _app()

    def broken(**kwargs):
        raise ZeroDivisionError("a bug in the demo generator")

    monkeypatch.setattr("ui.state.generate_store", broken)
    with caplog.at_level(logging.ERROR, logger="ui"):
        _click_demo(at)
    shown = [e.value for e in at.error]
    assert len(shown) == 1, shown
    match = re.search(r"error id ([0-9a-f]{8})", shown[0])
    assert match, shown
    assert "a bug in the demo generator" not in shown[0]  # details stay in the server log
    error_id = match.group(1)
    records = [r for r in caplog.records if error_id in r.getMessage()]
    assert len(records) == 1, [r.getMessage() for r in caplog.records]
    record = records[0]
    assert record.levelno == logging.ERROR and record.name == "ui.errors"
    assert record.exc_info and record.exc_info[0] is ZeroDivisionError
    assert "broken" in caplog.text and "Traceback" in caplog.text  # the traceback is logged


def test_an_expected_error_is_a_plain_translated_message(monkeypatch, caplog):
    at = _app()

    def full(**kwargs):
        raise WorkspaceError("the disk is full.")

    monkeypatch.setattr("ui.state.generate_store", full)
    with caplog.at_level(logging.ERROR, logger="ui"):
        _click_demo(at)
    # the library's text, escaped for Markdown (it may quote the user's data: ui.text.md)
    assert [e.value for e in at.error] == ["Could not finish: " + md("the disk is full.")]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]  # no bug, no log

    at.segmented_control(key="lang").set_value("zh").run()
    _click_demo(at)
    assert [e.value for e in at.error] == [
        "未能完成：" + md("the disk is full.")
    ]  # no code: English text


def test_boundary_catches_a_bug_logs_it_and_returns_the_id(caplog):
    """The one catch-all (around the page in app.py and around each st.fragment body)."""
    from ui.errors import boundary

    with caplog.at_level(logging.ERROR, logger="ui"):
        with boundary() as outcome:
            raise KeyError("probe")
    assert outcome.failed and re.fullmatch(r"[0-9a-f]{8}", outcome.error_id)
    (record,) = caplog.records
    assert outcome.error_id in record.getMessage() and record.exc_info[0] is KeyError


def test_a_full_disk_at_start_up_is_a_plain_message_on_every_load(tmp_path, monkeypatch):
    """A fresh workspace that cannot be created: the disk-full message, not a generic error."""
    fresh = tmp_path / "fresh"
    monkeypatch.setenv("FUSION_STUDIO_WORKSPACE", str(fresh))
    real_mkdir = Path.mkdir

    def full(self, *args, **kwargs):
        if self == fresh or fresh in self.parents:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_mkdir(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", full)
    for _ in range(2):  # the first load and a refresh
        at = AppTest.from_file(str(APP), default_timeout=120)
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        shown = [e.value for e in at.error]
        assert len(shown) == 1 and FULL.fullmatch(shown[0]), shown
    assert not fresh.exists()


def test_a_full_disk_when_saving_an_upload_is_a_plain_message(monkeypatch):
    at = _app()
    before = [d["id"] for d in _datasets()]

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pd.DataFrame, "to_parquet", full)
    _click_demo(at)  # saved like an upload: ingest, then Workspace.save_dataset
    shown = [e.value for e in at.error]
    assert len(shown) == 1 and FULL.fullmatch(shown[0]), shown
    monkeypatch.undo()
    assert [d["id"] for d in _datasets()] == before  # nothing was changed


def _datasets() -> list[dict]:
    from recsys.service.workspace import Workspace

    return [{"id": d.id} for d in Workspace().list_datasets()]
