"""The Streamlit studio end to end with ``streamlit.testing.v1.AppTest`` (no browser).

Starts from ``app.py`` on an empty temporary workspace (so the demo store is created on first
start), switches to every page, and drives the main controls: upload (good and bad), train,
move a fusion weight, auto-tune, presets, pick a user, what-if, compare, export. Runs in fast
mode (``FUSION_STUDIO_FAST=1``: 600-user demo store, few epochs).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from app_session import studio_workspace
from app_training import train
from streamlit.testing.v1 import AppTest

from recsys.models import DEFAULT_MODELS, model_class

APP = Path(__file__).resolve().parents[1] / "app.py"
TIMEOUT = 300

DATA = "pages/1_data.py"
TRAIN = "pages/2_train.py"
LAB = "pages/3_fusion.py"
USERS = "pages/4_users.py"
ITEMS = "pages/5_items.py"
INSIGHTS = "pages/6_insights.py"
COMPARE = "pages/7_compare.py"
EXPORT = "pages/8_export.py"


def session_run(at):
    """The run a session shows (shared by the server: ``ui.shared_runs``)."""
    from recsys.service.workspace import Workspace
    from ui import shared_runs

    ss = at.session_state
    return shared_runs.run(Workspace(), ss["run_id"], ss["dataset_id"])


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    with studio_workspace(tmp_path_factory.mktemp("studio_ws")) as root:
        yield root


def _demo_id() -> str | None:
    from recsys.service.workspace import Workspace

    demo = [d for d in Workspace().list_datasets() if d.source == "demo"]
    return demo[-1].id if demo else None


def _app() -> AppTest:
    """A new session; on the demo store (through its URL) once the workspace has one."""
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    demo = _demo_id()
    if demo:
        at.query_params["ds"] = demo
    at.run()
    assert not at.exception, at.exception
    return at


def _goto(at: AppTest, page: str) -> AppTest:
    at.switch_page(page)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


@pytest.fixture(scope="module")
def trained(workspace):
    """A session that trained a run (the run is saved in the workspace)."""
    at = _goto(_app(), TRAIN)
    train(at)
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert at.session_state["run_id"]
    return at


# ------------------------------------------------------------------------------ before training
def test_first_start_creates_demo_store(workspace):
    at = _app()
    assert at.session_state["dataset_id"], "the demo store should be created on first start"
    metrics = _metrics(at)
    assert metrics["Users"] == "600"
    assert int(metrics["Items"].replace(",", "")) >= 200
    assert not at.error
    # charts and report are rendered
    assert any("Demo store" in m.value for m in at.markdown)
    # the demo store's prices are in yuan; another currency is a setting kept with the dataset
    ds_id = at.session_state["dataset_id"]
    currency = at.selectbox(key=f"data_currency_{ds_id}")
    assert currency.value == "¥"
    currency.set_value("£")
    at.run()
    assert any(c.value.startswith("Prices show as £") for c in at.caption)
    from recsys.service.workspace import Workspace

    assert Workspace(workspace).dataset_meta(ds_id)["currency"] == "£"
    at.selectbox(key=f"data_currency_{ds_id}").set_value("¥")
    at.run()
    assert Workspace(workspace).dataset_meta(ds_id)["currency"] == "¥"


def test_language_switch_to_chinese(workspace):
    at = _app()
    at.segmented_control(key="lang").set_value("zh")
    at.run()
    assert at.title[0].value == "数据"
    assert "用户" in _metrics(at)


def test_pages_need_a_run_and_say_so(workspace):
    at = _app()
    for page in (LAB, USERS, ITEMS, INSIGHTS, COMPARE, EXPORT):
        _goto(at, page)
        assert at.info, f"{page} should explain that a trained run is needed"


def test_upload_good_and_bad_files(workspace):
    at = _app()
    before = at.session_state["dataset_id"]
    bad = at.file_uploader(key="data_up_inter")
    bad.set_value(("broken.csv", b"\x89PNG\r\n\x1a\n\x00\x00junk", "text/csv"))
    at.run()
    assert not at.exception
    assert at.error, "a PNG disguised as CSV must show an error"
    assert at.session_state["dataset_id"] == before

    csv = "customer,sku,action,when\n" + "\n".join(
        f"c{u},p{(u * 7 + j) % 11},{'purchase' if j % 3 == 0 else 'view'},2024-01-{1 + j:02d} 10:00"
        for u in range(30)
        for j in range(4)
    )
    at.file_uploader(key="data_up_inter").set_value(("shop.csv", csv.encode(), "text/csv"))
    at.run()
    assert not at.exception
    roles = {
        s.label: s.value
        for s in at.selectbox
        if s.key and s.key.startswith("data_role_interactions")
    }
    assert (
        roles["User id"] == "customer"
        and roles["Item id"] == "sku"
        and roles["Event type"] == "action"
    )
    at.button(key="data_save").click()
    at.run()
    assert not at.exception
    assert at.session_state["dataset_id"] != before
    assert _metrics(at)["Users"] == "30"
    # back to the demo store for the rest of the module
    at.selectbox(key=f"data_pick_{at.session_state['dataset_id']}").set_value(before)
    at.run()
    assert at.session_state["dataset_id"] == before


# ------------------------------------------------------------------------------ after training
def test_train_page_offers_the_new_single_models(workspace):
    at = _goto(_app(), TRAIN)
    options = at.multiselect[0].options
    for label in ("EASE", "RP3beta", "ALS", "BPR"):
        assert any(o.startswith(label) for o in options), (label, options)


def test_train_page_number_inputs_take_the_library_bounds(workspace):
    at = _goto(_app(), TRAIN)
    for key, name, param in (
        ("tr_p_lightfm_warp_no_components", "lightfm_warp", "no_components"),
        ("tr_p_als_regularization", "als", "regularization"),
    ):
        bounds = model_class(name).param_ranges[param]
        widget = at.number_input(key=key)
        assert (widget.min, widget.max) == (bounds.low, bounds.high), key


def test_train_shows_each_models_metrics(trained):
    import json

    frame = trained.dataframe[0]
    table = frame.value
    assert len(table) == len(DEFAULT_MODELS)
    assert (table.filter(like="ndcg@").to_numpy() >= 0).all()
    # columns carry their glossary names and help, never raw keys
    config = json.loads(frame.proto.columns)
    assert config["ndcg@10"]["label"] == "NDCG@10"
    assert "Rank-weighted hits" in config["ndcg@10"]["help"]
    assert config["category_diversity"]["label"] == "Category diversity"
    assert "Lower is better" in config["rmse"]["help"] if "rmse" in config else True


def test_fusion_lab_weight_autotune_and_presets(trained):
    at = _goto(_app(), LAB)  # a new session: the run is loaded from the workspace
    before = _metrics(at)
    assert any(k.startswith("NDCG@") for k in before)
    for name in ("svd", "lightfm_warp", "item_knn", "content_tfidf"):
        at.slider(key=f"lab_w_{name}").set_value(0.0)
    at.run()
    assert not at.exception
    after = _metrics(at)
    assert after != before, "moving weights should change the held-out metrics"

    at.session_state["lab_tune_exp"] = True  # open auto-tune (its content is lazy)
    at.run()
    at.button(key="lab_tune_go").click()
    at.run()
    assert not at.exception
    at.session_state["lab_tune_job"].join(120)  # the search runs in the background
    at.run()
    assert not at.exception
    weights = {m: at.session_state[f"lab_w_{m}"] for m in DEFAULT_MODELS}
    assert abs(sum(weights.values()) - 1.0) < 0.05, weights  # best weights live on the simplex
    assert at.success or at.warning

    at.text_input(key="lab_preset_name_in").set_value("Tuned")
    at.run()
    at.button(key="lab_save_preset").click()
    at.run()
    assert not at.exception
    assert any("Tuned" in s.value for s in at.success)


def test_user_explorer_and_what_if(trained):
    at = _goto(_app(), USERS)
    users = at.selectbox(key="ue_user").options
    at.selectbox(key="ue_user").set_value(users[3].split(" · ")[0])
    at.run()
    assert not at.exception and not at.error
    # every card names its item id and shows the price in the demo store's currency
    cards = [c.value for c in at.caption if c.value.startswith("item ")]
    assert len(cards) >= 10 and all("¥" in c for c in cards[:10]), cards[:3]
    at.button(key="ue_wi_add").click()
    at.run()
    assert not at.exception
    assert any("ms" in c.value and ("Updated" in c.value) for c in at.caption)


def test_item_explorer_insights_compare(trained):
    at = _app()
    for page in (ITEMS, INSIGHTS, COMPARE):
        _goto(at, page)
        assert not at.error, [e.value for e in at.error]
    # compare the trained preset with the current setting: the table covers the accuracy metrics
    assert any("Jaccard" in (m.label or "") for m in at.metric)
    # every metric row, coverage and personalisation included, has an interval and a p-value
    (table,) = [d.value for d in at.dataframe if "ci_low" in d.value.columns]
    assert {"Catalog coverage", "Personalisation"} <= set(table["metric"])
    assert table[["ci_low", "ci_high", "p_perm"]].notna().all().all(), table
    assert (table["ci_low"] <= table["ci_high"]).all()


def test_export_recommendations(trained):
    at = _goto(_app(), EXPORT)
    prepared = at.session_state["ex_prepared"]
    table = prepared["table"]
    assert table["user_id"].nunique() == 600
    assert {"user_id", "rank", "item_id", "score", "strategy", "run_id"} <= set(table.columns)
    assert table.groupby("user_id")["rank"].max().max() <= 10
    labels = [b.label for b in at.get("download_button")] if at.get("download_button") else []
    assert labels, "download buttons are shown"


def test_rules_from_the_editor_rows():
    import pandas as pd

    from ui.rules import parse_value, rules_from_rows, rules_to_rows

    assert parse_value("1000, 3000") == [1000, 3000]
    assert parse_value("2.5") == 2.5 and parse_value("Apple") == "Apple"
    rows = pd.DataFrame(
        [
            {"kind": "boost", "column": "category", "op": "==", "value": "case", "factor": 2.0},
            {"kind": "filter", "column": "price", "op": "between", "value": "100, 2000"},
            {"kind": "pin", "item_id": "00007", "position": 2, "segment": "cold"},
            {
                "kind": "boost",
                "column": "brand",
                "op": "==",
                "value": "Apple",
                "factor": 0.5,
            },  # invalid
            {"kind": None},  # empty row is skipped
        ]
    )
    rules, errors = rules_from_rows(rows)
    assert [r.kind for r in rules] == ["boost", "filter", "pin"]
    assert rules[1].value == [100, 2000] and rules[2].position == 2 and rules[2].segment == "cold"
    assert len(errors) == 1 and errors[0].startswith("#4")
    back, _ = rules_from_rows(rules_to_rows(rules))
    assert [r.to_dict() for r in back] == [r.to_dict() for r in rules]


def test_fusion_lab_filter_rule_changes_lists(trained):
    from recsys.ranking.rerank import Rule

    at = _goto(_app(), LAB)
    before = _metrics(at)
    at.session_state["lab_pending"] = {
        "rules": [Rule(kind="filter", column="category", op="==", value="case")]
    }
    at.run()
    assert not at.exception and not at.error
    assert _metrics(at) != before
    assert at.session_state["cur_rerank"]["rules"][0]["value"] == "case"


def test_export_a_segment(trained):
    at = _goto(_app(), EXPORT)
    at.segmented_control(key="ex_scope").set_value("heavy")
    at.run()
    assert not at.exception
    table = at.session_state["ex_prepared"]["table"]
    assert 0 < table["user_id"].nunique() < 600


def test_chinese_columns_and_catalog_text(workspace):
    at = _app()
    before = at.session_state["dataset_id"]
    log = "会员ID,商品编号,行为类型\n" + "\n".join(
        f"M{u},S{(u + j) % 6},{'购买' if j == 0 else '浏览'}" for u in range(12) for j in range(3)
    )
    catalog = "商品编号,商品名称,品类,品牌,价格\n" + "\n".join(
        f"S{i},华为 Mate 60 Pro 手机壳 {i},手机壳,华为,{59 + i}" for i in range(6)
    )
    at.file_uploader(key="data_up_inter").set_value(("日志.csv", log.encode("gbk"), "text/csv"))
    at.file_uploader(key="data_up_cat").set_value(("商品.csv", catalog.encode("utf-8"), "text/csv"))
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    roles = {s.label: s.value for s in at.selectbox if s.key and s.key.startswith("data_role_")}
    assert (
        roles["User id"] == "会员ID"
        and roles["Event type"] == "行为类型"
        and roles["Title"] == "商品名称"
    )
    at.button(key="data_save").click()
    at.run()
    assert not at.exception and not at.error
    ds_id = at.session_state["dataset_id"]
    from recsys.service.workspace import Workspace

    ds = Workspace().load_dataset(ds_id)
    assert ds.catalog["title"].str.contains("手机壳").all()
    at.selectbox(key=f"data_pick_{ds_id}").set_value(before)  # back to the demo store
    at.run()
    assert at.session_state["dataset_id"] == before


def test_sessions_do_not_share_unsaved_work(trained):
    a = _goto(_app(), LAB)
    tuned = session_run(a).preset.fusion.weights
    model = max(tuned, key=tuned.get)  # a model whose tuned weight is surely not 0
    a.slider(key=f"lab_w_{model}").set_value(0.0)
    a.run()
    b = _goto(_app(), LAB)
    assert a.session_state["cur_fusion"]["weights"][model] == 0.0
    assert b.session_state["cur_fusion"]["weights"][model] == tuned[model] != 0.0


def test_train_tunes_weights_and_the_lab_starts_from_them(trained):
    """Training tunes the fusion weights on validation (default on); the lab opens on them."""
    assert trained.checkbox(key="tr_tune").value is True
    run = session_run(trained)
    tuned = run.preset.fusion.weights
    assert set(tuned) == set(run.model_names)
    assert abs(sum(tuned.values()) - 1.0) < 1e-3 and max(tuned.values()) < 1.0
    assert any("tuned on the validation split" in c.value for c in trained.caption)

    at = _goto(_app(), LAB)  # a new session: the run (and its tuned weights) from the workspace
    for m, w in tuned.items():
        slider = at.slider(key=f"lab_w_{m}")
        assert slider.value == round(w, 2), (m, slider.value, w)
        assert (slider.min, slider.max, slider.step) == (0.0, 1.0, 0.01)
    # the lab evaluates the exact tuned weights, so it starts level with the trained preset
    assert at.session_state["cur_fusion"]["weights"] == tuned
    baseline = at.selectbox(key="lab_baseline")
    assert "tuned on validation" in baseline.format_func(baseline.value)
    deltas = [m.proto.delta for m in at.metric]
    assert deltas and all(d in ("+0.0000", "-0.0000") for d in deltas), deltas


def test_url_paths_match_the_legacy_pages_folder_names():
    """Each page's URL is the name Streamlit's legacy ``pages/`` mode gives its file.

    That mode serves the first request of a fresh server; a deep link (``/fusion``) then finds
    its page in both modes, so no "Page not found" popup appears (``ui.nav.ensure_app_frame``).
    """
    from streamlit.source_util import page_icon_and_name

    from ui.nav import PAGE_FILES, url_path

    root = APP.parent
    for key, file in PAGE_FILES.items():
        assert (root / file).exists(), file
        assert url_path(key) == page_icon_and_name(root / file)[1], file
    assert [url_path(k) for k in ("data", "fusion", "users", "items")] == [
        "data",
        "fusion",
        "users",
        "items",
    ]


def test_fusion_lab_scores_a_sample_and_can_score_everyone(trained, monkeypatch, request):
    monkeypatch.setattr("recsys.service.stage.LAB_SAMPLE_USERS", 60)
    monkeypatch.setattr("recsys.evaluation.sampling.SEGMENT_FLOOR", 5)
    from ui import shared_runs

    shared_runs.RUNS.clear()  # as after a restart: the run is loaded with these sample sizes
    request.addfinalizer(shared_runs.RUNS.clear)  # later tests get the usual sample again
    at = _goto(_app(), LAB)
    captions = " ".join(c.value for c in at.caption)
    assert "stratified sample" in captions, captions
    assert any("95 % interval" in (m.help or "") for m in at.metric)
    at.button(key="lab_all_users_go").click()
    at.run()
    assert not at.exception
    captions = " ".join(c.value for c in at.caption)
    assert "stratified sample" not in captions and "Held-out metrics of" in captions
    at.button(key="lab_back_to_sample").click()
    at.run()
    assert "stratified sample" in " ".join(c.value for c in at.caption)
