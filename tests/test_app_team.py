"""A studio a team shares, in ``AppTest`` (fast mode): sign-in, per-tab state, names that cannot
collide, presets on datasets they were not saved on, and exports that name the preset in use.

The workspace holds two people's work (``tests/team_workspace.py``).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit import config as st_config
from streamlit.testing.v1 import AppTest
from team_workspace import build

from recsys.service.access import hash_password
from recsys.service.workspace import Workspace

APP = Path(__file__).resolve().parents[1] / "app.py"
TIMEOUT = 300
PAGES = [
    "pages/1_data.py",
    "pages/2_train.py",
    "pages/3_fusion.py",
    "pages/4_users.py",
    "pages/5_items.py",
    "pages/6_insights.py",
    "pages/7_compare.py",
    "pages/8_export.py",
]


@pytest.fixture(scope="module")
def ids(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    root = tmp_path_factory.mktemp("team_ws")
    mp.setenv("FUSION_STUDIO_WORKSPACE", str(root))
    mp.setenv("FUSION_STUDIO_FAST", "1")
    yield build(root)
    mp.undo()


def _app(ds: str | None = None, **params: str) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    if ds:
        at.query_params["ds"] = ds
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _goto(at: AppTest, page: str) -> AppTest:
    at.switch_page(page)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _names() -> list[str]:
    return [d.name for d in Workspace().list_datasets()]


# ------------------------------------------------------------------------------ sign-in
def test_password_gate_shows_nothing_before_sign_in(ids):
    secrets = {"alice": hash_password("alice's long password")}
    for page in PAGES:  # every page file, run on its own, shows only the sign-in
        direct = AppTest.from_file(str(APP.parent / page), default_timeout=TIMEOUT)
        direct.secrets["passwords"] = secrets
        direct.query_params["ds"] = ids["demo"]
        direct.run()
        assert not direct.exception, page
        assert [t.value for t in direct.title] == ["Sign in to Fusion Studio"], page
        assert not direct.metric and not direct.dataframe and not direct.get("download_button")
        assert direct.session_state["dataset_id"] is None, page  # nothing was read
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.secrets["passwords"] = secrets
    at.query_params["ds"] = ids["demo"]
    at.run()
    assert [t.value for t in at.title] == ["Sign in to Fusion Studio"]
    at.text_input(key="auth_password_in").set_value("wrong password")
    at.button[0].click()
    at.run()
    assert [e.value for e in at.error] == ["Wrong name or password."]
    assert at.title[0].value == "Sign in to Fusion Studio"
    at.text_input(key="auth_password_in").set_value("alice's long password")
    at.button[0].click()
    at.run()
    assert not at.exception and at.title[0].value == "Data"
    assert at.session_state["dataset_id"] == ids["demo"]  # the URL's dataset, after sign-in
    assert any("Signed in as alice" in c.value for c in at.caption)
    _goto(at, PAGES[-1])
    assert at.get("download_button")


def test_a_secret_that_is_not_a_hash_keeps_the_studio_closed(ids):
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.secrets["passwords"] = {"bob": "plain-text-password"}
    at.run()
    assert any("is not a hash" in e.value for e in at.error)
    assert not at.text_input and not at.metric


@pytest.fixture
def public_address():
    """``server.address`` set to every interface for one test (the process's config)."""
    before = st_config.get_option("server.address")
    st_config.set_option("server.address", "0.0.0.0", "test")
    yield
    st_config.set_option("server.address", before, "test")


def test_a_public_address_without_a_login_is_refused(ids, public_address, monkeypatch):
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.run()
    assert at.title[0].value == "Not served without a login"
    assert "0.0.0.0" in at.error[0].value
    assert not at.metric and not at.dataframe
    monkeypatch.setenv("FUSION_STUDIO_OPEN_WITHOUT_LOGIN", "1")  # the explicit opt-out
    at = _app()
    assert at.title[0].value == "Data" and at.metric


# ------------------------------------------------------------------------------ names and ids
def test_load_the_demo_store_opens_the_existing_one_unless_asked(ids):
    at = _app(ids["movielens"])
    n_before = len(_names())
    at.button(key="data_demo").click()
    at.run()
    assert at.session_state["dataset_id"] == ids["demo"]
    assert len(_names()) == n_before
    assert any("already in the workspace" in s.value for s in at.success)
    at.checkbox(key="data_demo_new").check()
    at.button(key="data_demo").click()
    at.run()
    assert not at.exception
    new = at.session_state["dataset_id"]
    assert new != ids["demo"] and Workspace().dataset_meta(new)["name"] == "Demo store (2)"
    Workspace().delete_dataset(new)


def test_dataset_entries_show_short_ids_and_open_what_was_picked(ids):
    at = _app(ids["demo"])
    pick = at.selectbox(key=f"data_pick_{ids['demo']}")
    shop = [o for o in pick.options if o.startswith("Shop #")]
    assert len(shop) == 2 and len(set(shop)) == 2, pick.options  # same name, different labels
    for key in ("shop_a", "shop_b"):
        active = at.session_state["dataset_id"]
        at.selectbox(key=f"data_pick_{active}").set_value(ids[key])
        at.run()
        assert at.session_state["dataset_id"] == ids[key]
        assert at.query_params["ds"] in (ids[key], [ids[key]])


def test_saving_under_a_taken_name_asks_first(ids):
    at = _app(ids["demo"])
    log = "customer,sku,action\n" + "\n".join(f"c{u},p{u % 5},view" for u in range(20))
    at.file_uploader(key="data_up_inter").set_value(("Shop.csv", log.encode(), "text/csv"))
    at.run()
    assert at.button(key="data_save").disabled  # "Shop" is taken: overwrite or keep both?
    choice = next(r for r in at.radio if r.key.startswith("data_name_choice_"))
    assert choice.value is None
    choice.set_value("keep_both")
    at.run()
    at.button(key="data_save").click()
    at.run()
    assert not at.exception
    kept = at.session_state["dataset_id"]
    assert Workspace().dataset_meta(kept)["name"] == "Shop (2)"
    assert {ids["shop_a"], ids["shop_b"], kept} <= {d.id for d in Workspace().list_datasets()}
    Workspace().delete_dataset(kept)


def test_saving_a_preset_under_a_taken_name_asks_first(ids):
    at = _goto(_app(ids["demo"]), "pages/3_fusion.py")
    at.text_input(key="lab_preset_name_in").set_value("Anker week")
    at.run()
    assert at.button(key="lab_save_preset").disabled
    at.radio(key="lab_preset_clash").set_value("keep_both")
    at.run()
    at.button(key="lab_save_preset").click()
    at.run()
    assert not at.exception
    names = [p["name"] for p in Workspace().list_presets()]
    assert names.count("Anker week") == 1 and "Anker week (2)" in names
    kept = next(p for p in Workspace().list_presets() if p["name"] == "Anker week (2)")
    Workspace().delete_preset(kept["id"])


# ------------------------------------------------------------------------------ presets
def test_a_preset_with_a_missing_column_loads_on_movielens_and_every_page_works(ids):
    at = _goto(_app(ids["movielens"]), "pages/3_fusion.py")
    pick = at.selectbox(key="lab_pick_preset")
    flagged = [o for o in pick.options if o.startswith("Anker week #")]
    assert flagged and "no column brand" in flagged[0]
    pick.set_value(ids["anker"])
    at.run()
    at.button(key="lab_load_preset").click()
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    warned = [w.value for w in at.warning if "cannot apply" in w.value]
    assert warned and "boost brand == Anker x2" in warned[0]
    for page in PAGES:
        _goto(at, page)
        assert not at.error, (page, [e.value for e in at.error])
    table = at.session_state["ex_prepared"]["table"]  # the Export page prepared the rows
    assert set(table["preset_id"]) == {ids["anker"]}
    assert set(table["preset"]) == {"Anker week"}
    assert set(table["preset_modified"]) == {False}
    assert any(ids["anker"][-8:-2] in c.value and "as saved" in c.value for c in at.caption)


def test_export_says_when_the_preset_in_use_was_modified(ids):
    at = _goto(_app(ids["demo"]), "pages/3_fusion.py")
    at.selectbox(key="lab_pick_preset").set_value(ids["spring_rrf"])
    at.run()
    at.button(key="lab_load_preset").click()
    at.run()
    assert at.session_state["lab_method"] == "rrf"
    at.slider(key="lab_mmr").set_value(0.5)
    at.run()
    _goto(at, "pages/8_export.py")
    table = at.session_state["ex_prepared"]["table"]
    assert set(table["preset_id"]) == {ids["spring_rrf"]}
    assert set(table["preset_modified"]) == {True}
