"""Pseudonymised exports from the Export page (``AppTest``, fast mode): the downloaded
recommendation and audience files carry HMAC-SHA-256 pseudonyms and say so, the mapping is
written into the workspace (owner-only) and never downloaded, it round-trips to the original
user ids, and the workspace key gives the same pseudonyms in another session."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest
import streamlit as st
from app_training import train
from streamlit.testing.v1 import AppTest

from recsys.service.pseudonyms import reidentify
from recsys.service.workspace import Workspace

APP = Path(__file__).resolve().parents[1] / "app.py"
EXPORT = "pages/8_export.py"


@pytest.fixture
def downloads(tmp_path, monkeypatch):
    """The workspace (fast mode) and every download button's file: ``{key: (name, bytes)}``."""
    monkeypatch.setenv("FUSION_STUDIO_WORKSPACE", str(tmp_path))
    monkeypatch.setenv("FUSION_STUDIO_FAST", "1")
    seen: dict[str, tuple[str, bytes]] = {}
    button = st.download_button

    def recording(label, data, file_name=None, *args, **kwargs):
        seen[kwargs.get("key")] = (file_name, data)
        return button(label, data, file_name, *args, **kwargs)

    monkeypatch.setattr(st, "download_button", recording)
    return seen


def _csv(data: bytes) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False)


def _export_page(at: AppTest) -> AppTest:
    at.switch_page(EXPORT).run()
    assert not at.exception and not at.error, [e.value for e in [*at.exception, *at.error]]
    return at


def test_pseudonymised_export_round_trips_through_the_local_mapping(tmp_path, downloads):
    at = AppTest.from_file(str(APP), default_timeout=300)
    at.run()
    at.switch_page("pages/2_train.py").run()
    at.multiselect(key="tr_models").set_value(["popularity", "item_knn"])
    train(at)
    assert not at.exception, [e.value for e in at.exception]
    _export_page(at)
    plain = _csv(downloads["ex_download_recs"][1])
    assert "user_id_pseudonymised" not in plain.columns

    at.checkbox(key="ex_pseudo").check().run()
    assert not at.exception and not at.error, [e.value for e in [*at.exception, *at.error]]
    name, data = downloads["ex_download_recs"]
    shipped = _csv(data)
    mapping_path = tmp_path / "exports" / "recommendations-all-mapping.csv"
    # the downloaded file: pseudonyms, marked as such, the same rows otherwise
    assert set(shipped["user_id_pseudonymised"]) == {"HMAC-SHA-256"}
    assert not set(shipped["user_id"]) & set(plain["user_id"])
    assert shipped["user_id"].str.fullmatch(r"[0-9a-f]{16}").all()
    assert shipped["item_id"].tolist() == plain["item_id"].tolist()
    # the mapping: in the workspace, owner-only, its path shown, never a download
    assert mapping_path.is_file() and mapping_path.stat().st_mode & 0o077 == 0
    assert any(str(mapping_path) in c.value.replace("\\", "") for c in at.caption)  # md-escaped
    assert not any("mapping" in str(n) for n, _ in downloads.values())
    local = pd.read_csv(mapping_path, dtype=str, keep_default_na=False)
    back = reidentify(shipped, local)
    assert back["user_id"].tolist() == plain["user_id"].tolist()
    events, _ = Workspace(tmp_path).load_frames(at.session_state["dataset_id"])
    assert set(back["user_id"]) <= set(events["user_id"].astype(str))

    # the audience list: pseudonymised too, its own mapping round-trips
    at.button(key="ex_build_audience").click().run()
    assert not at.exception and not at.error, [e.value for e in [*at.exception, *at.error]]
    audience = _csv(downloads["ex_download_audience"][1])
    assert len(audience) and set(audience["user_id_pseudonymised"]) == {"HMAC-SHA-256"}
    (aud_map,) = (tmp_path / "exports").glob("audience-*-mapping.csv")
    assert aud_map.stat().st_mode & 0o077 == 0
    aud_back = reidentify(audience, pd.read_csv(aud_map, dtype=str, keep_default_na=False))
    assert aud_back["user_id"].notna().all()
    assert set(aud_back["user_id"]) <= set(events["user_id"].astype(str))
    assert set(audience["user_id"]) <= set(local["pseudonym"])  # one key: one pseudonym per user

    # the same key (a new session on the same workspace) gives the same pseudonyms again
    again = AppTest.from_file(str(APP), default_timeout=300)
    again.query_params["ds"] = at.session_state["dataset_id"]
    again.query_params["run"] = at.session_state["run_id"]
    again.run()
    _export_page(again)
    again.checkbox(key="ex_pseudo").check().run()
    assert not again.exception, [e.value for e in again.exception]
    second = _csv(downloads["ex_download_recs"][1])
    assert second["user_id"].tolist() == shipped["user_id"].tolist()
    assert name == "recommendations_all.csv"
