import io

import pandas as pd

from recsys.service.export import neutralize_formulas, table_bytes, to_csv_bytes, write_table


def test_formulas_are_neutralised_but_numbers_and_ids_are_not():
    frame = pd.DataFrame(
        {
            "user_id": ["00123", '=HYPERLINK("x")', "17850"],
            "title": ["+cmd|' /C calc'!A0", "@SUM(A1)", "-5"],
            "score": [1.0, 2.0, 3.0],
        }
    )
    out = neutralize_formulas(frame)
    assert out["user_id"].tolist() == ["00123", '\'=HYPERLINK("x")', "17850"]
    assert out["title"].tolist() == ["'+cmd|' /C calc'!A0", "'@SUM(A1)", "-5"]
    assert out["score"].tolist() == [1.0, 2.0, 3.0]
    assert frame["title"][0].startswith("+")  # input untouched


def test_csv_bom_and_chinese_round_trip():
    frame = pd.DataFrame({"user_id": ["007"], "title": ["小米 14 手机"]})
    data = to_csv_bytes(frame, excel_bom=True)
    assert data.startswith(b"\xef\xbb\xbf")
    back = pd.read_csv(io.BytesIO(data), dtype=str, encoding="utf-8-sig")
    assert back["user_id"][0] == "007" and back["title"][0] == "小米 14 手机"
    assert not to_csv_bytes(frame).startswith(b"\xef\xbb\xbf")


def test_parquet_and_atomic_write(tmp_path):
    frame = pd.DataFrame({"user_id": ["001", "002"], "rank": [1, 2]})
    back = pd.read_parquet(io.BytesIO(table_bytes(frame, "parquet")))
    assert back["user_id"].tolist() == ["001", "002"]
    path = write_table(frame, tmp_path / "out" / "recs.csv")
    assert path.read_text().splitlines()[1] == "001,1"
    assert [p.name for p in path.parent.iterdir()] == ["recs.csv"]  # no temp file left behind
