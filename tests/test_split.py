import numpy as np
import pandas as pd
import pytest

from recsys.data.dataset import Dataset
from recsys.data.schema import Col
from recsys.data.split import Split, split, validation_split
from recsys.errors import ConfigError


def _events(n_users=60, n_items=40, per_user=(1, 12), seed=1, timestamps=True):
    rng = np.random.default_rng(seed)
    rows = []
    t = 0
    for u in range(n_users):
        n = int(rng.integers(per_user[0], per_user[1] + 1))
        for i in rng.choice(n_items, size=n, replace=False):
            t += int(rng.integers(1, 100))
            rows.append((f"u{u}", f"i{i}", 1.0, 1_600_000_000 + t))
    df = pd.DataFrame(rows, columns=[Col.USER, Col.ITEM, Col.WEIGHT, Col.TIMESTAMP])
    if not timestamps:
        df = df.drop(columns=Col.TIMESTAMP)
    return df


@pytest.fixture(scope="module")
def ds():
    return Dataset.construct(_events())


def _pairs(d: Dataset) -> set[tuple[int, int]]:
    df = d.interactions
    return set(zip(df[Col.USER_IDX].tolist(), df[Col.ITEM_IDX].tolist(), strict=True))


@pytest.mark.parametrize("method", ["temporal", "random", "leave_last", "time_cutoff"])
def test_no_leak_and_union(ds, method):
    s = split(ds, method=method, test_fraction=0.25, seed=3)
    train, test = _pairs(s.train), _pairs(s.test)
    assert train.isdisjoint(test)
    assert train | test == _pairs(ds)
    assert s.train.user_ids is ds.user_ids and s.test.item_ids is ds.item_ids
    assert s.info["train_pairs"] + s.info["test_pairs"] == len(ds.interactions)
    assert s.info["method"] == method


def test_temporal_holds_out_latest(ds):
    s = split(ds, method="temporal", test_fraction=0.3, seed=0)
    tr = s.train.interactions.groupby(Col.USER_IDX)[Col.TIMESTAMP].max()
    te = s.test.interactions.groupby(Col.USER_IDX)[Col.TIMESTAMP].min()
    both = tr.index.intersection(te.index)
    assert len(both) > 20
    assert (te[both] >= tr[both]).all()


def test_fraction_and_single_pair_users(ds):
    s = split(ds, method="temporal", test_fraction=0.2, seed=0)
    assert abs(s.info["test_share"] - 0.2) < 0.05
    act = ds.user_activity()
    single = np.flatnonzero(act == 1)
    assert len(single) > 0
    # single-pair users keep their pair in train; every user keeps >= 1 train pair
    assert not np.isin(single, s.test.active_users()).any()
    assert (s.train.user_activity()[act > 0] >= 1).all()
    assert s.info["test_users_cold"] == 0


def test_leave_last_n():
    ds = Dataset.construct(_events(per_user=(3, 6)))
    s = split(ds, method="leave_last", n_last=2)
    assert (s.test.user_activity()[ds.user_activity() > 0] == 2).all()


def test_determinism(ds):
    a = split(ds, method="random", seed=7)
    b = split(ds, method="random", seed=7)
    c = split(ds, method="random", seed=8)
    assert _pairs(a.test) == _pairs(b.test)
    assert _pairs(a.test) != _pairs(c.test)


def test_no_timestamps_says_random_order():
    ds = Dataset.construct(_events(timestamps=False))
    s = split(ds, method="temporal", seed=0)
    assert s.info["order"] == "random"
    assert "no timestamps" in s.info["note"]
    with pytest.raises(ConfigError):
        split(ds, method="time_cutoff")


def test_time_cutoff_cold_counts_hand_made():
    ev = pd.DataFrame(
        {
            Col.USER: ["a", "a", "b", "b", "c"],
            Col.ITEM: ["x", "y", "x", "z", "w"],
            Col.WEIGHT: 1.0,
            Col.TIMESTAMP: [1, 5, 2, 6, 7],
        }
    )
    ds = Dataset.construct(ev)
    s = split(ds, method="time_cutoff", cutoff=5)
    # test: (a,y,5) (b,z,6) (c,w,7); c is new, y/z/w never in train
    assert s.info["test_pairs"] == 3
    assert s.info["test_users_cold"] == 1
    assert s.info["test_items_cold"] == 3
    assert ds.user_ids.to_external(s.cold_users).tolist() == ["c"]
    assert sorted(ds.item_ids.to_external(s.cold_items).tolist()) == ["w", "y", "z"]
    assert s.info["test_pairs_cold_user"] == 1


def test_time_cutoff_default_quantile(ds):
    s = split(ds, method="time_cutoff", test_fraction=0.2)
    assert abs(s.info["test_share"] - 0.2) < 0.02
    assert s.info["cutoff"] is not None


def test_validation_carves_from_train_only(ds):
    s = split(ds, method="temporal", seed=0)
    v = s.validation()
    assert isinstance(v, Split)
    assert _pairs(v.train) | _pairs(v.test) == _pairs(s.train)
    assert _pairs(v.test).isdisjoint(_pairs(s.test))
    assert v.info["method"] == "temporal" and v.info["part"] == "validation"
    v2 = validation_split(s.train, method="leave_last")
    assert v2.info["method"] == "leave_last"


def test_bad_arguments(ds):
    with pytest.raises(ConfigError):
        split(ds, method="nope")
    with pytest.raises(ConfigError):
        split(ds, test_fraction=1.5)
