"""The search preview page (``AppTest``, fast mode): plain and personalised results side by
side, the weight slider moves results, a query without a match says so."""

from __future__ import annotations

from pathlib import Path

from app_training import train
from streamlit.testing.v1 import AppTest

APP = Path(__file__).resolve().parents[1] / "app.py"


def test_search_page(tmp_path, monkeypatch):
    monkeypatch.setenv("FUSION_STUDIO_WORKSPACE", str(tmp_path))
    monkeypatch.setenv("FUSION_STUDIO_FAST", "1")
    at = AppTest.from_file(str(APP), default_timeout=300)
    at.run()
    at.switch_page("pages/2_train.py").run()
    at.multiselect(key="tr_models").set_value(["popularity", "content_tfidf", "item_knn"])
    train(at)
    at.switch_page("pages/10_search.py").run()
    assert not at.exception, [e.value for e in at.exception]
    at.text_input(key="search_query").set_value("保护壳").run()  # Chinese: phone cases
    assert not at.exception and not at.error, [e.value for e in at.error]
    plain, personal = (d.value for d in at.dataframe[:2])
    assert len(plain) == len(personal) == 10
    assert plain["Category"].eq("case").mean() >= 0.8, plain
    at.slider(key="search_weight").set_value(0.0).run()
    unmoved = at.dataframe[1].value
    assert unmoved["Item"].tolist() == plain["Item"].tolist()  # weight 0: the text order
    assert set(unmoved["Moved"]) == {"=0"}
    at.slider(key="search_weight").set_value(1.0).run()
    personal = at.dataframe[1].value
    assert personal["Item"].tolist() != plain["Item"].tolist(), (plain, personal)
    assert (personal["Moved"] != "=0").any()  # the shopper's taste reorders the results
    at.text_input(key="search_query").set_value("жжж").run()
    assert any("No item matches" in i.value for i in at.info)
