"""Appending new events (and new catalog items) to a dataset of the workspace.

The grown dataset is saved as a *new* dataset (the old one, and every run trained on it, stay
as they were): its events are the old events followed by the new ones, so every old user and
item keeps its place and the runs of the old dataset can be carried over
(``recsys.service.incremental.update_run``). New events are read and cleaned exactly as an
upload is (``recsys.data.ingest``), with the event weights the dataset already uses.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from recsys.data.clean_tables import clean_catalog, clean_interactions
from recsys.data.csv_reader import read_csv_bytes
from recsys.data.dataset import Dataset
from recsys.data.ingest import _merge_catalog
from recsys.data.schema import DEFAULT_EVENT_WEIGHTS, Col
from recsys.errors import DataValidationError
from recsys.service.workspace import Workspace

log = logging.getLogger(__name__)

Source = bytes | str | Path


@dataclass(frozen=True)
class Appended:
    """The grown dataset and what the new files added.

    Attributes
    ----------
    dataset : the grown ``Dataset``.
    dataset_id : its id in the workspace.
    parent_id : the dataset it grew from.
    n_events : new event rows kept.
    new_users, new_items : users and items the old dataset did not have.
    warnings : what cleaning the new file dropped or noticed, in plain words.
    """

    dataset: Dataset
    dataset_id: str
    parent_id: str
    n_events: int
    new_users: int
    new_items: int
    warnings: tuple[str, ...] = ()


def event_weights_of(events: pd.DataFrame) -> dict[str, float]:
    """The weight each event type had in a stored event frame (types with one weight only)."""
    out = dict(DEFAULT_EVENT_WEIGHTS)
    if Col.EVENT not in events.columns or Col.WEIGHT not in events.columns:
        return out
    stats = events.groupby(Col.EVENT, observed=True)[Col.WEIGHT].agg(["min", "max"])
    for event, row in stats.iterrows():  # one row per event type, a handful at most
        if row["min"] == row["max"]:
            out[str(event)] = float(row["min"])
    return out


def read_events(
    source: Source,
    *,
    file_name: str | None = None,
    interactions_map: Mapping[str, str | None] | None = None,
    event_weights: Mapping[str, float] | None = None,
) -> tuple[pd.DataFrame, list[str]]:
    """New events cleaned as an upload is: ``(events, warnings)``; refused when none is usable."""
    data, name = _read(source, file_name or "new_events.csv")
    events, parts = clean_interactions(read_csv_bytes(data, name), interactions_map, event_weights)
    if len(events) == 0:
        raise DataValidationError(
            "no usable event rows: check the user, item and event columns.", file=name
        )
    return events, list(parts["warnings"])


def grow(
    events: pd.DataFrame,
    catalog: pd.DataFrame | None,
    new_events: pd.DataFrame,
    *,
    new_catalog: pd.DataFrame | None = None,
    users: pd.DataFrame | None = None,
    name: str = "dataset",
) -> tuple[pd.DataFrame, pd.DataFrame | None, Dataset]:
    """Old events then new ones (and catalog rows of new items): ``(events, catalog, Dataset)``."""
    new_events = _like(new_events, events)
    joined = pd.concat([events, new_events], ignore_index=True, sort=False)
    cat = catalog
    if new_catalog is not None:
        cat = new_catalog if catalog is None else _merge_catalog(catalog, new_catalog)
    return joined, cat, Dataset.construct(joined, cat, users=users, name=name)


def append_to_workspace(
    workspace: Workspace,
    dataset_id: str,
    events: Source,
    *,
    catalog: Source | None = None,
    file_name: str | None = None,
    catalog_name: str | None = None,
    interactions_map: Mapping[str, str | None] | None = None,
    catalog_map: Mapping[str, str | None] | None = None,
    event_weights: Mapping[str, float] | None = None,
) -> Appended:
    """Append an event file (and optionally catalog rows) to a dataset; saved as a new dataset.

    Event weights default to those the dataset already uses (``event_weights_of``).
    """
    old_events, old_catalog = workspace.load_frames(dataset_id)
    users = workspace.load_users(dataset_id)
    meta = workspace.dataset_meta(dataset_id)
    weights = {**event_weights_of(old_events), **(event_weights or {})}
    new, warnings = read_events(
        events, file_name=file_name, interactions_map=interactions_map, event_weights=weights
    )
    new_cat = None
    if catalog is not None:
        data, cname = _read(catalog, catalog_name or "new_items.csv")
        new_cat, parts = clean_catalog(read_csv_bytes(data, cname), catalog_map)
        warnings.extend(parts["warnings"])
    name = str(meta.get("name", dataset_id))
    joined, cat, dataset = grow(
        old_events, old_catalog, new, new_catalog=new_cat, users=users, name=name
    )
    # old events come first, so the old users and items are the first of the new id maps
    n_new_users = dataset.n_users - int(meta.get("n_users") or old_events[Col.USER].nunique())
    n_new_items = dataset.n_items - int(meta.get("n_items") or dataset.n_items)
    info = {key: meta[key] for key in ("source", "mappings", "report") if key in meta} | {
        "parent_dataset": dataset_id,
        "appended": {
            "events": len(new),
            "new_users": int(n_new_users),
            "new_items": int(n_new_items),
            "file": Path(file_name or "new_events.csv").name,
        },
    }
    new_id = workspace.save_dataset(name, joined, cat, info, users=users)
    log.info("dataset %s grown into %s (+%d events)", dataset_id, new_id, len(new))
    return Appended(
        dataset, new_id, dataset_id, len(new), int(n_new_users), int(n_new_items), tuple(warnings)
    )


def _read(source: Source, default: str) -> tuple[bytes, str]:
    if isinstance(source, bytes | bytearray | memoryview):
        return bytes(source), default
    path = Path(source)
    return path.read_bytes(), path.name


def _like(new: pd.DataFrame, old: pd.DataFrame) -> pd.DataFrame:
    """``new`` with ``old``'s column dtypes where both have the column (timestamps, ids)."""
    out = new.copy()
    for column in out.columns.intersection(old.columns):
        if pd.api.types.is_datetime64_any_dtype(old[column]):
            out[column] = pd.to_datetime(out[column], errors="coerce")
            if getattr(old[column].dt, "tz", None) is None and getattr(out[column].dt, "tz", None):
                out[column] = out[column].dt.tz_localize(None)
            out[column] = out[column].astype(old[column].dtype)
        elif pd.api.types.is_numeric_dtype(old[column]) and old[column].dtype != out[column].dtype:
            out[column] = pd.to_numeric(out[column], errors="coerce").astype(old[column].dtype)
    return out


__all__ = ["Appended", "append_to_workspace", "event_weights_of", "grow", "read_events"]
