"""Deleting shoppers on request (right to be forgotten): their events leave every dataset.

``forget_users(workspace, user_ids)`` removes every event and user-table row of the given users
from every dataset of the workspace (in place: the dataset keeps its id, ``meta.json`` records
how many users and events were removed and when, never which), and marks every run trained on
a changed dataset as stale (``manifest["stale"]``): such a run's models were fitted on the
deleted events and still hold traces of them (user factors, co-occurrence counts), so it must
be retrained or deleted; it can no longer be loaded for the changed data. Ids are never
logged. Exports already written and handed out are outside the workspace's reach.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from recsys.data.column_roles import resolve_mapping
from recsys.data.csv_reader import read_csv_source
from recsys.data.schema import Col
from recsys.errors import DataValidationError
from recsys.service import run_files as runs
from recsys.service.atomic import atomic_write_bytes, atomic_write_json
from recsys.service.entries import entry_path, parquet_ready, utc_now, writing
from recsys.service.workspace import DATASET_MARKER, Workspace

log = logging.getLogger(__name__)

STALE_REASON = "trained on events of users deleted on request: retrain or delete this run"


@dataclass(frozen=True)
class Forgotten:
    """What a deletion did: counts per dataset, the runs now stale, requested ids not found."""

    requested: int
    found: int
    events_removed: dict[str, int]
    stale_runs: list[str]

    @property
    def not_found(self) -> int:
        """Requested ids that no dataset had."""
        return self.requested - self.found


def read_user_ids(source: bytes | str | Path, file_name: str | None = None) -> list[str]:
    """User ids from a CSV with a user id column (or a single column of ids)."""
    raw, name = read_csv_source(source, file_name, "users_to_delete.csv")
    columns = list(raw.frame.columns)
    if len(columns) == 1:
        column = columns[0]
    else:
        column = resolve_mapping(columns, "users", None, name)["user"]
    ids = raw.frame[column].astype(str).str.strip()
    ids = ids[ids != ""]
    if len(ids) == 0:
        raise DataValidationError("no user ids in the file.", file=name, column=column)
    return list(pd.unique(ids))


def forget_users(workspace: Workspace, user_ids: Iterable[str]) -> Forgotten:
    """Remove the users' events from every dataset; mark the affected runs stale."""
    ids = pd.Index(pd.unique(pd.Series([str(u).strip() for u in user_ids], dtype=object)))
    found: set[str] = set()
    removed: dict[str, int] = {}
    stale: list[str] = []
    for info in workspace.list_datasets():
        events, _ = workspace.load_frames(info.id)
        users = workspace.load_users(info.id)
        hit = events[Col.USER].astype(str).isin(ids).to_numpy()
        uhit = users[Col.USER].astype(str).isin(ids).to_numpy() if users is not None else None
        if not hit.any() and (uhit is None or not uhit.any()):
            continue
        found |= set(events.loc[hit, Col.USER].astype(str))
        if users is not None and uhit is not None:
            found |= set(users.loc[uhit, Col.USER].astype(str))
        gone = int(pd.Series(events.loc[hit, Col.USER]).nunique())
        note = {"deleted_users": gone, "deleted_events": int(hit.sum()), "at": utc_now()}
        _replace_frames(
            workspace,
            info.id,
            events.loc[~hit].reset_index(drop=True),
            users.loc[~uhit].reset_index(drop=True)
            if users is not None and uhit is not None
            else None,
            note,
        )
        removed[info.id] = int(hit.sum())
        for run in workspace.list_runs(info.id):
            _mark_run_stale(workspace, str(run["run_id"]), STALE_REASON)
            stale.append(str(run["run_id"]))
    log.info(
        "deletion request: %d of %d users found, %d events removed from %d dataset(s), "
        "%d run(s) marked stale",
        len(found),
        len(ids),
        sum(removed.values()),
        len(removed),
        len(stale),
    )
    return Forgotten(len(ids), len(found), removed, stale)


__all__ = ["STALE_REASON", "Forgotten", "forget_users", "read_user_ids"]


def _replace_frames(
    workspace: Workspace,
    dataset_id: str,
    events: pd.DataFrame,
    users: pd.DataFrame | None,
    note: dict,
) -> None:
    """Overwrite a dataset's events (and user table) in place; ``note`` joins its history.

    The id stays, the counts in ``meta.json`` are updated and ``note`` (counts and a time,
    never ids) is appended to ``meta["history"]``.
    """
    path = entry_path(workspace.root, "datasets", dataset_id)
    meta = workspace.dataset_meta(dataset_id)
    meta.update(
        n_users=int(events[Col.USER].nunique()) if Col.USER in events.columns else 0,
        n_interactions=len(events),
        history=[*meta.get("history", []), note],
    )
    mode = workspace.file_mode
    with writing(f"dataset '{dataset_id}'"):
        buffer = io.BytesIO()
        parquet_ready(events).to_parquet(buffer, index=False)
        atomic_write_bytes(path / "events.parquet", buffer.getvalue(), mode=mode)
        if users is not None and (path / "users.parquet").is_file():
            buffer = io.BytesIO()
            parquet_ready(users).to_parquet(buffer, index=False)
            atomic_write_bytes(path / "users.parquet", buffer.getvalue(), mode=mode)
        atomic_write_json(path / DATASET_MARKER, meta, mode=mode)
    log.info("dataset %s rewritten (%d interactions)", dataset_id, len(events))


def _mark_run_stale(workspace: Workspace, run_id: str, reason: str) -> None:
    """Record in a run's manifest that its training data changed (``stale``: reason, time)."""
    path = entry_path(workspace.root, "runs", run_id)
    manifest = runs.read_manifest(path)
    manifest["stale"] = {"reason": reason, "at": utc_now()}
    with writing(f"run '{run_id}'"):
        atomic_write_json(path / runs.MARKER, manifest, mode=workspace.file_mode)
    log.info("run %s marked stale", run_id)
