"""A run's folder in the workspace: models as ``.npz`` + JSON, arrays, ``manifest.json`` last.

::

    runs/<run_id>/models/<key>.npz, <key>.json   one pair per fitted model (recsys.models.storage)
                 arrays.npz                      optional numeric arrays
                 manifest.json                   the marker, written last (run_manifest schema)

Reading follows one order: the manifest is checked against the schema (and, when the caller
knows it, against the dataset's fingerprint) before any model file is opened; model files are
read as data only. Nothing in a run folder is ever unpickled or imported.
"""

from __future__ import annotations

import json
import logging
import os
import uuid
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from recsys.errors import ConfigError, InvalidRunError, WorkspaceError
from recsys.models import Recommender, model_class
from recsys.models.storage import load_model, model_files, read_arrays, save_model
from recsys.service.atomic import atomic_directory, atomic_write_json
from recsys.service.entries import complete_dirs, entry_path, utc_now, writing
from recsys.service.run_manifest import (
    MAX_MANIFEST_BYTES,
    RUN_FORMAT,
    check_manifest,
    invalid,
    other_data,
)

log = logging.getLogger(__name__)

MARKER = "manifest.json"


def save(
    root: Path,
    dataset_id: str,
    models: dict[str, Recommender],
    manifest: dict,
    arrays: dict[str, np.ndarray] | None = None,
    *,
    mode: int | None = None,
) -> str:
    """Store a run under ``root/runs``; returns its id (see ``Workspace.save_run``).

    Its files get ``mode`` (``recsys.service.atomic.file_mode``).
    """
    entry_path(root, "datasets", dataset_id)  # validates the id
    for key, model in models.items():
        if not (isinstance(model, Recommender) and _registered(model)):
            raise WorkspaceError(f"'{key}' is not a registered model and cannot be stored.")
    arrays = dict(arrays or {})
    for key, value in arrays.items():
        if np.asarray(value).dtype.kind not in "biuf":
            raise WorkspaceError(f"array '{key}' is not numeric; store numbers only.")
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    run_id = f"run-{stamp}-{uuid.uuid4().hex[:8]}"
    info = dict(manifest)
    info.update(
        run_id=run_id,
        dataset_id=dataset_id,
        created_at=utc_now(),
        format_version=RUN_FORMAT,
        models={key: model.name for key, model in models.items()},
        arrays=list(arrays),
    )
    try:
        check_manifest(json.loads(json.dumps(info, default=str)), run_id)
    except InvalidRunError as err:
        raise WorkspaceError(f"the run was not saved: {err.params.get('reason', err)}.") from err
    target = entry_path(root, "runs", run_id)
    with writing(f"run '{run_id}'", root), atomic_directory(target, mode=mode) as tmp:
        (tmp / "models").mkdir()
        for key, model in models.items():
            save_model(model, tmp / "models" / key)
        if arrays:
            np.savez(
                tmp / "arrays.npz",
                allow_pickle=False,
                **{k: np.asarray(v) for k, v in arrays.items()},
            )
        atomic_write_json(tmp / MARKER, info)  # the marker: written last
    return run_id


def _registered(model: Recommender) -> bool:
    try:
        return model_class(model.name) is type(model)
    except ConfigError:
        return False


def read_manifest(path: Path) -> dict:
    """The checked manifest of the run folder ``path`` (``InvalidRunError`` when it fails)."""
    run_id = path.name
    marker = path / MARKER
    try:
        size = marker.stat().st_size
    except FileNotFoundError as err:
        raise WorkspaceError(f"run '{run_id}' is not in the workspace.") from err
    if size > MAX_MANIFEST_BYTES:
        raise invalid(run_id, "its manifest is too large")
    try:
        data = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise invalid(run_id, "its manifest cannot be read") from err
    return check_manifest(data, run_id)


def checked(path: Path) -> dict:
    """The manifest of a usable run: schema passed and every model's two files present."""
    manifest = read_manifest(path)
    expected = {f.name for key in manifest["models"] for f in model_files(path / "models" / key)}
    try:
        present = {f.name for f in (path / "models").iterdir()}
    except OSError:
        present = set()
    if expected - present:
        raise invalid(path.name, "some of its model files are missing")
    if present - expected:
        raise invalid(path.name, "its model folder holds files this version did not write")
    return manifest


def scan(root: Path, stale_after: float) -> list[tuple[dict | None, InvalidRunError | None]]:
    """``(manifest, None)`` of each usable run under ``root/runs``, ``(None, error)`` of the rest.

    A folder whose name is no run id is neither listed nor read; an unreadable one is skipped.
    """
    out: list[tuple[dict | None, InvalidRunError | None]] = []
    for path in complete_dirs(root / "runs", MARKER, stale_after):
        try:
            entry_path(root, "runs", path.name)
        except WorkspaceError:
            log.warning("ignoring runs/%r: not a run folder name", path.name)
            continue
        try:
            out.append((checked(path), None))
        except InvalidRunError as err:
            out.append((None, err))
        except WorkspaceError:
            continue
    return out


def size(path: Path) -> int:
    """Bytes the run folder ``path`` takes on disk (links not followed)."""
    if not path.is_dir():
        raise WorkspaceError(f"run '{path.name}' is not in the workspace.")
    total = 0
    for folder, _, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(folder, name)).st_size
            except OSError:  # removed meanwhile
                continue
    return total


def load(
    path: Path, fingerprint: str | None = None
) -> tuple[dict[str, Recommender], dict, dict[str, np.ndarray]]:
    """``(models, manifest, arrays)``: manifest checked, then the fingerprint, then the files."""
    run_id = path.name
    manifest = checked(path)
    if fingerprint is not None and manifest["dataset_fingerprint"] != fingerprint:
        raise other_data(run_id)
    models: dict[str, Recommender] = {}
    for key, name in manifest["models"].items():
        try:
            models[key] = load_model(path / "models" / key, name)
        except ConfigError as err:
            raise invalid(run_id, f"model '{key}' cannot be read ({err})") from err
    arrays: dict[str, np.ndarray] = {}
    if manifest["arrays"]:
        try:
            arrays = read_arrays(path / "arrays.npz", "the run")
        except ConfigError as err:
            raise invalid(run_id, "its arrays cannot be read") from err
        if sorted(arrays) != sorted(manifest["arrays"]):
            raise invalid(run_id, "its arrays are not those its manifest lists")
    log.debug("run %s read (%d models)", run_id, len(models))
    return models, manifest, arrays


__all__ = ["MARKER", "checked", "load", "read_manifest", "save", "scan", "size"]
