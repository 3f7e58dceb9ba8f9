"""Training faults in the app (``AppTest``, fast mode): a failure's reason is shown above the
page, a dataset deleted meanwhile leaves no orphan run, a stopped training is reported, and a
dataset cannot be deleted while it trains."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.runtime.scriptrunner_utils.exceptions import StopException
from streamlit.testing.v1 import AppTest

from recsys.errors import WorkspaceError
from ui import training_watch

APP = Path(__file__).resolve().parents[1] / "app.py"
TRAIN = "pages/2_train.py"
MODELS = ["popularity", "item_knn"]


@pytest.fixture(scope="module", autouse=True)
def workspace(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    root = tmp_path_factory.mktemp("training_faults_ws")
    mp.setenv("FUSION_STUDIO_WORKSPACE", str(root))
    mp.setenv("FUSION_STUDIO_FAST", "1")
    yield root
    mp.undo()


def _train_page() -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=300)
    at.run()
    at.switch_page(TRAIN)
    at.run()
    at.multiselect(key="tr_models").set_value(MODELS)
    at.run()
    assert not at.exception, at.exception
    return at


def _n_runs(root: Path) -> int:
    return len([p for p in (root / "runs").iterdir() if (p / "manifest.json").is_file()])


def test_a_training_failure_is_shown_above_the_page(workspace, monkeypatch):
    at = _train_page()

    def disk_full(*args, **kwargs):
        raise WorkspaceError("the workspace's disk is full (3 MB free); nothing was changed.")

    monkeypatch.setattr("recsys.service.persistence.save_run", disk_full)
    at.button(key="tr_go").click()
    at.run()
    assert not at.exception, at.exception
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and "disk is full" in errors[0], errors
    # the message is a top-level element of the page, not inside the (closed) status box
    assert at.main.children and any(
        getattr(node, "type", "") == "alert" or node in at.error
        for node in at.main.children.values()
    ), "the error should sit on the page itself"
    assert _n_runs(workspace) == 0


def test_a_dataset_deleted_while_training_gets_no_run(workspace, monkeypatch):
    import recsys.service.training as training

    at = _train_page()
    ds_id = at.session_state["dataset_id"]
    real = training.train_run

    def train_then_delete(*args, **kwargs):
        run = real(*args, **kwargs)
        from recsys.service.workspace import Workspace

        Workspace(workspace).delete_dataset(ds_id)  # another tab deletes it meanwhile
        return run

    monkeypatch.setattr("recsys.service.training.train_run", train_then_delete)
    at.button(key="tr_go").click()
    at.run()
    assert not at.exception, at.exception
    assert _n_runs(workspace) == 0  # no orphan run
    shown = " ".join(e.value for e in at.error) + " ".join(i.value for i in at.info)
    assert "deleted" in shown, shown


def test_a_dataset_is_not_deleted_while_it_trains(workspace):
    at = AppTest.from_file(str(APP), default_timeout=300)
    at.run()
    ds_id = at.session_state["dataset_id"]
    with training_watch.training(ds_id):  # a training in another session
        at.run()
        assert any("is running in another tab" in w.value for w in at.warning)
        assert at.button(key="data_delete_yes").disabled
    at.run()
    assert not at.button(key="data_delete_yes").disabled


def test_a_training_started_after_the_page_was_drawn_still_blocks_the_deletion(workspace):
    from recsys.service.workspace import Workspace

    at = AppTest.from_file(str(APP), default_timeout=300)
    at.run()
    ds_id = at.session_state["dataset_id"]
    assert not at.button(key="data_delete_yes").disabled
    with training_watch.training(ds_id):  # another tab starts training before the click
        at.button(key="data_delete_yes").click()
        at.run()
    assert not at.exception, at.exception
    assert any("is running in another tab" in w.value for w in at.warning)
    assert ds_id in [d.id for d in Workspace(workspace).list_datasets()]  # refused


def test_a_stopped_training_is_reported():
    assert training_watch.stopped_at("ds-x") is None
    with pytest.raises(StopException), training_watch.training("ds-x"):
        assert training_watch.running("ds-x")
        raise StopException()  # what a refresh does to the training's script run
    assert not training_watch.running("ds-x")
    assert training_watch.stopped_at("ds-x") is not None
    with pytest.raises(ValueError), training_watch.training("ds-y"):
        raise ValueError("a failure the page reports itself")
    assert training_watch.stopped_at("ds-y") is None
    with training_watch.training("ds-x"):
        pass
    assert training_watch.stopped_at("ds-x") is None  # a finished training clears the note


def test_the_train_page_says_a_refreshed_training_was_stopped(workspace):
    at = AppTest.from_file(str(APP), default_timeout=300)
    at.run()
    ds_id = at.session_state["dataset_id"]
    with pytest.raises(StopException), training_watch.training(ds_id):
        raise StopException()  # the training's page was refreshed: Streamlit stopped its run
    at.switch_page(TRAIN)
    at.run()
    assert not at.exception, at.exception
    assert any("was stopped before it finished" in w.value for w in at.warning)
    assert any("no run was saved" in w.value for w in at.warning)
