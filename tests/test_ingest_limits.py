"""Bounded upload costs: too many columns, rows or too much memory are refused before parsing."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from recsys.cli import main
from recsys.data import csv_reader, limits
from recsys.data.ingest import load_dataset, read_csv_bytes
from recsys.errors import DataValidationError


def _log(n_rows: int, n_extra_columns: int = 0) -> bytes:
    extra = "".join(f",c{j}" for j in range(n_extra_columns))
    rows = [f"user_id,item_id,event{extra}"]
    fill = "," * n_extra_columns
    rows += [f"u{i % 97},i{i % 31},view{fill}" for i in range(n_rows)]
    return ("\n".join(rows) + "\n").encode()


@pytest.fixture
def no_parsing(monkeypatch):
    """Fail the test if the file gets as far as the record scan (the expensive part)."""

    def never(*args, **kwargs):
        raise AssertionError("the file was parsed")

    monkeypatch.setattr(csv_reader, "record_layout", never)


def test_the_estimate_reads_the_shape_from_the_first_bytes():
    data = _log(50_000, 2)
    rows, columns, need = csv_reader.check_upload_cost(len(data), data[:4096], "log.csv")
    assert columns == 5 and abs(rows - 50_000) < 2_000
    assert need == limits.ingest_memory_need(len(data), rows, columns)
    assert csv_reader.check_upload_cost(len(data), data, "log.csv")[0] == 50_000  # exact


def test_a_50000_column_file_is_refused_before_parsing(no_parsing):
    data = _log(3, 50_000)
    with pytest.raises(DataValidationError) as err:
        read_csv_bytes(data, "wide.csv")
    text = str(err.value)
    assert "50,003 columns" in text and "at most 1,000" in text and "wide.csv" in text


def test_too_many_rows_are_refused_by_the_estimate_then_by_the_count(monkeypatch, no_parsing):
    monkeypatch.setattr(csv_reader, "MAX_ROWS", 1_000)
    with pytest.raises(DataValidationError, match=r"about 5,000 rows; at most 1,000"):
        read_csv_bytes(_log(5_000), "long.csv")
    monkeypatch.undo()
    monkeypatch.setattr(csv_reader, "MAX_ROWS", 1_000)
    monkeypatch.setattr(csv_reader, "check_upload_cost", lambda *a: (0, 0, 0))  # estimate fooled
    with pytest.raises(DataValidationError, match=r"5,000 rows and 3 columns; at most 1,000 rows"):
        read_csv_bytes(_log(5_000), "long.csv")


def test_a_file_that_would_not_fit_names_the_limit_and_its_need(monkeypatch, no_parsing):
    monkeypatch.setenv(limits.INGEST_MEMORY_ENV, "2")  # MB
    data = _log(40_000)
    with pytest.raises(DataValidationError) as err:
        load_dataset(data, interactions_name="log.csv")
    message = str(err.value)
    match = re.search(r"would need about ([\d.,]+) MB of memory; the limit is 2 MB", message)
    assert match and float(match.group(1)) > 2, message
    assert "log.csv" in message


def test_the_limit_is_at_most_most_of_the_available_memory(monkeypatch):
    monkeypatch.delenv(limits.INGEST_MEMORY_ENV, raising=False)
    monkeypatch.setattr(limits, "available_memory", lambda: 1_000 * 2**20)
    assert limits.ingest_memory_limit() == 800 * 2**20
    monkeypatch.setattr(limits, "available_memory", lambda: None)
    assert limits.ingest_memory_limit() == limits.MAX_INGEST_MEMORY


def test_a_1_gb_file_is_refused_before_it_is_read(tmp_path, monkeypatch, capsys):
    path = tmp_path / "huge.csv"
    with path.open("wb") as fh:  # a real CSV start, then a sparse 1 GB (no disk used)
        fh.write(_log(20_000))
        fh.truncate(2**30)

    def never(self):
        raise AssertionError(f"{self.name} was read whole")

    monkeypatch.setattr(Path, "read_bytes", never)
    with pytest.raises(DataValidationError, match=r"\(1.0 GB, about [\d,]+ rows x 3 columns\)"):
        load_dataset(path)
    assert main(["validate", "--interactions", str(path)]) != 0
    err = capsys.readouterr().err
    assert "huge.csv" in err and "of memory; the limit is" in err and "Traceback" not in err


def test_iso_times_take_the_arrow_path_with_the_same_result(monkeypatch):
    """The cheap path (no Python string per value) reads exactly what the general one reads."""
    from recsys.data import cleaning

    values = pd.Series(
        [" 2024-01-31 08:26:05", "2024-02-01T09:00", "", "2024-03-04", "2024-03-04 10:00:00.125"]
        * 3,
        dtype="str",
    )
    fast, how = cleaning.parse_timestamps(values)
    assert cleaning._iso_timestamps(values) is not None and how == "dates/times as text"
    monkeypatch.setattr(cleaning, "_iso_timestamps", lambda s: None)
    slow, slow_how = cleaning.parse_timestamps(values)
    pd.testing.assert_series_equal(fast, slow)
    assert fast.isna().sum() == 3 and how == slow_how
    for other in (["2024-02-30 10:00:00", "2024-01-01"], ["1/12/2024 08:26", "2024-01-01"]):
        assert cleaning._iso_timestamps(pd.Series(other, dtype="str")) is None  # the long way
