"""A run's folder in the workspace: models as ``.npz`` + JSON, arrays, ``manifest.json`` last.

::

    runs/<run_id>/models/<key>.npz, <key>.json   one pair per fitted model (recsys.models.storage)
                 arrays.npz                      optional numeric arrays
                 pools/<name>.npy                optional candidate pools (recsys.service.stored_pools)
                 manifest.json                   the marker, written last (run_manifest schema)

Reading follows one order: the manifest is checked against the schema (and, when the caller
knows it, against the dataset's fingerprint) before any model file is opened; model files are
read as data only. Nothing in a run folder is ever unpickled or imported. The manifest holds
the SHA-256 of every pool file (``pool_files``): a pool file that does not match it is refused.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import uuid
from collections.abc import Mapping
from datetime import datetime
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
#: Folder of a run's stored candidate pools (one ``.npy`` per array).
POOLS = "pools"
_CHUNK = 1 << 20


def save(
    root: Path,
    dataset_id: str,
    models: dict[str, Recommender],
    manifest: dict,
    arrays: dict[str, np.ndarray] | None = None,
    *,
    pools: Mapping[str, np.ndarray] | None = None,
    mode: int | None = None,
) -> str:
    """Store a run under ``root/runs``; returns its id (see ``Workspace.save_run``).

    ``pools`` are numeric arrays written one per file as ``pools/<name>.npy`` (read back
    memory-mapped by ``load_pools``); the manifest records each file's SHA-256. Its files get
    ``mode`` (``recsys.service.atomic.file_mode``).
    """
    entry_path(root, "datasets", dataset_id)  # validates the id
    for key, model in models.items():
        if not (isinstance(model, Recommender) and _registered(model)):
            raise WorkspaceError(f"'{key}' is not a registered model and cannot be stored.")
    arrays = dict(arrays or {})
    pools = dict(pools or {})
    for key, value in (arrays | {f"{POOLS}/{k}": v for k, v in pools.items()}).items():
        if np.asarray(value).dtype.kind not in "biuf":
            raise WorkspaceError(f"array '{key}' is not numeric; store numbers only.")
    created = utc_now()  # to the microsecond: runs of one second keep their order
    stamp = datetime.fromisoformat(created).strftime("%Y%m%d-%H%M%S-%f")
    run_id = f"run-{stamp}-{uuid.uuid4().hex[:8]}"
    info = dict(manifest)
    info.update(
        run_id=run_id,
        dataset_id=dataset_id,
        created_at=created,
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
        if pools:
            (tmp / POOLS).mkdir()
            info["pool_files"] = {
                k: _save_npy(tmp / POOLS / f"{k}.npy", v) for k, v in pools.items()
            }
            check_manifest(json.loads(json.dumps(info, default=str)), run_id)
        atomic_write_json(tmp / MARKER, info)  # the marker: written last
    return run_id


class _Hashing:
    """A binary file that hashes what is written to it (``np.save`` writes through it)."""

    def __init__(self, fh) -> None:
        self.fh = fh
        self.digest = hashlib.sha256()

    def write(self, data) -> int:
        self.digest.update(data)
        return self.fh.write(data)


def _save_npy(path: Path, value: np.ndarray) -> str:
    """Write ``value`` as a ``.npy`` file (no pickles); its SHA-256."""
    with path.open("wb") as fh:
        out = _Hashing(fh)
        np.save(out, np.ascontiguousarray(value), allow_pickle=False)
    return out.digest.hexdigest()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


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
    pool_names = {f"{name}.npy" for name in manifest.get("pool_files", {})}
    try:
        pool_present = {f.name for f in (path / POOLS).iterdir()}
    except OSError:
        pool_present = set()
    if pool_names != pool_present:
        raise invalid(path.name, "its candidate pool files are not those its manifest lists")
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


def load_pools(path: Path, manifest: dict) -> dict[str, np.ndarray]:
    """The stored pool arrays of the run folder ``path`` (``{}`` for a run saved without).

    Each file is checked against the SHA-256 its (already checked) ``manifest`` lists, then
    mapped read-only into memory (``np.load(mmap_mode="r")``, no pickles). A file that is
    missing, altered or not a numeric ``.npy`` raises ``InvalidRunError``.
    """
    out: dict[str, np.ndarray] = {}
    for name, digest in manifest.get("pool_files", {}).items():
        file = path / POOLS / f"{name}.npy"
        try:
            same = _sha256(file) == digest
            value = np.asarray(np.load(file, mmap_mode="r", allow_pickle=False)) if same else None
        except (OSError, ValueError) as err:
            raise invalid(path.name, f"its candidate pool file '{name}' cannot be read") from err
        if value is None:
            raise invalid(path.name, f"its candidate pool file '{name}' was altered")
        if value.dtype.kind not in "biuf":
            raise invalid(path.name, f"its candidate pool file '{name}' is not numeric")
        out[name] = value
    return out


__all__ = [
    "MARKER",
    "POOLS",
    "checked",
    "load",
    "load_pools",
    "read_manifest",
    "save",
    "scan",
    "size",
]
