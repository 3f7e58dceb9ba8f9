"""The lab's versioned settings (``ui.lab_settings``): a result computed for an older version
of the settings is discarded, never shown (``AppTest`` of the lab's display path)."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest


def _lab_display() -> None:
    """Computes a result at version N, then (on request) changes the settings and shows it."""
    import streamlit as st

    from recsys.ranking.fusion import FusionConfig
    from recsys.ranking.rerank import RerankConfig
    from ui import lab_settings
    from ui.lab_results import fresh_or_updating

    ss = st.session_state
    if "stamped" not in ss:
        lab_settings.commit(FusionConfig(weights={"svd": 0.03}), RerankConfig())
        ss["stamped"] = lab_settings.computed(lambda: "metrics for svd=0.03")
    if ss.get("move_slider"):
        lab_settings.commit(FusionConfig(weights={"svd": 0.05}), RerankConfig())
    ev = fresh_or_updating(ss["stamped"])
    if ev is not None:
        st.markdown(ev)


def test_a_result_of_an_older_settings_version_is_never_shown():
    at = AppTest.from_function(_lab_display, default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    version = at.session_state["cur_version"]
    assert at.session_state["stamped"].version == version
    assert [m.value for m in at.markdown] == ["metrics for svd=0.03"]  # current: shown

    at.session_state["move_slider"] = True  # the settings change after the result was computed
    at.run()
    assert not at.exception, at.exception
    assert at.session_state["cur_version"] == version + 1
    assert not [m for m in at.markdown if "svd=0.03" in m.value]  # discarded, not shown
    assert any("Updating" in c.value for c in at.caption)


def test_the_same_settings_keep_their_version():
    at = AppTest.from_function(_lab_display, default_timeout=120)
    at.run()
    version = at.session_state["cur_version"]
    at.run()  # a rerun that commits the same settings does not make the result stale
    assert at.session_state["cur_version"] == version
    assert [m.value for m in at.markdown] == ["metrics for svd=0.03"]
