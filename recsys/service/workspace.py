"""The on-disk workspace: datasets, trained runs, presets, exports and a little app state.

A browser refresh or an app restart loses nothing: everything the app keeps lives under one
root folder (argument, else ``$FUSION_STUDIO_WORKSPACE``, else ``data/workspace/`` in the repo)::

    datasets/<dataset_id>/events.parquet, catalog.parquet, users.parquet, meta.json
                                                            (meta.json written last)
    runs/<run_id>/models/<key>.npz + <key>.json, arrays.npz, pools/*.npy, manifest.json
                                                            (manifest.json written last)
    presets/<preset_id>.json
    exports/<file>
    state.json

Safety
------
* Every file is written atomically (temp file + fsync + ``os.replace``); multi-file entries are
  built in a temporary directory, completed by their marker file, then renamed into place.
  A crash mid-save leaves the previous state intact; half-written entries (no marker, or a
  ``.tmp-`` directory) are invisible to listings and removed once older than ``stale_after``
  seconds (young ones may belong to a save still running in another session).
* Ids are unique (slug + random suffix), so two sessions saving at once never collide;
  ``state.json`` read-modify-writes hold an advisory file lock (``fcntl``, POSIX).
* Nothing is ever unpickled. Uploaded data is stored as Parquet + JSON; fitted models as
  numeric ``.npz`` (read with ``allow_pickle=False``) + JSON, the class chosen by the registry
  name in a manifest that is checked against a schema first (:mod:`recsys.service.run_files`).
  Runs of older versions (pickles) are reported by :meth:`Workspace.invalid_runs`, never read.
* Names from users become ASCII slugs; ids are validated, so ``../../etc`` cannot escape.

The rules all entries share (ids, paths, completeness, JSON reads, OS errors turned into
``WorkspaceError``) live in :mod:`recsys.service.entries`.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from recsys.data.dataset import Dataset
from recsys.data.schema import Col
from recsys.errors import ConfigError, InvalidRunError, Message, WorkspaceError
from recsys.models.base import Recommender
from recsys.service import run_files as runs
from recsys.service.app_state import AppState
from recsys.service.atomic import (
    atomic_directory,
    atomic_write_bytes,
    atomic_write_json,
    dir_mode,
    remove_abandoned,
    remove_leftovers,
    remove_tree,
)
from recsys.service.atomic import file_mode as atomic_file_mode
from recsys.service.entries import (
    complete_dirs,
    created_order,
    disk_full,
    disk_full_error,
    entry_path,
    new_id,
    parquet_ready,
    read_json,
    slugify,
    utc_now,
    writing,
)
from recsys.service.preset import Preset

log = logging.getLogger(__name__)

#: Environment variable overriding the default workspace root.
ENV_VAR = "FUSION_STUDIO_WORKSPACE"
DEFAULT_ROOT = Path(__file__).resolve().parent.parent / "data" / "workspace"
#: Format of the stored datasets (runs have their own: ``run_manifest.RUN_FORMAT``).
FORMAT_VERSION = 1

DATASET_MARKER = "meta.json"  # marks a complete dataset folder (written last)


@dataclass(frozen=True)
class DatasetInfo:
    """One line of the dataset list (read from ``meta.json``, no data loaded)."""

    id: str
    name: str
    created_at: str
    n_users: int
    n_items: int
    n_interactions: int
    source: str = ""  # demo | upload | cli ...
    saved_by: str = ""  # who saved it (the signed-in person, or the OS user)


class Workspace(AppState):
    """Datasets, runs, presets, exports and state under one root folder.

    Parameters
    ----------
    root : folder of the workspace; default ``$FUSION_STUDIO_WORKSPACE`` or ``data/workspace/``.
    stale_after : seconds after which an incomplete entry left by a crashed save is removed
        during listing.
    file_mode : permissions of every file written (exports, presets, datasets, runs, state);
        default ``$FUSION_STUDIO_FILE_MODE`` or 0644 (``recsys.service.atomic.file_mode``).
    """

    def __init__(
        self,
        root: str | Path | None = None,
        *,
        stale_after: float = 3600.0,
        file_mode: int | str | None = None,
    ) -> None:
        if root is None:
            root = os.environ.get(ENV_VAR) or DEFAULT_ROOT
        self.root = Path(root).expanduser().resolve()
        self.stale_after = float(stale_after)
        try:
            self.file_mode = atomic_file_mode(file_mode)
        except ValueError as err:
            raise WorkspaceError(str(err)) from err
        try:
            for sub in ("datasets", "runs", "presets", "exports"):
                if not (self.root / sub).is_dir():
                    (self.root / sub).mkdir(parents=True, exist_ok=True)
                    os.chmod(self.root / sub, dir_mode(self.file_mode))
        except OSError as err:
            if disk_full(err):
                raise disk_full_error(self.root) from err
            raise WorkspaceError(f"cannot create the workspace folder {self.root}: {err}") from err
        self.clean_leftovers()

    def clean_leftovers(self) -> int:
        """Remove the ``.tmp-`` files that interrupted writes left; how many.

        ``state.json``'s go at once (its writes hold the state lock, taken here); those in
        ``presets/`` and ``exports/`` once older than ``atomic.ABANDONED_AFTER`` seconds (a
        younger one may be another session's write). Half-built dataset and run folders are
        removed by the listings (``stale_after``).
        """
        removed = 0
        try:
            with self._state_lock():
                removed += remove_leftovers(self.root / "state.json")
        except OSError:  # a read-only or full disk: leave them for the next start
            pass
        for sub in ("presets", "exports"):
            removed += remove_abandoned(self.root / sub)
        return removed

    def __repr__(self) -> str:
        return f"Workspace({str(self.root)!r})"

    # ------------------------------------------------------------------ datasets
    def save_dataset(
        self,
        name: str,
        events: pd.DataFrame,
        catalog: pd.DataFrame | None,
        meta: dict | None = None,
        *,
        users: pd.DataFrame | None = None,
    ) -> str:
        """Store clean events (+ catalog) and their metadata; returns the new dataset id.

        Parameters
        ----------
        name : display name (any language); the id is an ASCII slug of it plus a random suffix.
        events : clean event frame (``user_id, item_id, weight`` [, ``timestamp`` datetime64,
            ``event``, ``rating`` ...]) as ingest produces it.
        catalog : clean catalog (``item_id`` + attributes) or None.
        meta : JSON-able extras: source file names, column mappings, event weights, readiness
            report. ``id, name, created_at, n_users, n_items, n_interactions`` are filled in.
        users : clean user attribute table (``user_id`` + attribute columns) or None; stored
            as ``users.parquet`` and restored by :meth:`load_dataset`.
        """
        dataset_id = new_id(name, default="dataset")
        target = entry_path(self.root, "datasets", dataset_id)
        n_items = (
            set(events[Col.ITEM].drop_duplicates().astype(str))
            if Col.ITEM in events.columns
            else set()
        )
        if catalog is not None and Col.ITEM in catalog.columns:
            n_items |= set(catalog[Col.ITEM].astype(str))
        info = dict(meta or {})
        info.update(
            id=dataset_id,
            name=str(name),
            created_at=utc_now(),
            format_version=FORMAT_VERSION,
            n_users=int(events[Col.USER].nunique()) if Col.USER in events.columns else 0,
            n_items=len(n_items),
            n_interactions=len(events),
            has_catalog=catalog is not None,
            has_users=users is not None,
        )
        with (
            writing(f"dataset '{name}'", self.root),
            atomic_directory(target, mode=self.file_mode) as tmp,
        ):
            parquet_ready(events).to_parquet(tmp / "events.parquet", index=False)
            if catalog is not None:
                parquet_ready(catalog).to_parquet(tmp / "catalog.parquet", index=False)
            if users is not None:
                parquet_ready(users).to_parquet(tmp / "users.parquet", index=False)
            atomic_write_json(tmp / DATASET_MARKER, info, mode=self.file_mode)  # marker: last
        log.info("dataset %s saved (%d interactions)", dataset_id, len(events))
        return dataset_id

    def list_datasets(self) -> list[DatasetInfo]:
        """Complete datasets, newest first."""
        out = []
        for path in complete_dirs(self.root / "datasets", DATASET_MARKER, self.stale_after):
            try:
                m = read_json(path / DATASET_MARKER)
            except WorkspaceError:
                continue
            out.append(
                DatasetInfo(
                    id=path.name,
                    name=str(m.get("name", path.name)),
                    created_at=str(m.get("created_at", "")),
                    n_users=int(m.get("n_users", 0)),
                    n_items=int(m.get("n_items", 0)),
                    n_interactions=int(m.get("n_interactions", 0)),
                    source=str(m.get("source") or ""),
                    saved_by=str(m.get("saved_by") or ""),
                )
            )
        return sorted(out, key=lambda d: (created_order(d.created_at), d.id), reverse=True)

    def dataset_meta(self, dataset_id: str) -> dict:
        """The ``meta.json`` of a dataset."""
        return read_json(entry_path(self.root, "datasets", dataset_id) / DATASET_MARKER)

    def update_dataset_meta(self, dataset_id: str, **values) -> None:
        """Change settings kept in a dataset's metadata (e.g. ``currency``), atomically.

        The identity and sizes (``id``, ``name``, counts, ``format_version``) cannot change.
        """
        fixed = {"id", "created_at", "format_version", "n_users", "n_items", "n_interactions"}
        if fixed & set(values):
            raise ConfigError(f"dataset metadata {sorted(fixed & set(values))} cannot change.")
        path = entry_path(self.root, "datasets", dataset_id) / DATASET_MARKER
        with writing(f"dataset '{dataset_id}'"):
            meta = read_json(path)
            meta.update(values)
            atomic_write_json(path, meta)

    def load_frames(self, dataset_id: str) -> tuple[pd.DataFrame, pd.DataFrame | None]:
        """The stored ``(events, catalog)`` frames exactly as saved (catalog may be None)."""
        path = entry_path(self.root, "datasets", dataset_id)
        if not (path / DATASET_MARKER).is_file():
            raise WorkspaceError(f"dataset '{dataset_id}' is not in the workspace.")
        try:
            events = pd.read_parquet(path / "events.parquet")
            cat_path = path / "catalog.parquet"
            catalog = pd.read_parquet(cat_path) if cat_path.is_file() else None
        except (OSError, ValueError) as err:
            raise WorkspaceError(f"dataset '{dataset_id}' cannot be read: {err}") from err
        for column in events.columns:  # ids saved categorical (ingest) are read as strings
            if isinstance(events[column].dtype, pd.CategoricalDtype):
                events[column] = events[column].astype(str)
        return events, catalog

    def load_users(self, dataset_id: str) -> pd.DataFrame | None:
        """The stored user attribute table exactly as saved, or None when there is none."""
        path = entry_path(self.root, "datasets", dataset_id)
        if not (path / DATASET_MARKER).is_file():
            raise WorkspaceError(f"dataset '{dataset_id}' is not in the workspace.")
        users_path = path / "users.parquet"
        if not users_path.is_file():
            return None
        try:
            return pd.read_parquet(users_path)
        except (OSError, ValueError) as err:
            raise WorkspaceError(f"dataset '{dataset_id}' cannot be read: {err}") from err

    def load_dataset(self, dataset_id: str) -> Dataset:
        """The stored dataset as a ``Dataset`` (named after its display name)."""
        events, catalog = self.load_frames(dataset_id)
        users = self.load_users(dataset_id)
        name = self.dataset_meta(dataset_id).get("name", dataset_id)
        return Dataset.construct(events, catalog, users=users, name=str(name))

    def delete_dataset(self, dataset_id: str, *, with_runs: bool = True) -> None:
        """Remove a dataset (and, by default, the runs trained on it)."""
        path = entry_path(self.root, "datasets", dataset_id)
        runs = self.list_runs(dataset_id) if with_runs else []
        for run in runs:
            self.delete_run(run["run_id"])
        with writing(f"the deletion of dataset '{dataset_id}'", self.root):
            remove_tree(path)
        log.info("dataset %s deleted (with %d run(s))", dataset_id, len(runs))
        if self.get_state().get("active_dataset") == dataset_id:
            self.set_state(active_dataset=None)

    # ------------------------------------------------------------------ runs
    def save_run(
        self,
        dataset_id: str,
        models: dict[str, Recommender],
        manifest: dict,
        arrays: dict[str, np.ndarray] | None = None,
        pools: dict[str, np.ndarray] | None = None,
    ) -> str:
        """Store fitted models (``.npz`` + JSON, no pickles), the manifest and arrays; the run id.

        ``models`` maps a file name to a fitted registered model. ``manifest`` gets ``run_id,
        dataset_id, created_at, format_version, models, arrays`` filled in and must then pass
        the schema (``recsys.service.run_manifest``). ``arrays`` are numeric, in ``arrays.npz``;
        ``pools`` too, one ``pools/<name>.npy`` each (``run_files.save``).
        """
        return runs.save(
            self.root, dataset_id, models, manifest, arrays, pools=pools, mode=self.file_mode
        )

    def list_runs(self, dataset_id: str | None = None) -> list[dict]:
        """Manifests of complete, valid runs (optionally of one dataset), newest first.

        Runs that fail the checks are left out; :meth:`invalid_runs` lists them.
        """
        out = [m for m, _ in self._scan_runs() if m is not None]
        if dataset_id is not None:
            out = [m for m in out if m["dataset_id"] == dataset_id]
        return sorted(
            out, key=lambda m: (created_order(m["created_at"]), m["run_id"]), reverse=True
        )

    def invalid_runs(self) -> list[dict]:
        """Run folders that cannot be used: ``run_id``, ``problem`` (plain words), ``code``.

        Runs of an older version (pickled models) and anything this version did not write.
        Nothing in them is unpickled or executed. ``problem`` is a ``Message`` (the English
        text, carrying the error's code and parameters for a translation).
        """
        return [
            {
                "run_id": err.params.get("run"),
                "problem": Message(str(err), err.code, **err.params),
                "code": err.code,
            }
            for m, err in self._scan_runs()
            if err is not None
        ]

    def _scan_runs(self) -> list[tuple[dict | None, InvalidRunError | None]]:
        return runs.scan(self.root, self.stale_after)

    def run_manifest(self, run_id: str) -> dict:
        """The manifest of a stored run, checked against the schema (``InvalidRunError``)."""
        return runs.read_manifest(entry_path(self.root, "runs", run_id))

    def load_run(
        self, run_id: str, *, fingerprint: str | None = None
    ) -> tuple[dict[str, Recommender], dict, dict[str, np.ndarray]]:
        """``(models, manifest, arrays)`` of a stored run.

        The manifest is checked first, then its dataset ``fingerprint`` (when given), and only
        then are model files read, as data (``recsys.models.storage``). Raises
        ``InvalidRunError`` for an outdated, foreign or other-data run.
        """
        return runs.load(entry_path(self.root, "runs", run_id), fingerprint)

    def run_pools(self, run_id: str, manifest: dict) -> dict[str, np.ndarray]:
        """The stored pool arrays of a run, memory-mapped (``run_files.load_pools``)."""
        return runs.load_pools(entry_path(self.root, "runs", run_id), manifest)

    def run_size(self, run_id: str) -> int:
        """Bytes a stored run (valid or not) takes on disk: what deleting it frees."""
        return runs.size(entry_path(self.root, "runs", run_id))

    def delete_run(self, run_id: str) -> None:
        """Remove a run (valid or not)."""
        with writing(f"the deletion of run '{run_id}'", self.root):
            remove_tree(entry_path(self.root, "runs", run_id))
        log.info("run %s deleted", run_id)

    # ------------------------------------------------------------------ presets
    def save_preset(
        self, preset: Preset, *, as_new: bool = False, saved_by: str | None = None
    ) -> str:
        """Create or update a preset; returns its id.

        A preset carrying the ``id`` of a stored preset replaces it (unless ``as_new``);
        otherwise a new id is made from its name. The stored JSON adds ``created_at``,
        ``updated_at`` and ``saved_by`` (kept from the stored record when not given).
        """
        data = preset.to_dict()
        stored = not as_new and self._preset_path(data["id"]) is not None
        existing = self._preset_record(data["id"]) if stored else None
        preset_id = data["id"] if existing else new_id(data["name"] or "preset", default="preset")
        now = utc_now()
        data.update(
            id=preset_id,
            created_at=(existing or {}).get("created_at", now),
            updated_at=now,
            saved_by=str(saved_by or (existing or {}).get("saved_by") or ""),
        )
        with writing(f"preset '{data['name']}'", self.root):
            path = entry_path(self.root, "presets", preset_id, ".json")
            atomic_write_json(path, data, mode=self.file_mode)
        return preset_id

    def list_presets(self) -> list[dict]:
        """Stored preset records (the preset's JSON plus ``created_at``, ``updated_at``), by name."""
        out = []
        for path in (self.root / "presets").glob("*.json"):
            if path.name.startswith("."):
                continue
            try:
                out.append(read_json(path))
            except WorkspaceError:
                continue
        return sorted(out, key=lambda p: (str(p.get("name", "")).lower(), str(p.get("id", ""))))

    def load_preset(self, preset_id: str) -> Preset:
        """One stored preset (raises ``WorkspaceError`` when absent, ``ConfigError`` when invalid)."""
        return preset_from_record(self._preset_record(preset_id))

    def rename_preset(self, preset_id: str, new_name: str) -> None:
        """Change a preset's display name (its id stays)."""
        if not str(new_name).strip():
            raise WorkspaceError("a preset needs a non-empty name.")
        preset = self.load_preset(preset_id)
        preset.name = str(new_name).strip()
        self.save_preset(preset)

    def _preset_path(self, preset_id: str) -> Path | None:
        path = entry_path(self.root, "presets", str(preset_id), ".json")
        return path if path.is_file() else None

    def _preset_record(self, preset_id: str) -> dict:
        path = self._preset_path(preset_id)
        if path is None:
            raise WorkspaceError(f"preset '{preset_id}' is not in the workspace.")
        return read_json(path)

    def delete_preset(self, preset_id: str) -> None:
        """Remove a preset (no error when it is already gone)."""
        entry_path(self.root, "presets", preset_id, ".json").unlink(missing_ok=True)

    # ------------------------------------------------------------------ exports
    def save_export(self, file_name: str, data: bytes, *, mode: int | None = None) -> Path:
        """Write an export file atomically under ``exports/``; returns its path.

        Only the base name is kept, reduced to ``[A-Za-z0-9._-]`` (``../x.csv`` -> ``x.csv``).
        The file gets ``mode`` (default: the workspace's ``file_mode``), e.g. 0600 for a file
        only its owner may read.
        """
        base = Path(str(file_name).replace("\\", "/")).name
        stem, dot, ext = base.rpartition(".")
        if not dot:
            stem, ext = base, ""
        safe_stem = slugify(stem, max_len=80, default="export")
        safe_ext = re.sub(r"[^A-Za-z0-9]", "", ext)[:10]
        safe = f"{safe_stem}.{safe_ext}" if safe_ext else safe_stem
        with writing(f"export '{safe}'", self.root):
            return atomic_write_bytes(
                self.root / "exports" / safe,
                bytes(data),
                mode=self.file_mode if mode is None else mode,
            )

    def list_exports(self) -> list[Path]:
        """Export files, newest first."""
        files = [
            p
            for p in (self.root / "exports").iterdir()
            if p.is_file() and not p.name.startswith(".")
        ]
        return sorted(files, key=lambda p: (p.stat().st_mtime, p.name), reverse=True)


#: Keys the workspace adds to a stored preset's JSON (not part of the preset itself).
PRESET_RECORD_KEYS = ("created_at", "updated_at", "saved_by")


def preset_from_record(record: dict) -> Preset:
    """The ``Preset`` of a stored record (``list_presets`` entries), without workspace fields."""
    return Preset.from_dict({k: v for k, v in record.items() if k not in PRESET_RECORD_KEYS})


__all__ = [
    "DEFAULT_ROOT",
    "ENV_VAR",
    "DatasetInfo",
    "Workspace",
    "new_id",
    "preset_from_record",
    "slugify",
]
