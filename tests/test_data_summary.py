"""Data page summaries: a multi-valued category counts every value, not the first one."""

from __future__ import annotations

import pytest

from recsys.data.ingest import load_dataset
from recsys.service.data_summary import attribute_mix


def test_every_genre_counts_in_the_category_mix():
    log = "user,item,rating\nu1,m1,4\nu2,m1,5\nu1,m2,3\nu3,m3,4\n"
    movies = "item_id,title,genres\nm1,A,Action|Romance\nm2,B,Romance\nm3,C,Comedy|Romance\n"
    ds = load_dataset(log.encode(), movies.encode()).dataset
    assert sorted(ds.catalog["category"]) == ["Action", "Comedy", "Romance"]  # first genre only
    mix = attribute_mix(ds, "category").set_index("value")
    # Romance is in all three films (4 pairs); Action and Comedy in one each
    assert mix.loc["Romance", "items"] == 3 and mix.loc["Romance", "pairs"] == 4
    assert mix.loc["Action", "items"] == 1 and mix.loc["Action", "pairs"] == 2
    assert mix.loc["Comedy", "pairs"] == 1
    assert mix["items_share"].sum() == pytest.approx(1.0)
    assert mix.index[0] == "Romance"  # most pairs first
