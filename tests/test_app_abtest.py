"""The online A/B test page (``AppTest``, no browser, fast mode): plan, assign with lists,
analyse simulated and uploaded outcomes; a bad file is a plain message."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from app_training import train
from streamlit.testing.v1 import AppTest

APP = Path(__file__).resolve().parents[1] / "app.py"
TRAIN = "pages/2_train.py"
ABTEST = "pages/9_abtest.py"


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("FUSION_STUDIO_WORKSPACE", str(tmp_path_factory.mktemp("abtest_ws")))
    mp.setenv("FUSION_STUDIO_FAST", "1")
    at = AppTest.from_file(str(APP), default_timeout=300)
    at.run()
    at.switch_page(TRAIN).run()
    at.multiselect(key="tr_models").set_value(["popularity", "item_knn"])
    train(at)
    assert not at.exception, [e.value for e in at.exception]
    at.switch_page(ABTEST).run()
    assert not at.exception, [e.value for e in at.exception]
    yield at
    mp.undo()


def _ok(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def test_plan_gives_the_sample_size(session):
    metrics = {m.label: m.value for m in session.metric}
    assert metrics["Shoppers per variant"] == "57,763"  # 10 % -> 10.5 %, alpha 0.05, power 0.8
    assert metrics["Shoppers in all"] == "115,526"


def test_assign_lists_and_simulated_analysis(session):
    at = session
    at.text_input(key="abt_a_shares").set_value("30,70")
    at.selectbox(key="abt_a_strat").set_value("__activity__")
    at.button(key="abt_a_go").click().run()
    _ok(at)
    plan = at.session_state["abt_assignment"]
    assert len(plan) == 600 and set(plan["variant"]) == {"A", "B"}
    assert 0.25 < (plan["variant"] == "A").mean() < 0.35
    at.button(key="abt_a_lists").click().run()
    _ok(at)
    assert any(b.proto.label.startswith("Download the lists") for b in at.get("download_button"))
    at.number_input(key="abt_r_planted").set_value(100.0)
    at.button(key="abt_r_sim").click().run()
    _ok(at)
    assert not at.error, [e.value for e in at.error]
    assert any(s.value.startswith("Sample ratio: the variants' sizes match") for s in at.success)
    tables = [d.value for d in at.dataframe]
    result = next(tb for tb in tables if "Lift vs control [interval]" in tb.columns)
    conv = result.loc[result["Metric"] == "Conversion"].iloc[0]
    assert conv["Significant"] == "yes"  # a planted +100 % lift on 420 vs 180 shoppers


def test_a_bad_outcomes_file_is_a_plain_message(session):
    at = session
    bad = b"user_id,variant,orders\nU1,A,many\n"
    at.file_uploader(key="abt_r_file").set_value(("outcomes.csv", bad, "text/csv"))
    at.run()
    _ok(at)
    shown = [re.sub(r"\\(.)", r"\1", e.value) for e in at.error]  # as Markdown shows it
    assert any("'orders'" in e and "line 2" in e for e in shown), shown
