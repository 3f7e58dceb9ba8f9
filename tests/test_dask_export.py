"""The Dask export on a LocalCluster: the single-machine rows, lost workers handled, no partial output."""

from __future__ import annotations

import os
import signal

import numpy as np
import pandas as pd
import pytest
from distributed import LocalCluster

from recsys.cli import main
from recsys.data.demo import write_demo
from recsys.data.ingest import load_dataset
from recsys.ranking.rerank import RerankConfig
from recsys.service.batch_export import stream_export
from recsys.service.blocks import BlockRanker
from recsys.service.dask_export import DaskExportError, dask_export, part_slices
from recsys.service.preset import Preset
from recsys.service.training import train_run

MODELS = {"svd": {"n_epochs": 3, "n_factors": 8}, "item_knn": {}, "popularity": {}}


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    out = tmp_path_factory.mktemp("dask-store")
    catalog, interactions = write_demo(out, n_users=1100, n_items=80, n_events=8000, seed=4)
    return {"dir": out, "catalog": catalog, "interactions": interactions}


@pytest.fixture(scope="module")
def ranker(store):
    dataset = load_dataset(store["interactions"], store["catalog"]).dataset
    run = train_run(dataset, Preset(models=MODELS), stages=("full",))
    return BlockRanker.from_run(run, None, RerankConfig(k=4), columns={"preset_id": "p"})


@pytest.fixture(scope="module")
def single(ranker, tmp_path_factory):
    path = tmp_path_factory.mktemp("single") / "recs.parquet"
    users = np.arange(ranker.n_users, dtype=np.int32)
    stream_export(ranker, users, path, block_users=1)
    return pd.read_parquet(path)


@pytest.fixture(scope="module")
def cluster():
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    ) as c:
        yield c


def _read_parts(folder):
    names = sorted(p.name for p in folder.iterdir())
    assert names and all(n.startswith("part-") and n.endswith(".parquet") for n in names)
    return pd.concat([pd.read_parquet(folder / n) for n in names], ignore_index=True)


def test_part_slices_are_whole_blocks_in_order():
    parts = part_slices(10_000, 512, n_workers=2)
    assert parts[0].start == 0 and parts[-1].stop == 10_000
    assert all(p.stop - p.start == 3 * 512 for p in parts[:-1])  # 20 blocks / (4 x 2)
    assert part_slices(100, 512, 8) == [slice(0, 100)]


def test_two_workers_write_the_single_machine_rows(ranker, single, cluster, tmp_path):
    users = np.arange(ranker.n_users, dtype=np.int32)
    seen = []
    out = tmp_path / "recs.parquet"
    result = dask_export(
        ranker, users, out, scheduler=cluster.scheduler_address, block_users=1,
        progress=lambda done, total, s: seen.append((done, total)),
    )  # fmt: skip
    pd.testing.assert_frame_equal(_read_parts(out), single)
    assert result.rows == len(single) and result.users == ranker.n_users
    assert seen[-1] == (ranker.n_users, ranker.n_users)
    assert [p.name for p in tmp_path.iterdir()] == ["recs.parquet"]


def test_a_killed_worker_is_replaced_and_the_output_is_the_same(ranker, single, tmp_path):
    marker = tmp_path / "killed-once"

    def kill_my_worker_once(index: int) -> None:
        try:
            fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            return
        os.close(fd)
        os.kill(os.getpid(), signal.SIGKILL)  # the worker dies right after writing a part

    users = np.arange(ranker.n_users, dtype=np.int32)
    out = tmp_path / "recs.parquet"
    dask_export(ranker, users, out, local_workers=2, block_users=1, after_part=kill_my_worker_once)
    assert marker.exists()
    pd.testing.assert_frame_equal(_read_parts(out), single)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["killed-once", "recs.parquet"]


def test_workers_that_keep_dying_fail_in_one_line_and_leave_no_output(ranker, tmp_path):
    import dask

    def always_die(index: int) -> None:
        os.kill(os.getpid(), signal.SIGKILL)

    out = tmp_path / "recs.parquet"
    out.mkdir()
    (out / "part-00000.parquet").write_text("the previous export")
    users = np.arange(ranker.n_users, dtype=np.int32)
    with dask.config.set({"distributed.scheduler.allowed-failures": 1}):
        with pytest.raises(DaskExportError) as info:
            dask_export(ranker, users, out, local_workers=2, block_users=1, after_part=always_die)
    message = str(info.value)
    assert "\n" not in message and "nothing was written" in message
    assert "kept dying" in message or "lost its workers" in message
    assert [p.name for p in tmp_path.iterdir()] == ["recs.parquet"]  # no .tmp- folder left
    assert (out / "part-00000.parquet").read_text() == "the previous export"


def test_an_unreachable_scheduler_is_a_plain_error(ranker, tmp_path):
    import dask

    with dask.config.set({"distributed.comm.timeouts.connect": "2s"}):
        with pytest.raises(DaskExportError, match="could not start or reach"):
            dask_export(
                ranker, np.arange(5, dtype=np.int32), tmp_path / "x.parquet",
                scheduler="tcp://127.0.0.1:9",
            )  # fmt: skip
    assert not list(tmp_path.iterdir())


def test_cli_dask_local_writes_parts(store, cluster, tmp_path, capsys):
    preset = tmp_path / "p.json"
    preset.write_text('{"id": "p", "models": {"popularity": {}, "item_knn": {}}}')
    base = ["export", "--interactions", str(store["interactions"]), "--preset", str(preset)]
    single, parts = tmp_path / "one.parquet", tmp_path / "parts.parquet"
    assert main([*base, "--out", str(single), "--quiet"]) == 0
    code = main([*base, "--out", str(parts), "--scheduler", cluster.scheduler_address])
    assert code == 0, capsys.readouterr().err
    pd.testing.assert_frame_equal(_read_parts(parts), pd.read_parquet(single))
    assert main([*base, "--out", str(tmp_path / "x.csv"), "--dask-local", "2"]) == 2
    assert "Parquet" in capsys.readouterr().err
