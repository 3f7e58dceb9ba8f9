"""Bad uploads and dataset deletion on the Data page (``AppTest``, no browser, fast mode).

A bad file shows a short error (never a traceback) and leaves the active dataset in place;
deleting the active dataset falls back to the newest remaining one.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from app_session import fresh_session, studio_workspace
from app_training import train
from streamlit.testing.v1 import AppTest

APP = Path(__file__).resolve().parents[1] / "app.py"


def session_run(at):
    """The run a session shows (shared by the server: ``ui.shared_runs``)."""
    from recsys.service.workspace import Workspace
    from ui import shared_runs

    ss = at.session_state
    return shared_runs.run(Workspace(), ss["run_id"], ss["dataset_id"])


@pytest.fixture(scope="module", autouse=True)
def workspace(tmp_path_factory):
    with studio_workspace(tmp_path_factory.mktemp("uploads_ws")) as root:
        yield root


def _app() -> AppTest:
    return fresh_session()


def _upload(at: AppTest, name: str, data: bytes) -> AppTest:
    at.file_uploader(key="data_up_inter").set_value((name, data, "text/csv"))
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _log(n_users: int = 12) -> bytes:
    rows = [f"c{u},p{(u + j) % 7},view" for u in range(n_users) for j in range(3)]
    return ("customer,sku,action\n" + "\n".join(rows)).encode()


def test_png_renamed_csv_shows_an_error_and_keeps_the_dataset():
    at = _app()
    before = at.session_state["dataset_id"]
    assert before
    _upload(at, "photo.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00")
    assert any("PNG" in e.value for e in at.error), [e.value for e in at.error]
    assert all("Traceback" not in e.value for e in at.error)
    assert at.session_state["dataset_id"] == before
    assert at.metric[0].value == "600"  # the demo store is still shown


def test_xlsx_and_empty_files_are_refused():
    at = _app()
    before = at.session_state["dataset_id"]
    _upload(at, "sheet.csv", b"PK\x03\x04\x14\x00\x06\x00junk[Content_Types].xml")
    assert any("Excel" in e.value for e in at.error)
    _upload(at, "empty.csv", b"")
    assert any("empty" in e.value for e in at.error)
    assert at.session_state["dataset_id"] == before


def test_csv_without_a_user_column_cannot_be_saved():
    at = _app()
    before = at.session_state["dataset_id"]
    _upload(at, "no_user.csv", b"sku,rating\nA,5\nB,3\n")
    assert any("user" in e.value.lower() for e in at.error), [e.value for e in at.error]
    assert at.button(key="data_save").disabled
    # mapping the item column as the user column anyway: the library refuses, the page explains
    assert at.session_state["dataset_id"] == before


def test_garbage_ratings_are_dropped_and_reported():
    at = _app()
    before = at.session_state["dataset_id"]
    rows = [f"u{i % 5},m{i % 9},{'five' if i % 4 == 0 else 4}" for i in range(40)]
    _upload(at, "ratings.csv", ("userId,movieId,rating\n" + "\n".join(rows)).encode())
    at.button(key="data_save").click()
    at.run()
    assert not at.exception
    assert not at.error, [e.value for e in at.error]
    assert at.session_state["dataset_id"] != before
    assert any("10 row(s) were dropped" in s.value for s in at.success), [
        s.value for s in at.success
    ]
    assert any("dropped" in w.value for w in at.warning)  # the readiness report says why


def test_delete_the_active_dataset_falls_back_to_another():
    at = _app()
    demo = at.session_state["dataset_id"]
    _upload(at, "shop.csv", _log())
    at.button(key="data_save").click()
    at.run()
    new = at.session_state["dataset_id"]
    assert new != demo
    at.button(key="data_delete_yes").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    from recsys.service.workspace import Workspace

    ids = [d.id if hasattr(d, "id") else d["id"] for d in Workspace().list_datasets()]
    assert new not in ids
    assert at.session_state["dataset_id"] in ids and at.session_state["dataset_id"] != new
    assert any("Deleted" in s.value for s in at.success)


def test_ratings_data_shows_ratings_and_hides_empty_columns():
    """MovieLens-like ratings (no purchases, brand or price): the profile shows the rating."""
    at = _app()
    ratings = "userId,movieId,rating,timestamp\n" + "\n".join(
        f"{u},{(u * 3 + j) % 25},{1 + (u + j) % 5}.{5 * ((u + j) % 2)},{1_600_000_000 + 3600 * j}"
        for u in range(40)
        for j in range(8)
    )
    movies = "movieId,title,genres\n" + "\n".join(
        f"{i},Movie {i} ({1990 + i}),{'Comedy|Drama' if i % 2 else 'Action'}" for i in range(25)
    )
    at.file_uploader(key="data_up_inter").set_value(
        ("movie_ratings.csv", ratings.encode(), "text/csv")
    )
    at.file_uploader(key="data_up_cat").set_value(("movies.csv", movies.encode(), "text/csv"))
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    at.button(key="data_save").click()
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]

    at.switch_page("pages/2_train.py")
    at.run()
    at.multiselect(key="tr_models").set_value(["item_knn", "popularity"])
    at.run()
    train(at)
    assert not at.exception and not at.error, [e.value for e in at.error]
    run = session_run(at)
    assert run.dataset.has_ratings

    at.switch_page("pages/4_users.py")
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    history = at.dataframe[0].value
    user = at.selectbox(key="ue_user").value
    expected = run.user_profile(user)["history"]
    assert "rating" in history.columns
    assert history["rating"].tolist() == expected["rating"].head(200).tolist()
    assert {"purchased", "brand", "price", "price_band", "n_events"}.isdisjoint(history.columns)
    assert {"time", "item_id", "title"} <= set(history.columns)
    assert any("summed rating" in str(p.proto.spec) for p in at.get("plotly_chart"))


def test_upload_with_user_attributes_is_saved_and_summarised():
    at = _app()
    users = "customer,segment\n" + "\n".join(f"c{u},s{u % 2}" for u in range(10))
    at.file_uploader(key="data_up_users").set_value(("users.csv", users.encode(), "text/csv"))
    _upload(at, "log.csv", _log(12))
    at.button(key="data_save").click().run()
    assert not at.exception, [e.value for e in at.exception]
    ds_id = at.session_state["dataset_id"]
    from recsys.service.workspace import Workspace

    ds = Workspace().load_dataset(ds_id)
    assert ds.user_attribute_columns == ["segment"]
    assert int(ds.users_with_attributes().sum()) == 10
    assert any("10 of 12 users have attributes" in c.value for c in at.caption)


def test_guessed_title_and_price_columns_show_values_and_can_be_changed():
    """The catalog's guessed title and price columns show a few values under their pickers;
    a wrong guess is changed before saving and the dataset keeps the choice."""
    at = _app()
    catalog = "sku,name,price,old_price\n" + "\n".join(
        f"p{i},Phone case {i},{100 + i}.5,{200 + i}" for i in range(7)
    )
    at.file_uploader(key="data_up_cat").set_value(("items.csv", catalog.encode(), "text/csv"))
    _upload(at, "guess.csv", _log())
    digest = next(k for k in at.session_state if k.startswith("data_role_catalog_price_"))
    assert at.selectbox(key=digest.replace("price", "title")).value == "name"
    assert at.selectbox(key=digest).value == "price"
    captions = [c.value for c in at.caption if c.value.startswith("Guessed from its name")]
    assert any("“Phone case 0”" in c for c in captions), captions
    assert any("Check the guessed columns" in i.value for i in at.info)

    at.selectbox(key=digest).set_value("old_price")  # the user corrects the guess
    at.run()
    assert any(c.value.startswith("Your choice") for c in at.caption)
    assert not any("Check the guessed columns" in i.value for i in at.info)
    at.button(key="data_save").click()
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    from recsys.service.workspace import Workspace

    ds = Workspace().load_dataset(at.session_state["dataset_id"])
    assert float(ds.catalog.set_index("item_id").loc["p0", "price"]) == 200.0
