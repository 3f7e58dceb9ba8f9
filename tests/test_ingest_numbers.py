"""Numbers that are numbers: out-of-range ratings, quantities and weights are refused at ingest.

The probe's ``1e308`` rating passed ``validate``; training then failed with "Not all input
values are finite" and a raw pandas RuntimeWarning (a site-packages path) on stderr.
"""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from recsys.data.ingest import load_catalog, load_dataset, validate
from recsys.data.limits import MAX_ABS_VALUE
from recsys.errors import DataValidationError

ROOT = Path(__file__).resolve().parents[1]


def _ratings_log(values: list[str]) -> bytes:
    rows = [f"u{i % 4},i{i % 5},{v}" for i, v in enumerate(["4", "5", "3", "2", "1", "4"] + values)]
    return ("user_id,item_id,rating\n" + "\n".join(rows) + "\n").encode()


@pytest.mark.parametrize("bad", ["1e308", "-1e308", "1e309", "inf", "-Infinity", "NaN", "2e6"])
def test_ratings_beyond_the_range_are_refused_with_file_column_and_lines(bad):
    data = _ratings_log(["3", bad, "4", bad])
    with pytest.raises(DataValidationError) as err:
        load_dataset(data, interactions_name="ratings.csv")
    e = err.value
    assert (e.file, e.column, e.rows) == ("ratings.csv", "rating", [9, 11])
    assert "2 rating value(s) are not ordinary numbers" in str(e) and bad in str(e)
    assert e.code == "data.number_range" and e.params["limit"] == MAX_ABS_VALUE
    report = validate(data, interactions_name="ratings.csv")
    assert not report.usable and "line" in report.errors[0] and "'rating'" in report.errors[0]


def test_ratings_at_the_limit_and_junk_text_keep_their_old_treatment():
    result = load_dataset(_ratings_log(["1000000", "-1e6", "4.5", "n/a"]))
    assert result.report.usable
    assert result.events["rating"].max() == 1e6 and result.events["rating"].min() == -1e6
    assert result.report.files[0].dropped == {"rating in 'rating' is not a number": 1}


def test_quantities_and_event_weights_are_bounded_too():
    log = b"user_id,item_id,quantity\nu1,i1,1\nu2,i2,1e308\nu1,i2,2\nu2,i1,3\n"
    with pytest.raises(DataValidationError, match="quantity value") as err:
        load_dataset(log, interactions_name="q.csv")
    assert (err.value.column, err.value.rows) == ("quantity", [3])
    ok = b"user_id,item_id,event\nu1,i1,view\nu2,i2,buy\nu1,i2,view\n"
    for weight in (1e308, float("nan"), float("inf"), 0.0, True):
        with pytest.raises(DataValidationError, match="weight of event 'view'"):
            load_dataset(ok, event_weights={"view": weight})
    assert load_dataset(ok, event_weights={"view": 1e6}).report.usable


def test_absurd_prices_are_unknown_not_infinite():
    catalog = "item_id,price\ni1," + "9" * 400 + "\ni2,12\ni3,1e400\n"
    frame, report = load_catalog(catalog.encode())
    assert np.isnan(frame["price"][0]) and frame["price"][1] == 12.0
    assert any("could not be read" in n for n in report.files[0].notes)


def test_no_library_warning_escapes_ingest_of_hostile_numbers():
    times = ["1e308", "-1e308", "inf", "nan", "2024-01-01", "1700000000", "9" * 30]
    log = "user_id,item_id,event,timestamp,quantity\n" + "\n".join(
        f"u{i % 7},i{i % 5},view,{ts},1" for i, ts in enumerate(times * 3)
    )
    catalog = "item_id,title,price\n" + "\n".join(
        f"i{i},t{i},{p}" for i, p in enumerate(["1e308", "9" * 400, "-1e308", "inf", "12"])
    )
    ages = ["1e308", "-1e308", "inf", "5", "6", "7", "8", "9", "10", "11", "1e300"]
    users = "user_id,age\n" + "\n".join(f"u{i},{a}" for i, a in enumerate(ages))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any RuntimeWarning / pandas warning fails the test
        result = load_dataset(log.encode(), catalog.encode(), users=users.encode())
    assert result.report.usable


def test_the_cli_says_one_plain_line_for_1e308(tmp_path):
    log = tmp_path / "ratings.csv"
    log.write_bytes(_ratings_log(["1e308"]))
    for command in ("validate", "export"):
        extra = ["--out", str(tmp_path / "recs.csv")] if command == "export" else []
        proc = subprocess.run(
            [sys.executable, "-m", "recsys", command, "--interactions", str(log), *extra],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=300,
        )
        assert proc.returncode == 2, proc.stderr
        assert "line 8" in proc.stderr and "'rating'" in proc.stderr
        assert "Warning" not in proc.stderr and "site-packages" not in proc.stderr
        assert not (tmp_path / "recs.csv").exists()
