"""Per-session state that survives a refresh: kept in this tab's URL, never in a shared file.

Five query parameters carry what one person is doing, so a colleague's choices never move this
session and a refresh (or a bookmarked link) comes back to the same place:

======  ==============================================================================
``ds``   the active dataset id
``run``  the active run id
``user`` the user picked in the User explorer
``lab``  the Fusion lab's unsaved settings (fusion and re-ranking configs, and the preset
         they started from), as compressed JSON in base64url
``job``  this tab's training job while it is queued or running (``ui.training_watch``)
======  ==============================================================================

``restore`` reads them once per session (after the login, before the workspace is read);
``publish`` writes them back whenever they change, on every full run (``ui.frame``) and
after the lab's fragment reruns. Values from the URL are input like any other: ids must name
entries of the workspace, the lab settings must parse, or they are ignored.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import zlib
from typing import Any

import streamlit as st

from recsys.errors import RecsysError
from recsys.ranking.fusion import FusionConfig
from recsys.ranking.rerank import RerankConfig
from ui import state

log = logging.getLogger(__name__)

DATASET, RUN, USER, LAB, JOB = "ds", "run", "user", "lab", "job"
#: Session key of this tab's training job (``ui.training_watch.JOB_KEY``).
JOB_KEY = "train_job"
#: Longest ``lab`` value read from a URL (a few dozen rules compress to far less).
MAX_LAB_CHARS = 16_000
#: Session keys (``cur_`` keys are dropped with the rest of a run's state on a switch).
USER_KEY = "cur_user"
SOURCE_KEY = "cur_source"
_RESTORED = "_url_restored"


def encode_lab(fusion: dict, rerank: dict, source: dict | None) -> str:
    """The lab settings as a URL-safe string (zlib-compressed JSON, base64url without padding)."""
    doc = {"f": fusion, "r": rerank, "s": source}
    raw = json.dumps(doc, sort_keys=True, separators=(",", ":"), default=str).encode("utf-8")
    return base64.urlsafe_b64encode(zlib.compress(raw, 9)).decode("ascii").rstrip("=")


def decode_lab(text: str) -> dict[str, Any] | None:
    """Inverse of :func:`encode_lab`; None for anything that is not valid lab settings."""
    if not text or len(text) > MAX_LAB_CHARS:
        return None
    try:
        raw = zlib.decompressobj().decompress(
            base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)), 1_000_000
        )
        doc = json.loads(raw.decode("utf-8"))
        FusionConfig.from_dict(doc["f"])
        RerankConfig.from_dict(doc["r"])
    except (binascii.Error, zlib.error, ValueError, KeyError, TypeError, RecsysError) as err:
        log.info("lab settings in the URL ignored: %s", err)
        return None
    source = doc.get("s")
    return {
        "fusion": doc["f"],
        "rerank": doc["r"],
        "source": source if isinstance(source, dict) else None,
    }


def restore() -> None:
    """Once per session: take the dataset, run, user and lab settings from the URL."""
    ss = st.session_state
    if ss.get(_RESTORED):
        return
    ss[_RESTORED] = True
    params = st.query_params
    if params.get(JOB):  # checked against the queue when the Train page follows it
        ss[JOB_KEY] = str(params.get(JOB))[:64]
    ds_id = params.get(DATASET)
    if not ds_id or ds_id not in {d["id"] for d in state.list_datasets()}:
        return
    ss["dataset_id"] = ds_id
    run_id = params.get(RUN)
    runs = {r["id"] for r in state.list_runs(ds_id)}
    ss["run_id"] = run_id if run_id in runs else state.latest_run_id(ds_id)
    if ss["run_id"] != run_id:
        return  # the user and the lab settings belonged to another run
    if params.get(USER):
        ss[USER_KEY] = str(params.get(USER))
    lab = decode_lab(params.get(LAB, ""))
    if lab is not None:
        ss["cur_fusion"], ss["cur_rerank"] = lab["fusion"], lab["rerank"]
        ss[SOURCE_KEY] = lab["source"]


def wanted() -> dict[str, str | None]:
    """The query parameters this session's state asks for (None: absent)."""
    ss = st.session_state
    lab = None
    if ss.get("cur_fusion") is not None and ss.get("cur_rerank") is not None:
        lab = encode_lab(ss["cur_fusion"], ss["cur_rerank"], ss.get(SOURCE_KEY))
    return {
        DATASET: ss.get("dataset_id"),
        RUN: ss.get("run_id"),
        USER: ss.get(USER_KEY),
        LAB: lab,
        JOB: ss.get(JOB_KEY),
    }


def publish() -> None:
    """Write changed values to the URL (only those that differ, so the URL does not churn)."""
    params = st.query_params
    for key, value in wanted().items():
        if value is None:
            if key in params:
                del params[key]
        elif params.get(key) != value:
            params[key] = value


def remember_user(user: str | None) -> None:
    """The User explorer's pick, kept for this session and its URL."""
    ss = st.session_state
    if user is not None and ss.get(USER_KEY) != user:
        ss[USER_KEY] = str(user)
        publish()
