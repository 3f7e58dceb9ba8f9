"""Ingest: generated files of every kind, refusals, and report numbers checked by hand."""

from __future__ import annotations

import codecs
import json

import numpy as np
import pandas as pd
import pytest

from recsys.data.ingest import (
    MAX_CELL_CHARS,
    clean_catalog,
    clean_interactions,
    detect_roles,
    load_catalog,
    load_dataset,
    normalize_event,
    read_csv_bytes,
    validate,
)
from recsys.data.schema import Col
from recsys.errors import DataValidationError


def load(text: str, catalog: str | None = None, encoding: str = "utf-8", **kw):
    return load_dataset(
        text.encode(encoding),
        None if catalog is None else catalog.encode("utf-8"),
        interactions_name="log.csv",
        catalog_name="cat.csv",
        **kw,
    )


# --------------------------------------------------------------------------- hand-checked report
LOG = (
    "user,item,event,timestamp\n"  # line 1
    "u1,i1,view,1700000000\n"  # 2
    "u1,i1,purchase,1700000100\n"  # 3
    "u1,i2,cart,1700000200\n"  # 4
    "u2,i1,bogus,1700000300\n"  # 5  unknown event -> other
    "u2,,view,1700000400\n"  # 6  no item -> dropped
    "u3,i3,return,1700000500\n"  # 7  return -> dropped
    "u3,i2,view,notatime\n"  # 8  kept, time unreadable
)
CATALOG = (
    "item_id,title,price\n"
    "i1,One,$10\n"
    'i2,Two,"1,200.50"\n'
    "i4,Four,0\n"
    "i1,Dup,5\n"  # line 5: duplicate -> dropped
)


def test_report_numbers_by_hand():
    res = load(LOG, CATALOG)
    rep = res.report
    assert rep.usable and not rep.errors
    f = rep.file("interactions")
    assert (f.rows_read, f.rows_kept) == (7, 5)
    assert f.dropped == {"no item id": 1, "cancellation / return / removal event": 1}
    assert f.dropped_lines == {"no item id": [6], "cancellation / return / removal event": [7]}
    assert f.mapping == {"user": "user", "item": "item", "event": "event", "timestamp": "timestamp"}
    assert rep.n_users == 3
    assert rep.n_items == 3  # i1, i2 (log + catalog), i4 (catalog only)
    assert rep.n_items_with_interactions == 2
    assert rep.n_items_in_catalog == 3
    assert rep.n_events == 5
    assert rep.n_pairs == 4  # (u1,i1) (u1,i2) (u2,i1) (u3,i2)
    assert rep.density == pytest.approx(4 / (3 * 2))
    assert rep.users_with_fewer_than_2 == 2  # u2, u3
    assert rep.items_never_interacted == 1  # i4
    assert rep.items_missing_from_catalog == 0
    assert rep.duplicate_catalog_ids == 1
    assert rep.event_counts == {"view": 2, "cart": 1, "purchase": 1, "other": 1}
    assert rep.unknown_event_values == {"bogus": 1}
    assert rep.timestamps_missing == 1
    assert rep.time_start == "2023-11-14 22:13:20"
    assert rep.time_end == "2023-11-14 22:18:20"
    assert rep.file("catalog").dropped_lines == {"duplicate item id (first row kept)": [5]}
    # weights: (u1, i1) = view 1 + purchase 5
    ds = res.dataset
    pair = ds.interactions[
        (ds.interactions[Col.USER_IDX] == ds.user_ids.to_internal(["u1"])[0])
        & (ds.interactions[Col.ITEM_IDX] == ds.item_ids.to_internal(["i1"])[0])
    ]
    assert pair[Col.WEIGHT].item() == 6.0 and pair[Col.N_EVENTS].item() == 2
    assert bool(pair[Col.PURCHASED].item())
    # catalog: price cleaned, 0 -> unknown, first duplicate kept, bands by quartile
    cat = res.catalog.set_index(Col.ITEM)
    assert cat.loc["i1", "title"] == "One"
    assert cat.loc["i2", Col.PRICE] == pytest.approx(1200.5)
    assert np.isnan(cat.loc["i4", Col.PRICE]) and cat.loc["i4", Col.PRICE_BAND] == ""
    assert cat.loc["i1", Col.PRICE_BAND] == "budget" and cat.loc["i2", Col.PRICE_BAND] == "luxury"
    text = rep.to_text()
    assert "dropped 1 rows: no item id (lines 6)" in text
    assert "'bogus' (1)" in text
    json.dumps(rep.to_dict())  # JSON-safe


def test_ingest_is_pure_and_deterministic():
    data = LOG.encode()
    a = load_dataset(data)
    b = load_dataset(data)
    assert a.dataset.fingerprint == b.dataset.fingerprint
    assert data == LOG.encode()


# --------------------------------------------------------------------------- encodings, delimiters
@pytest.mark.parametrize(
    ("encoding", "label"), [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("gbk", "gb18030")]
)
def test_encodings_with_chinese_headers(encoding, label):
    text = (
        "用户ID,商品ID,行为,时间\n"
        "张三,手机001,浏览,2024-01-01 10:00:00\n"
        "张三,手机002,加入购物车,2024-01-01 10:01:00\n"
        "李四,手机001,购买,2024-01-02 10:00:00\n"
        "李四,手机002,收藏,2024-01-02 11:00:00\n"
    )
    res = load(text, encoding=encoding)
    f = res.report.file("interactions")
    assert f.encoding == label
    assert f.mapping == {"user": "用户ID", "item": "商品ID", "event": "行为", "timestamp": "时间"}
    assert list(res.events[Col.EVENT]) == ["view", "cart", "purchase", "favorite"]
    assert set(res.events[Col.USER]) == {"张三", "李四"}
    assert list(res.events[Col.WEIGHT]) == [1.0, 3.0, 5.0, 3.0]


def test_utf16_with_bom_is_read():
    text = "user_id\titem_id\nu1\ti1\nu2\ti2\n"
    raw = read_csv_bytes(codecs.BOM_UTF16_LE + text.encode("utf-16-le"), "x.txt")
    assert raw.encoding == "utf-16" and list(raw.frame.columns) == ["user_id", "item_id"]


@pytest.mark.parametrize("sep", [",", ";", "\t", "|"])
def test_delimiters(sep):
    rows = [
        ["user_id", "item_id", "title"],
        ["u1", "i1", "A"],
        ["u2", "i2", "B"],
        ["u3", "i1", "C"],
    ]
    data = "\n".join(sep.join(r) for r in rows).encode()
    raw = read_csv_bytes(data, "x.csv")
    assert raw.delimiter == sep
    assert raw.frame.shape == (3, 3)
    assert raw.line_numbers.tolist() == [2, 3, 4]


def test_quoted_commas_and_newlines_keep_line_numbers():
    text = (
        "user_id,item_id,title\n"  # 1
        'u1,i1,"Phone, 128GB"\n'  # 2
        'u2,i2,"two\nline\ntitle"\n'  # 3-5
        'u3,i1,"say ""hi"", ok"\n'  # 6
        ",i2,no user\n"  # 7
        "u4,i2,x\n"  # 8
    )
    res = load(text)
    f = res.report.file("interactions")
    assert f.dropped_lines == {"no user id": [7]}
    titles = res.catalog.set_index(Col.ITEM)[Col.TITLE]
    assert titles["i1"] == "Phone, 128GB"
    assert titles["i2"] == "two\nline\ntitle"
    raw = read_csv_bytes(text.encode(), "x.csv")
    assert raw.line_numbers.tolist() == [2, 3, 6, 7, 8]
    assert raw.frame["title"][2] == 'say "hi", ok'


def test_semicolon_file_with_decimal_comma_ratings():
    text = "userId;movieId;rating\n1;10;4,5\n2;10;3\n2;11;5\n"
    res = load(text)
    assert res.report.file("interactions").delimiter == ";"
    assert res.events[Col.RATING].tolist() == [4.5, 3.0, 5.0]


def test_blank_lines_and_crlf():
    text = "user_id,item_id\r\nu1,i1\r\n\r\n   \r\nu2,i2\r\n,i3\r\n"
    res = load(text)
    f = res.report.file("interactions")
    assert f.rows_read == 3 and f.dropped_lines == {"no user id": [6]}


# --------------------------------------------------------------------------- real-world layouts
def test_movielens_style():
    text = (
        "userId,movieId,rating,timestamp\n"
        "1,1,4.0,964982703\n1,3,4.0,964981247\n2,1,0.5,964982224\n2,47,5.0,964983815\n"
    )
    movies = (
        "movieId,title,genres\n"
        "1,Toy Story (1995),Adventure|Animation|Children\n"
        "3,Grumpier Old Men (1995),Comedy|Romance\n"
        "47,Seven (1995),Mystery|Thriller\n"
        "99,Nobody Watched (1999),(no genres listed)\n"
    )
    res = load(text, movies)
    rep = res.report
    assert rep.file("interactions").mapping == {
        "user": "userId", "item": "movieId", "rating": "rating", "timestamp": "timestamp",
    }  # fmt: skip
    assert (rep.rating_min, rep.rating_max, rep.rating_distinct) == (0.5, 5.0, 3)
    assert rep.rating_values == [0.5, 4.0, 5.0]
    assert res.events[Col.WEIGHT].tolist() == [4.0, 4.0, 0.5, 5.0]  # weight = rating
    assert rep.time_start == "2000-07-30 18:20:47"  # 964981247
    cat = res.catalog.set_index(Col.ITEM)
    assert cat.loc["1", Col.CATEGORY] == "Adventure"
    assert cat.loc["1", "genres"] == "Adventure|Animation|Children"
    assert rep.items_never_interacted == 1 and rep.n_items == 4
    assert rep.file("catalog").mapping == {
        "item": "movieId",
        "title": "title",
        "category": "genres",
    }


def test_online_retail_style():
    text = (
        "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
        "536365,85123A,WHITE HANGING HEART,6,12/1/2010 8:26,2.55,17850.0,United Kingdom\n"  # 2
        "C536379,D,Discount,-1,12/1/2010 9:41,27.50,14527.0,United Kingdom\n"  # 3 cancelled
        "536366,22633,HAND WARMER,6,12/13/2010 8:28,1.85,17850.0,United Kingdom\n"  # 4
        '536367,84879,"BIRD, ORNAMENT",32,12/1/2010 8:34,1.69,13047.0,United Kingdom\n'  # 5
        "536368,22633,HAND WARMER,-2,12/1/2010 8:34,1.85,13047.0,United Kingdom\n"  # 6 negative
        "536369,85123A,,1,12/1/2010 8:35,2.55,,United Kingdom\n"  # 7 no customer
        "536370,84879,other text,2,12/1/2010 8:35,1.69,13047.0,United Kingdom\n"  # 8
    )
    res = load(text)
    f = res.report.file("interactions")
    assert f.mapping["user"] == "CustomerID" and f.mapping["item"] == "StockCode"
    assert f.mapping["title"] == "Description" and f.mapping["price"] == "UnitPrice"
    assert f.dropped == {
        "no user id": 1,
        "cancelled order ('InvoiceNo' starts with C)": 1,
        "zero or negative quantity in 'Quantity' (returns)": 1,
    }
    assert f.dropped_lines["no user id"] == [7]
    assert f.dropped_lines["zero or negative quantity in 'Quantity' (returns)"] == [6]
    assert set(res.events[Col.USER]) == {"17850", "13047"}
    assert (res.events[Col.EVENT] == "purchase").all() and (res.events[Col.WEIGHT] == 5).all()
    assert res.events[Col.TIMESTAMP].iloc[1] == pd.Timestamp("2010-12-13 08:28")
    cat = res.catalog.set_index(Col.ITEM)
    assert cat.loc["84879", Col.TITLE] == "BIRD, ORNAMENT"  # first value per item
    assert cat.loc["22633", Col.PRICE] == pytest.approx(1.85)
    assert "D" not in cat.index  # only in the cancelled row
    assert res.report.event_counts == {"purchase": 4}


def test_retailrocket_style_milliseconds():
    text = (
        "timestamp,visitorid,event,itemid,transactionid\n"
        "1433221332117,257597,view,355908,\n"
        "1433224214164,992329,view,248676,\n"
        "1433221999827,111016,addtocart,248676,\n"
        "1433221955914,257597,transaction,248676,4000\n"
    )
    res = load(text)
    assert res.report.file("interactions").mapping["user"] == "visitorid"
    assert res.events[Col.EVENT].tolist() == ["view", "view", "cart", "purchase"]
    assert res.events[Col.TIMESTAMP].iloc[0] == pd.Timestamp("2015-06-02 05:02:12.117")
    assert res.report.time_start.startswith("2015-06-02")


# --------------------------------------------------------------------------- ids
def test_leading_zero_ids_stay_strings():
    res = load("user_id,item_id\n00123,0007\n00124,0008\n0123,7\n")
    assert res.events[Col.USER].tolist() == ["00123", "00124", "0123"]
    assert res.events[Col.ITEM].tolist() == ["0007", "0008", "7"]
    assert list(res.dataset.item_ids.external_ids) == ["0007", "0008", "7"]


def test_float_form_ids_only_when_all_are_float_form():
    all_float = load("user_id,item_id\n17850.0,1.0\n13047.0,2.0\n")
    assert all_float.events[Col.USER].tolist() == ["17850", "13047"]
    assert all_float.events[Col.ITEM].tolist() == ["1", "2"]
    mixed = load("user_id,item_id\n17850.0,1.0\n13047.5,2\n")
    assert mixed.events[Col.USER].tolist() == ["17850.0", "13047.5"]
    assert mixed.events[Col.ITEM].tolist() == ["1.0", "2"]


def test_float_form_ids_match_catalog_ids():
    res = load("user_id,item_id\na,1.0\nb,2.0\n", "item_id,title\n1,One\n2,Two\n")
    assert res.report.items_missing_from_catalog == 0 and res.dataset.n_items == 2


# --------------------------------------------------------------------------- roles and overrides
def test_detect_roles_is_case_space_underscore_insensitive():
    roles = detect_roles(
        ["User ID", "PRODUCT-ID", "Event_Type", "Qty", "event time"], "interactions"
    )
    assert roles == {
        "user": "User ID", "item": "PRODUCT-ID", "event": "Event_Type",
        "quantity": "Qty", "timestamp": "event time",
    }  # fmt: skip
    cat = detect_roles(["货号", "商品名称", "类目", "品牌", "价格", "描述"], "catalog")
    assert cat == {
        "item": "货号", "description": "描述", "title": "商品名称",
        "category": "类目", "brand": "品牌", "price": "价格",
    }  # fmt: skip
    # Description is the title when nothing else is
    assert detect_roles(["sku", "Description"], "catalog") == {
        "item": "sku",
        "title": "Description",
    }
    assert detect_roles(["sku", "name", "desc"], "catalog")["description"] == "desc"


def test_override_mapping():
    text = "a,b,c\nu1,i1,x\nu2,i2,y\n"
    with pytest.raises(DataValidationError, match="no user column found") as exc:
        load(text)
    assert "'a', 'b', 'c'" in str(exc.value) and "customer_id" in str(exc.value)
    res = load(text, interactions_map={"user": "a", "item": "c"})
    assert res.events[Col.ITEM].tolist() == ["x", "y"]
    assert res.report.file("interactions").mapping == {"user": "a", "item": "c"}


def test_override_moves_a_column_away_from_its_detected_role():
    text = "user_id,item_id,sku\nu1,i1,s1\nu2,i2,s2\n"
    res = load(text, interactions_map={"item": "sku"})
    assert res.events[Col.ITEM].tolist() == ["s1", "s2"]
    # an override with an empty value switches a role off
    res = load("user_id,item_id,rating\nu1,i1,5\nu2,i2,3\n", interactions_map={"rating": ""})
    assert Col.RATING not in res.events.columns and res.events[Col.WEIGHT].tolist() == [1.0, 1.0]


def test_override_errors():
    with pytest.raises(DataValidationError) as exc:
        load("user_id,item_id\nu1,i1\nu2,i2\n", interactions_map={"user": "customer"})
    msg = str(exc.value)
    assert "no such column" in msg and "'user_id', 'item_id'" in msg and "file 'log.csv'" in msg
    with pytest.raises(DataValidationError, match="unknown role 'colour'"):
        load("user_id,item_id\nu1,i1\nu2,i2\n", interactions_map={"colour": "user_id"})


# --------------------------------------------------------------------------- events and weights
@pytest.mark.parametrize(
    ("raw", "event"),
    [
        ("PV", "view"), ("page_view", "view"), ("Detail", "view"), ("浏览", "view"),
        ("add_to_cart", "cart"), ("AddToCart", "cart"), ("加购", "cart"),
        ("wishlist", "favorite"), ("Favourite", "favorite"), ("收藏", "favorite"),
        ("buy", "purchase"), ("Transaction", "purchase"), ("下单", "purchase"),
        ("refund", "_cancel"), ("退货", "_cancel"), ("remove_from_cart", "_cancel"),
        ("hover", "other"), ("", "other"),
    ],
)  # fmt: skip
def test_normalize_event(raw, event):
    assert normalize_event(raw) == event


def test_custom_event_weights():
    text = "user,item,behavior\nu1,i1,pv\nu1,i2,buy\nu2,i1,fav\n"
    res = load(text, event_weights={"purchase": 10, "view": 0.5})
    assert res.events[Col.WEIGHT].tolist() == [0.5, 10.0, 3.0]
    with pytest.raises(DataValidationError, match="positive number"):
        load(text, event_weights={"view": -1})


def test_quantity_only_log_is_purchases():
    res = load("customer_id,sku,qty\nc1,s1,2\nc2,s1,1\nc2,s2,0\nc1,s2,x\n")
    f = res.report.file("interactions")
    assert f.dropped == {"zero or negative quantity in 'qty' (returns)": 1}
    assert res.events[Col.WEIGHT].tolist() == [5.0, 5.0, 5.0]
    assert np.isnan(res.events[Col.QUANTITY].iloc[2])
    assert any("not numbers" in w for w in res.report.warnings)


def test_plain_pairs_weigh_one_each():
    res = load("user_id,item_id\nu1,i1\nu1,i1\nu2,i2\n")
    assert res.dataset.interactions[Col.WEIGHT].tolist() == [2.0, 1.0]


def test_rating_scale_with_zero_is_shifted():
    res = load("user,item,rating\nu1,i1,0\nu1,i2,10\nu2,i1,5\n")
    assert res.events[Col.WEIGHT].tolist() == [1.0, 11.0, 6.0]
    assert res.events[Col.RATING].tolist() == [0.0, 10.0, 5.0]
    assert any("ratings go down to 0" in w for w in res.report.warnings)


def test_a_few_bad_ratings_are_dropped_and_counted():
    text = "user,item,rating\nu1,i1,5\nu1,i2,n/a\nu2,i1,4\nu2,i2,\nu3,i1,3\nu3,i3,1\n"
    f = load(text).report.file("interactions")
    assert f.dropped == {"rating in 'rating' is not a number": 1, "no rating in 'rating'": 1}
    assert f.dropped_lines == {
        "rating in 'rating' is not a number": [3], "no rating in 'rating'": [5],
    }  # fmt: skip


def test_garbage_rating_column_is_refused():
    text = "user,item,rating\nu1,i1,good\nu1,i2,bad\nu2,i1,5\nu2,i2,meh\n"
    with pytest.raises(DataValidationError) as exc:
        load(text)
    err = exc.value
    assert err.column == "rating" and err.rows == [2, 3, 5] and err.file == "log.csv"
    assert "not a rating column" in str(err)
    assert "file 'log.csv', column 'rating', lines 2, 3, 5:" in str(err)


# --------------------------------------------------------------------------- timestamps
@pytest.mark.parametrize(
    ("values", "first"),
    [
        (["964982703", "964982704"], "2000-07-30 18:45:03"),
        (["1433221332117", "1433221332118"], "2015-06-02 05:02:12.117"),
        (["2024-03-05T10:00:00", "2024-03-06T11:00:00"], "2024-03-05 10:00:00"),
        (["2024-03-05T10:00:00+02:00", "2024-03-06T11:00:00Z"], "2024-03-05 08:00:00"),
        (["12/1/2010 8:26", "12/13/2010 8:26"], "2010-12-01 08:26:00"),
        (["13/1/2010 8:26", "1/2/2010 8:26"], "2010-01-13 08:26:00"),
        (["20240305", "20240306"], "2024-03-05 00:00:00"),
    ],
)
def test_timestamp_formats(values, first):
    text = "user,item,time\n" + "".join(f"u{i},i{i},{v}\n" for i, v in enumerate(values))
    res = load(text)
    assert res.events[Col.TIMESTAMP].iloc[0] == pd.Timestamp(first)
    assert res.report.timestamps_missing == 0


def test_unreadable_timestamps_become_missing_with_a_warning():
    text = "user,item,date\nu1,i1,2024-01-01\nu2,i2,yesterday\nu3,i1,\n"
    res = load(text)
    assert res.events[Col.TIMESTAMP].isna().tolist() == [False, True, True]
    assert res.report.timestamps_missing == 2
    assert any("could not be read (lines 3, 4)" in w for w in res.report.warnings)


# --------------------------------------------------------------------------- catalog cleaning
def test_catalog_prices_bands_and_extras():
    text = (
        "sku,name,price,colour,price_band_x\n"
        "a,A,$1,299.00,red,\n"
    )  # fmt: skip
    # the row above has a comma in an unquoted price: one field too many -> dropped, counted
    text = (
        "sku,name,price,colour\n"
        'a,A,"$1,299.00",red\n'
        'b,B,"1.299,00 €",blue\n'
        "c,C,¥89,\n"
        "d,D,-5,\n"
        "e,E,call us,\n"
        "f,F,10,\n"
        "g,G,$5,extra,cell\n"
    )
    raw = read_csv_bytes(text.encode(), "cat.csv")
    cat, parts = clean_catalog(raw)
    assert parts["file"].dropped == {"more fields than the header": 1}
    assert parts["file"].dropped_lines == {"more fields than the header": [8]}
    assert parts["file"].extra_columns == ["colour"]
    price = cat.set_index(Col.ITEM)[Col.PRICE]
    assert price["a"] == 1299.0 and price["b"] == 1299.0 and price["c"] == 89.0
    assert np.isnan(price["d"]) and np.isnan(price["e"]) and price["f"] == 10.0
    # known prices 10, 89, 1299, 1299 -> Q1 = 68.25, Q2 = 694, Q3 = 1299
    bands = cat.set_index(Col.ITEM)[Col.PRICE_BAND].to_dict()
    assert bands == {"a": "premium", "b": "premium", "c": "mid", "d": "", "e": "", "f": "budget"}
    assert any("could not be read" in n for n in parts["file"].notes)
    assert cat["colour"].tolist() == ["red", "blue", "", "", "", ""]


def test_catalog_given_price_band_wins():
    text = "item_id,price,price_band\na,10,cheap\nb,20,\nc,30,\nd,40,\n"
    cat, _ = clean_catalog(read_csv_bytes(text.encode(), "c.csv"))
    assert cat[Col.PRICE_BAND].tolist() == ["cheap", "mid", "premium", "luxury"]


def test_html_and_formulas_stay_plain_text():
    cat_text = (
        "item_id,title,description\n"
        'i1,=HYPERLINK("http://x"),<script>alert(1)</script><b>bold</b>\n'
        "i2,@SUM(A1),+1\n"
    )
    res = load("user_id,item_id\nu1,i1\nu2,i2\n", cat_text)
    cat = res.catalog.set_index(Col.ITEM)
    assert cat.loc["i1", Col.TITLE] == '=HYPERLINK("http://x")'
    assert cat.loc["i1", Col.DESCRIPTION] == "<script>alert(1)</script><b>bold</b>"
    assert cat.loc["i2", Col.DESCRIPTION] == "+1"


def test_catalog_only():
    cat, rep = load_catalog(b"asin,brand,title,price\nB1,Acme,Phone,99\nB2,Acme,Case,9\n")
    assert len(cat) == 2 and rep.usable and rep.n_items_in_catalog == 2
    assert any("catalog only" in w for w in rep.warnings)


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("data", "needle"),
    [
        (b"", "empty"),
        (b"  \r\n\n", "empty"),
        (codecs.BOM_UTF8, "empty"),
        (b"\x89PNG\r\n\x1a\n" + bytes(200), "PNG image"),
        (b"PK\x03\x04" + bytes(100) + b"xl/workbook.xml", "Excel .xlsx"),
        (b"%PDF-1.7\n%\xe2\xe3\n1 0 obj", "PDF"),
        (b"GIF89a" + bytes(20), "GIF"),
        (b"\xff\xd8\xff\xe0" + bytes(20), "JPEG"),
        (bytes(np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8)), "binary"),
    ],
)
def test_non_csv_files_are_refused(data, needle):
    with pytest.raises(DataValidationError, match=needle) as exc:
        read_csv_bytes(data, "upload.csv")
    assert exc.value.file == "upload.csv"


def test_header_only_is_refused():
    with pytest.raises(DataValidationError, match="no data rows"):
        load("user_id,item_id\n")


def test_one_user_is_refused_with_advice():
    with pytest.raises(DataValidationError) as exc:
        load("user_id,item_id\nu1,i1\nu1,i2\nu1,i3\n")
    msg = str(exc.value)
    assert "only 1 user(s)" in msg and "at least 2 users and 2 items" in msg
    assert exc.value.column == "user_id"
    with pytest.raises(DataValidationError, match="only 1 item"):
        load("user_id,item_id\nu1,i1\nu2,i1\n")


def test_all_rows_dropped_is_refused_and_report_attached():
    with pytest.raises(DataValidationError, match="no usable interaction rows") as exc:
        load("user_id,item_id\n,i1\nu2,\n")
    rep = exc.value.report
    assert not rep.usable and rep.errors and rep.file("interactions").dropped == {
        "no user id": 1, "no item id": 1,
    }  # fmt: skip


def test_validate_never_raises_for_bad_data():
    rep = validate(b"\x89PNG....", interactions_name="pic.csv")
    assert not rep.usable and "PNG" in rep.errors[0] and "pic.csv" in rep.errors[0]
    assert validate(LOG.encode()).usable


def test_nul_bytes_are_removed_with_a_note():
    data = b"user_id,item_id,title\nu1,i1,Ph\x00one\nu2,i2,Case\x00\x00\n"
    res = load_dataset(data)
    assert res.catalog.set_index(Col.ITEM).loc["i1", Col.TITLE] == "Phone"
    assert any("3 NUL" in n for n in res.report.file("interactions").notes)


def test_mostly_nul_file_is_refused():
    with pytest.raises(DataValidationError, match="binary"):
        read_csv_bytes(b"a,b\n" + bytes(1000), "x.csv")


def test_huge_cell_is_truncated_with_a_note():
    big = "x" * 1_000_000
    text = f"item_id,title,description\ni1,T,{big}\ni2,U,short\n"
    cat, parts = clean_catalog(read_csv_bytes(text.encode(), "cat.csv"))
    assert len(cat.loc[0, Col.DESCRIPTION]) == MAX_CELL_CHARS
    assert cat.loc[1, Col.DESCRIPTION] == "short"
    note = next(n for n in parts["file"].notes if "were cut" in n)
    assert "'description'" in note and "1,000,000" in note and "lines 2" in note


def test_rows_with_wrong_field_counts():
    text = "user_id,item_id,event\nu1,i1,view\nu2,i2,view,EXTRA\nu3,i1\nu4,i2,buy\n"
    res = load(text)
    f = res.report.file("interactions")
    assert f.rows_read == 4 and f.rows_kept == 3
    assert f.dropped_lines == {"more fields than the header": [3]}
    assert any("fewer fields" in n and "lines 4" in n for n in f.notes)
    assert res.events[Col.EVENT].tolist() == ["view", "other", "purchase"]


def test_mostly_broken_rows_are_refused():
    text = "user_id,item_id\nu1,i1,x\nu2,i2,y\nu3,i3\n"
    with pytest.raises(DataValidationError, match="more fields than the header") as exc:
        read_csv_bytes(text.encode(), "x.csv")
    assert exc.value.rows == [2, 3]


def test_clean_interactions_directly_on_raw_table():
    raw = read_csv_bytes(b"uid,iid,stars\nu1,i1,4\nu2,i1,2\n", "x.csv")
    events, parts = clean_interactions(raw)
    assert parts["file"].mapping == {"user": "uid", "item": "iid", "rating": "stars"}
    assert events.dtypes[Col.WEIGHT] == np.float32
    assert events[Col.USER].tolist() == ["u1", "u2"]


def test_one_character_rows_are_not_blank():
    raw = read_csv_bytes(b"user,item\r\nu,1\r\nv\r\n\r\nw,2\n", "x.csv")
    assert raw.frame["user"].tolist() == ["u", "v", "w"]
    assert raw.line_numbers.tolist() == [2, 3, 5] and raw.short_lines.tolist() == [3]


def test_quote_inside_unquoted_field_is_literal():
    raw = read_csv_bytes(b'user_id,item_id,title\nu1,i1,5" screen\n\nu2,i2,6" big\n', "x.csv")
    assert raw.frame["title"].tolist() == ['5" screen', '6" big']
    assert raw.line_numbers.tolist() == [2, 4]


def test_unterminated_quote_is_refused_with_its_line():
    with pytest.raises(DataValidationError, match="never closed") as exc:
        read_csv_bytes(b'user_id,item_id,title\nu1,i1,ok\nu2,i2,"open\nu3,i1,ok\n', "x.csv")
    assert exc.value.rows == [3]


def test_html_page_is_refused():
    with pytest.raises(DataValidationError, match="web page"):
        read_csv_bytes(b"<!DOCTYPE html>\n<html><body>a,b</body></html>\n", "x.csv")


def test_amazon_review_and_loose_time_headers_are_detected():
    from recsys.data.ingest import detect_roles

    roles = detect_roles(["reviewerID", "asin", "overall", "unixReviewTime"], "interactions")
    assert roles == {
        "user": "reviewerID",
        "item": "asin",
        "rating": "overall",
        "timestamp": "unixReviewTime",
    }
    assert detect_roles(["customer", "sku", "when"], "interactions")["timestamp"] == "when"


# --------------------------------------------------------------------------- the two parsers
PARSER_SAMPLES = [
    b'user,item,note\nu1,i1,hello\nu2,i2\n\nu3,"i,3","multi\nline"\n   \nu4,i4,x,y\n'
    b'u5,i5,"a ""q"" b"\nu8,i8,,\r\nu9,i9,x\r\n',
    '用户ID;商品ID;评分\r\nU1;00123;4,5\r\nU2;17850.0\r\n\r\nU3;"a;b";3\r\n'.encode("gb18030"),
    codecs.BOM_UTF8 + b"user\titem\tts\nu1\t001\t1700000000\nu2\t002\t1700000100\t\t\n",
    b'user|item\n"u|1"|i1\n"u2"|"i2"\nu3|i3|extra|more\nu4|i4',
]


@pytest.mark.parametrize("data", PARSER_SAMPLES)
def test_pyarrow_and_pandas_parsers_read_regular_files_alike(data, monkeypatch):
    """pyarrow reads regular files; pandas' C parser (kept for irregular quoting) agrees."""
    import recsys.data.csv_reader as reader

    used = []
    real = reader.arrow_table
    monkeypatch.setattr(reader, "arrow_table", lambda *a: used.append(1) or real(*a))
    fast = read_csv_bytes(data, "f.csv")
    assert used, "a regular file goes through pyarrow"
    monkeypatch.setattr(reader, "regular_quoting", lambda *a: False)
    slow = read_csv_bytes(data, "f.csv")
    pd.testing.assert_frame_equal(fast.frame, slow.frame)
    for attr in ("line_numbers", "bad_lines", "short_lines"):
        np.testing.assert_array_equal(getattr(fast, attr), getattr(slow, attr))
    assert (fast.warnings, fast.encoding, fast.delimiter) == (
        slow.warnings,
        slow.encoding,
        slow.delimiter,
    )


def test_stray_quotes_keep_the_pandas_parser():
    raw = read_csv_bytes(b'user,item,size\nu1,i1,5" screen\nu2,i2,6"\n', "f.csv")
    assert raw.frame["size"].tolist() == ['5" screen', '6"']


def test_readiness_warns_about_drops_short_span_shared_titles_and_prices():
    rows = [
        f"u{u},i{(u + j) % 6},view,2024-03-0{1 + j % 3} 10:00" for u in range(30) for j in range(3)
    ]
    rows += [f"u{u},,view,2024-03-01 11:00" for u in range(20)]  # 20 of 110 rows: no item
    catalog = (
        "item_id,title,price\ni0,Cable,5\ni1,Cable,\ni2,Case,\ni3,Case 2,\ni4,Pen,1\ni5,Box,\n"
    )
    report = load("user,item,event,timestamp\n" + "\n".join(rows), catalog).report
    text = " | ".join(report.warnings)
    assert "18% of its rows were dropped (20 of 110)" in text, text
    assert "cover only 2.0 days" in text
    assert "1 title(s) are shared by 2 items (e.g. 'Cable')" in text
    assert "67% of the items have no price" in text
    # a clean, long log with distinct titles has none of these
    long = [f"u{u},i{(u + j) % 6},view,2024-0{1 + j}-01 10:00" for u in range(30) for j in range(3)]
    clean = "item_id,title,price\n" + "".join(f"i{i},Item {i},{i + 1}\n" for i in range(6))
    report = load("user,item,event,timestamp\n" + "\n".join(long), clean).report
    assert not any(
        key in w for w in report.warnings for key in ("dropped", "days", "shared", "no price")
    ), report.warnings
