"""Auto-tune in the Fusion lab (``AppTest``): it runs beside the page and Stop interrupts it,
keeping the best weights found so far."""

from __future__ import annotations

import threading

import pytest
from app_session import small_lab

from recsys.service.evaluating import Evaluating

MODELS = ("popularity", "item_knn")


@pytest.fixture
def lab(tmp_path, monkeypatch):
    """A new session on the Fusion lab of a small trained run, auto-tune opened."""
    root = tmp_path / "ws"
    monkeypatch.setenv("FUSION_STUDIO_WORKSPACE", str(root))
    monkeypatch.setenv("FUSION_STUDIO_FAST", "1")
    at = small_lab(root, MODELS)
    assert not [b for b in at.button if b.key == "lab_tune_go"], "closed: nothing runs inside"
    at.session_state["lab_tune_exp"] = True  # the user opens the expander
    at.run()
    assert not at.exception, at.exception
    return at


def _hold_after_first_trial(monkeypatch) -> threading.Event:
    """Make the search wait after its first trial until it is asked to stop (deterministic)."""
    first = threading.Event()
    original = Evaluating.autotune

    def autotune(self, *args, stop=None, on_trial=None, **kwargs):
        def held(partial):
            if on_trial is not None:
                on_trial(partial)
            first.set()
            while stop is not None and not stop():
                threading.Event().wait(0.01)

        return original(self, *args, stop=stop, on_trial=held, **kwargs)

    monkeypatch.setattr(Evaluating, "autotune", autotune)
    return first


def test_stop_interrupts_autotune_and_keeps_the_best(lab, monkeypatch):
    at = lab
    first = _hold_after_first_trial(monkeypatch)
    at.button(key="lab_tune_go").click()
    at.run()
    assert not at.exception, at.exception
    job = at.session_state["lab_tune_job"]
    assert first.wait(60), "the search should have started in the background"
    assert not job.done, "the page returned while the search runs"
    assert at.get("progress"), "trials done and the best so far are shown"

    at.button(key="lab_tune_stop").click()
    at.run()
    job.join(60)
    assert job.done and job.result is not None
    assert job.result.stopped == "cancelled"
    assert len(job.result.trials) < job.result.planned
    at.run()  # the polling fragment sees the end and applies the best weights
    assert not at.exception, at.exception
    assert "lab_tune_job" not in at.session_state
    text = " ".join(s.value for s in [*at.success, *at.warning])
    assert "Stopped after" in text, text
    best = job.result.best_weights
    for model in MODELS:
        assert at.session_state[f"lab_w_{model}"] == pytest.approx(round(best[model], 2))


def test_autotune_runs_to_the_end_in_the_background(lab):
    at = lab
    at.button(key="lab_tune_go").click()
    at.run()
    job = at.session_state["lab_tune_job"]
    job.join(120)
    assert job.done and job.result is not None and job.result.stopped == ""
    at.run()
    assert not at.exception, at.exception
    assert at.success or at.warning
    assert "Stopped after" not in " ".join(s.value for s in at.success)


def test_rules_table_is_built_only_while_open_and_rules_apply_either_way(lab):
    from recsys.ranking.rerank import Rule

    at = lab
    assert not any(k.startswith("lab_rules_ed_") for k in at.session_state), "closed: not built"
    at.session_state["lab_pending"] = {
        "rules": [Rule(kind="filter", column="item_id", op="==", value="i3")]
    }
    at.run()
    assert not at.exception, at.exception
    assert at.session_state["cur_rerank"]["rules"][0]["value"] == "i3"
    at.session_state["lab_rules_open"] = True
    at.run()
    assert not at.exception, at.exception
    assert any(k.startswith("lab_rules_ed_") for k in at.session_state), "open: the table is built"
    assert at.session_state["cur_rerank"]["rules"][0]["value"] == "i3"
