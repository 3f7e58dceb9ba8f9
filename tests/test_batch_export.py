"""Streaming export: block by block, the rows of the in-memory export, written atomically."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from recsys.cli import main
from recsys.data.demo import write_demo
from recsys.data.ingest import load_dataset
from recsys.errors import ConfigError
from recsys.ranking.fusion import FusionConfig
from recsys.ranking.rerank import RerankConfig
from recsys.service.batch_export import TableWriter, format_duration, progress_line, stream_export
from recsys.service.blocks import BlockRanker
from recsys.service.export import decode_ids, to_csv_bytes
from recsys.service.preset import Preset
from recsys.service.training import train_run

MODELS = {
    "svd": {"n_epochs": 5, "n_factors": 16},
    "als": {"factors": 16, "iterations": 3},
    "item_knn": {},
    "content_tfidf": {},
    "popularity": {},
}


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    out = tmp_path_factory.mktemp("export-store")
    catalog, interactions = write_demo(out, n_users=600, n_items=150, n_events=9000, seed=11)
    return {"dir": out, "catalog": catalog, "interactions": interactions}


@pytest.fixture(scope="module")
def run(store):
    dataset = load_dataset(store["interactions"], store["catalog"]).dataset
    return train_run(dataset, Preset(models=MODELS), stages=("validation", "full"))


def _ranker(run, fusion=None, k=7):
    rr = RerankConfig(k=k)
    ranker = BlockRanker.from_run(run, fusion, rr, columns={"preset_id": "p"})
    return ranker, run.recommend(None, fusion, rr).table().assign(preset_id="p")


def test_blocks_give_the_rows_of_the_in_memory_export_csv_and_parquet(run, tmp_path):
    ranker, whole = _ranker(run)
    assert ranker.block_rows == 512  # the demo store's pool build scores 512 users at once
    users = np.arange(run.dataset.n_users, dtype=np.int32)
    for block in (1, 700, 5000):  # rounded to multiples of 512: 512, 512, 5120
        csv = stream_export(ranker, users, tmp_path / "recs.csv", block_users=block)
        assert csv.rows == len(whole) and csv.users == run.dataset.n_users
        assert (tmp_path / "recs.csv").read_bytes() == to_csv_bytes(whole)
        stream_export(ranker, users, tmp_path / "recs.parquet", block_users=block)
        pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "recs.parquet"), whole)
    bom = stream_export(ranker, users, tmp_path / "x.csv", excel_bom=True, block_users=512)
    assert bom.path.read_bytes() == to_csv_bytes(whole, excel_bom=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["recs.csv", "recs.parquet", "x.csv"]


def test_learned_fusion_streams_the_same_rows(run, tmp_path):
    fusion = FusionConfig(method="stacking")
    ranker, whole = _ranker(run, fusion)
    users = np.arange(run.dataset.n_users, dtype=np.int32)
    stream_export(ranker, users, tmp_path / "s.parquet", block_users=512)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "s.parquet"), whole)


def test_a_subset_of_users_comes_out_in_the_given_order(run, tmp_path):
    ranker, _ = _ranker(run)
    ids = ["U000010", "U000003", "U000500"]
    users = run.internal_users(ids)
    out = stream_export(ranker, users, tmp_path / "few.csv", block_users=2)
    table = pd.read_csv(out.path, dtype={"user_id": str, "item_id": str})
    assert list(dict.fromkeys(table["user_id"])) == ids
    assert out.users == 3


def test_a_failed_export_leaves_neither_output_nor_temporary_file(run, tmp_path):
    ranker, _ = _ranker(run)
    target = tmp_path / "recs.csv"
    target.write_text("previous export\n")
    (tmp_path / ".tmp-recs.csv.killed").write_text("left by a killed export")
    (tmp_path / ".tmp-other.csv.x").write_text("another target's")
    calls = []

    class Failing(BlockRanker):
        def table(self, users):
            calls.append(len(users))
            if len(calls) == 2:
                raise OSError("disk full")
            return super().table(users)

    failing = Failing(**{f: getattr(ranker, f) for f in ranker.__dataclass_fields__})
    users = np.arange(run.dataset.n_users, dtype=np.int32)
    with pytest.raises(OSError, match="disk full"):
        stream_export(failing, users, target, block_users=512)
    assert target.read_text() == "previous export\n"  # untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == [".tmp-other.csv.x", "recs.csv"]


def test_a_killed_export_never_leaves_a_complete_looking_file(store, tmp_path):
    out = tmp_path / "recs.csv"
    preset = tmp_path / "p.json"
    preset.write_text('{"id": "p", "models": {"popularity": {}, "item_knn": {}}}')
    cmd = [
        sys.executable, "-m", "recsys", "export", "--interactions", str(store["interactions"]),
        "--preset", str(preset), "--out", str(out), "--block-users", "1", "--quiet",
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not list(tmp_path.glob(".tmp-recs.csv.*")) and proc.poll() is None:
        assert time.monotonic() < deadline
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    if proc.returncode == -signal.SIGKILL:
        assert not out.exists()
        assert list(tmp_path.glob(".tmp-recs.csv.*"))  # only a temporary name
    code = main([c for c in cmd[3:] if c != "--quiet"] + ["--quiet"])
    assert code == 0 and out.exists()
    assert not list(tmp_path.glob(".tmp-*"))  # the next export cleaned the leftovers


def test_no_users_is_a_plain_error(run, tmp_path):
    ranker, _ = _ranker(run)
    with pytest.raises(ConfigError, match="no users"):
        stream_export(ranker, np.zeros(0, np.int32), tmp_path / "x.csv")


def test_progress_line_and_durations():
    assert progress_line(250, 1000, 5.0) == "250/1,000 users (25%), 50 users/s, about 15 s left"
    assert progress_line(0, 10, 0.0).endswith("unknown time left")
    assert format_duration(400) == "about 7 min"
    assert format_duration(3900) == "about 1 h 05 min"


def test_cli_export_fits_validation_and_full_never_test(store, tmp_path, monkeypatch, capsys):
    import recsys.service.training as training

    seen = {}
    real = training.train_run

    def spy(dataset, preset, **kwargs):
        seen.update(kwargs)
        return real(dataset, preset, **kwargs)

    monkeypatch.setattr(training, "train_run", spy)
    fast = ("item_knn", "popularity")  # the default preset, minus its slow models
    monkeypatch.setattr("recsys.models.DEFAULT_MODELS", fast)
    monkeypatch.setattr("recsys.service.preset.DEFAULT_MODELS", fast)
    preset = tmp_path / "p.json"
    preset.write_text('{"id": "p", "models": {"popularity": {}, "item_knn": {}}}')
    base = ["export", "--interactions", str(store["interactions"]), "--k", "3"]
    assert main([*base, "--preset", str(preset), "--out", str(tmp_path / "a.csv")]) == 0
    assert tuple(seen["stages"]) == ("full",)
    err = capsys.readouterr().err
    assert "[export] 600/600 users (100%)" in err
    assert main([*base, "--out", str(tmp_path / "b.csv"), "--quiet"]) == 0  # default: tuned
    assert tuple(seen["stages"]) == ("validation", "full") and seen["sampled_validation"]


def test_blocks_encode_ids_the_same_way_as_the_whole_table():
    """An id that would run as a formula, in a later block only: one header, exact ids."""
    first = pd.DataFrame({"user_id": ["u1", "u2"], "title": ["=cmd", "ok"]})
    later = pd.DataFrame({"user_id": ["=HYPERLINK(1)", "u%3"], "title": ["@x", "fine"]})
    whole = pd.concat([first, later], ignore_index=True)
    buffer = io.BytesIO()
    writer = TableWriter(buffer, "csv", encode={"user_id"})
    writer.write(first)
    writer.write(later)
    assert buffer.getvalue() == to_csv_bytes(whole)
    back = pd.read_csv(io.BytesIO(buffer.getvalue()), dtype=str)
    assert decode_ids(back["user_id_urlencoded"]).tolist() == whole["user_id"].tolist()
    unprepared = TableWriter(io.BytesIO(), "csv")
    unprepared.write(first)
    with pytest.raises(ConfigError, match="later block"):
        unprepared.write(later)
