"""User attribute table end to end: Dataset alignment, ingest, workspace, LightFM, demo, CLI."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recsys.cli import main
from recsys.data.dataset import Dataset
from recsys.data.demo import generate_store
from recsys.data.ingest import load_dataset
from recsys.models import make_model
from recsys.models.lightfm_model import user_attribute_matrix
from recsys.service.workspace import Workspace

EVENTS = pd.DataFrame(
    {"user_id": ["a", "b", "c", "a"], "item_id": ["x", "y", "x", "y"], "weight": [1.0] * 4}
)


def test_dataset_aligns_users_and_keeps_fingerprint_without_table():
    plain = Dataset.construct(EVENTS)
    assert list(plain.users.columns) == ["user_id"]
    assert plain.user_attribute_columns == []
    table = pd.DataFrame({"user_id": ["c", "zz", "a", "c"], "city": ["t1", "t9", "t2", "t3"]})
    ds = Dataset.construct(EVENTS, None, users=table)
    assert ds.users["user_id"].tolist() == ["a", "b", "c"]
    assert ds.users["city"].tolist() == ["t2", "", "t1"]  # b missing -> "", first c row kept
    assert ds.users_with_attributes().tolist() == [True, False, True]
    assert ds.fingerprint != plain.fingerprint
    # an empty user table (id column only) leaves the fingerprint alone
    only_ids = Dataset.construct(EVENTS, users=pd.DataFrame({"user_id": ["a"]}))
    assert only_ids.fingerprint == plain.fingerprint
    assert ds.with_interactions(ds.interactions.iloc[:2]).users.equals(ds.users)


def _users_csv() -> bytes:
    rows = ["customer_id,age,tier,note"]
    rows += [f"u{i},{18 + i},t{i % 3},free text {i}" for i in range(60)]
    rows += ["u1,99,t9,dup", ",30,t1,no id"]
    return ("\n".join(rows) + "\n").encode()


def _log_csv() -> bytes:
    rows = [f"u{u},i{(u + j) % 5}" for u in range(6) for j in range(2)] + ["u99,i1", "u99,i2"]
    return ("user,item\n" + "\n".join(rows) + "\n").encode()


def test_ingest_user_table_report_and_attributes():
    res = load_dataset(_log_csv(), users=_users_csv(), users_name="users.csv")
    rep = res.report
    ufile = rep.file("users")
    assert ufile.mapping == {"user": "customer_id"}
    assert ufile.rows_read == 62 and ufile.rows_kept == 60
    assert ufile.dropped == {"no user id": 1, "duplicate user id (first row kept)": 1}
    assert rep.user_attributes == ["age", "tier"] and "note" in ufile.ignored_columns
    assert rep.n_users_with_attributes == 6 and rep.users_without_attributes == 1  # u99
    assert rep.users_not_in_log == 54 and rep.duplicate_user_ids == 1
    ds = res.dataset
    # age 18..77 -> quartile bands; u0 (18) and u1 (19) share the lowest band
    bands = ds.users.set_index("user_id")["age"]
    assert bands["u0"] == bands["u1"] != "" and bands["u99"] == ""
    assert ds.users.set_index("user_id").loc["u1", "tier"] == "t1"  # first row kept
    assert "User attributes (age, tier)" in rep.to_text()
    assert res.users is not None and len(res.users) == 60


def test_user_table_with_unknown_ids_and_bad_mapping():
    from recsys.errors import DataValidationError

    with pytest.raises(DataValidationError, match="no user column"):
        load_dataset(_log_csv(), users=b"foo,bar\n1,2\n")
    res = load_dataset(_log_csv(), users=b"uid,seg\nnobody,x\n")
    assert res.report.n_users_with_attributes == 0
    assert any("same user ids" in w for w in res.report.warnings)


def test_workspace_round_trip_with_users(tmp_path):
    res = load_dataset(_log_csv(), users=_users_csv())
    ws = Workspace(tmp_path)
    ds_id = ws.save_dataset("with users", res.events, res.catalog, users=res.users)
    back = ws.load_dataset(ds_id)
    pd.testing.assert_frame_equal(back.users, res.dataset.users)
    assert back.fingerprint == res.dataset.fingerprint
    assert ws.dataset_meta(ds_id)["has_users"] is True
    plain = ws.save_dataset("plain", res.events, res.catalog)
    assert ws.load_users(plain) is None
    assert ws.load_dataset(plain).user_attribute_columns == []


def test_user_attribute_matrix_one_hot():
    ds = Dataset.construct(
        EVENTS, users=pd.DataFrame({"user_id": ["a", "c"], "g": ["m", "f"], "t": ["1", "1"]})
    )
    m = user_attribute_matrix(ds).toarray()
    # columns g=m, g=f, t=1 ; user b has no row
    np.testing.assert_array_equal(m, [[1, 0, 1], [0, 0, 0], [0, 1, 1]])


def _taste_dataset(seed: int = 0) -> tuple[Dataset, np.ndarray, np.ndarray]:
    """Two groups of users (attribute g = 0/1) buying from two disjoint item halves.

    Warm users buy 8 items of their half plus one of 4 shared bestsellers (i40..i43); cold
    users bought one shared bestseller only, so only the attribute tells their group.
    """
    rng = np.random.default_rng(seed)
    n_users = 200
    group = np.arange(n_users) % 2
    cold = np.arange(n_users) >= 160
    rows, cols = [], []
    for u in range(n_users):  # fixture construction only
        half = np.arange(20) + 20 * group[u]
        picks = [] if cold[u] else rng.choice(half, 8, replace=False).tolist()
        picks.append(int(rng.integers(40, 44)))
        rows += [u] * len(picks)
        cols += picks
    events = pd.DataFrame(
        {
            "user_id": [f"u{r}" for r in rows],
            "item_id": [f"i{c}" for c in cols],
            "weight": 1.0,
        }
    )
    users = pd.DataFrame({"user_id": [f"u{u}" for u in range(n_users)], "g": group.astype(str)})
    ds = Dataset.construct(events, users=users)
    uidx = ds.user_ids.to_internal([f"u{u}" for u in np.flatnonzero(cold)])
    return ds, uidx, group[cold]


def _in_group_share(model, ds: Dataset, uidx: np.ndarray, grp: np.ndarray) -> float:
    """Share of the top-10 unseen items that belong to the user's own half."""
    scores = model.score_items(uidx)
    scores[ds.matrix("ones")[uidx].toarray() > 0] = -np.inf
    number = np.array([int(i[1:]) for i in ds.item_ids.external_ids])
    item_grp = np.where(number >= 40, -1, number // 20)
    top = np.argsort(-scores, axis=1)[:, :10]
    return float((item_grp[top] == grp[:, None]).mean())


def test_lightfm_user_features_help_cold_users():
    ds, uidx, grp = _taste_dataset()
    params = dict(no_components=8, epochs=15, learning_rate=0.05, random_state=0)
    with_f = make_model("lightfm_warp", **params).fit(ds)
    without = make_model("lightfm_warp", use_user_features=False, **params).fit(ds)
    assert with_f.user_emb_.shape == (ds.n_users, 8)
    share_with = _in_group_share(with_f, ds, uidx, grp)
    share_without = _in_group_share(without, ds, uidx, grp)
    assert share_with > 0.7 > 0.65 > share_without  # without attributes: about a coin flip


def test_lightfm_user_features_for_users_without_training_pairs():
    ds, uidx, grp = _taste_dataset(1)
    keep = ~np.isin(ds.interactions["user_idx"].to_numpy(), uidx)
    train = ds.with_interactions(ds.interactions[keep])  # cold users have no pairs at all
    model = make_model("lightfm_warp", no_components=8, epochs=15, random_state=0).fit(train)
    assert np.abs(model.user_emb_[uidx]).sum() > 0  # represented by their attributes
    assert _in_group_share(model, ds, uidx, grp) > 0.8
    plain = make_model("lightfm_warp", use_user_features=False, epochs=2).fit(train)
    assert np.abs(plain.user_emb_[uidx]).sum() == 0


def test_demo_store_users_correlate_and_keep_the_store():
    cat, inter, users = generate_store(400, 60, 4000, seed=3, with_users=True)
    cat2, inter2 = generate_store(400, 60, 4000, seed=3)
    pd.testing.assert_frame_equal(inter, inter2)
    pd.testing.assert_frame_equal(cat, cat2)
    assert list(users.columns) == ["user_id", "age_band", "city_tier", "membership"]
    assert len(users) == 400 and users["user_id"].is_unique
    assert set(users["user_id"]) >= set(inter["user_id"])


def test_cli_validate_with_users(tmp_path, capsys):
    assert main(["demo-data", "--out", str(tmp_path), "--users", "150", "--items", "40",
                 "--events", "1500"]) == 0  # fmt: skip
    assert (tmp_path / "users.csv").is_file()
    code = main([
        "validate", "--interactions", str(tmp_path / "interactions.csv"),
        "--users", str(tmp_path / "users.csv"), "--users-map", "user=user_id",
    ])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0
    assert "kept as user attributes: age_band, city_tier, membership" in out
    from recsys.cli import build_parser

    args = build_parser().parse_args([
        "export", "--interactions", "i.csv", "--out", "o.csv", "--user-attributes", "u.csv",
        "--users", "U1", "U2",
    ])  # fmt: skip
    assert str(args.users_file) == "u.csv" and args.users == ["U1", "U2"]
    args = build_parser().parse_args(["evaluate", "--interactions", "i.csv", "--users", "u.csv"])
    assert str(args.users_file) == "u.csv"
    assert main(["validate", "--catalog", str(tmp_path / "catalog.csv"),
                 "--users", str(tmp_path / "users.csv")]) == 2  # fmt: skip
