"""The library logs what happened (trained, saved, loaded, deleted) and never a user's data."""

from __future__ import annotations

import logging

import pandas as pd
import pytest

from recsys.data.ingest import load_dataset
from recsys.data.schema import Col
from recsys.service.persistence import load_run, save_run
from recsys.service.preset import Preset
from recsys.service.training import train_run
from recsys.service.workspace import Workspace
from tests.fixtures_data import make_frames

#: Ids no real log line could contain by chance.
USER_PREFIX, ITEM_PREFIX = "cust-secret-", "sku-secret-"


@pytest.fixture(scope="module")
def csv_files(tmp_path_factory):
    events, catalog = make_frames(40, 30, seed=0)
    events[Col.USER] = USER_PREFIX + events[Col.USER].astype(str)
    events[Col.ITEM] = ITEM_PREFIX + events[Col.ITEM].astype(str)
    catalog[Col.ITEM] = ITEM_PREFIX + catalog[Col.ITEM].astype(str)
    folder = tmp_path_factory.mktemp("logging")
    events.drop(columns=[c for c in events.columns if c.endswith("_idx")]).to_csv(
        folder / "interactions.csv", index=False
    )
    catalog.to_csv(folder / "catalog.csv", index=False)
    return folder / "interactions.csv", folder / "catalog.csv"


def test_the_lifecycle_is_logged_without_user_data(csv_files, tmp_path, caplog):
    caplog.set_level(logging.DEBUG, logger="recsys")
    loaded = load_dataset(*csv_files, name="Secret shop")
    assert loaded.dataset.user_ids.to_external([0])[0].startswith(USER_PREFIX)
    ws = Workspace(tmp_path / "ws")
    events = loaded.dataset.interactions
    dataset_id = ws.save_dataset(
        "Secret shop",
        pd.DataFrame(
            {
                Col.USER: loaded.dataset.user_ids.to_external(events[Col.USER_IDX]),
                Col.ITEM: loaded.dataset.item_ids.to_external(events[Col.ITEM_IDX]),
                Col.WEIGHT: events[Col.WEIGHT],
            }
        ),
        None,
    )
    run = train_run(loaded.dataset, Preset(models={"popularity": {}, "item_knn": {}}))
    run_id = save_run(run, ws, dataset_id)
    load_run(ws, run_id, dataset=loaded.dataset)
    ws.delete_dataset(dataset_id)

    text = "\n".join(r.getMessage() for r in caplog.records)
    for expected in (
        "data loaded:",
        f"dataset {dataset_id} saved",
        "run trained: stages validation,test,full, models popularity,item_knn",
        f"run {run_id} saved",
        f"run {run_id} loaded",
        f"run {run_id} deleted",
        f"dataset {dataset_id} deleted (with 1 run(s))",
    ):
        assert expected in text, expected
    assert USER_PREFIX not in text and ITEM_PREFIX not in text
    assert "Secret shop" not in text
