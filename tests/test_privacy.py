"""Personal data: detection precision on a generated corpus, drop / hash at ingest with no
value in the report or the logs, HMAC stability, a pseudonymised export that round-trips."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging

import numpy as np
import pandas as pd
import pytest

from recsys.cli import main as cli_main
from recsys.data.ingest import load_dataset
from recsys.data.privacy import classify_column, mapping, pseudonymise
from recsys.service.pseudonyms import pseudonymise_table, reidentify, workspace_key
from recsys.service.workspace import Workspace

KEY = b"0123456789abcdef0123456789abcdef"


def _corpus(n: int = 400, seed: int = 0) -> dict[tuple[str, str | None], list[str]]:
    """(column name, kind or None) -> values: personal columns and look-alike decoys."""
    rng = np.random.default_rng(seed)
    first = np.array(["Alice", "Bob", "Carlos", "Diana", "Erik", "Fatima", "George", "Hana"])
    last = np.array(["Smith", "Jones", "García", "Müller", "O'Brien", "Nguyen", "Tanaka"])
    cjk = np.array(["张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊", "赵敏", "黄晓明"])
    streets = np.array(["Main Street", "Oak Ave", "Elm Rd", "Baker St.", "Park Lane"])
    r = rng.integers
    return {
        ("email", "email"): [
            f"{a.lower()}{i}@example.com" for i, a in enumerate(rng.choice(first, n))
        ],
        ("contact", "email"): [f"user{i}@mail.co.uk" for i in range(n)],
        ("phone", "phone"): [f"+1 {r(200, 999)}-{r(200, 999)}-{r(1000, 9999)}" for _ in range(n)],
        ("tel", "phone"): [str(r(1_000_000_000, 9_999_999_999)) for _ in range(n)],
        ("联系方式", "phone"): [f"1{r(3, 9)}{r(100_000_000, 999_999_999)}" for _ in range(n)],
        ("uk_phone", "phone"): [f"(020) {r(1000, 9999)} {r(1000, 9999)}" for _ in range(n)],
        ("address", "address"): [f"{r(1, 999)} {s}" for s in rng.choice(streets, n)],
        ("ship_to", "address"): [f"上海市浦东新区世纪大道{r(1, 999)}号" for _ in range(n)],
        ("customer_name", "name"): [
            f"{a} {b}" for a, b in zip(rng.choice(first, n), rng.choice(last, n), strict=True)
        ],
        ("姓名", "name"): list(rng.choice(cjk, n)),
        ("user_id", None): [f"U{i:06d}" for i in range(n)],
        ("visitorid", None): [str(r(100_000_000, 9_999_999_999)) for _ in range(n)],
        ("item_id", None): [f"{i:05d}" for i in range(n)],
        ("timestamp", None): [f"2024-0{r(1, 9)}-1{r(0, 9)} 10:{r(10, 59)}" for _ in range(n)],
        ("date", None): [f"2024-0{r(1, 9)}-1{r(0, 9)}" for _ in range(n)],
        ("price", None): [f"{rng.uniform(1, 2000):.2f}" for _ in range(n)],
        ("title", None): [f"Acme Phone Case Model {i}" for i in range(n)],
        ("product_name", None): ["Galaxy Buds"] * n,
        ("brand", None): list(rng.choice(["Apple", "Samsung Galaxy", "Xiaomi"], n)),
        ("title_zh", None): list(rng.choice(["手机壳", "充电器", "耳机"], n)),
        ("sku", None): [f"SKU-{r(1000, 9999)}-{r(10, 99)}" for _ in range(n)],
        ("rating", None): [str(r(1, 6)) for _ in range(n)],
        ("order_id", None): [
            f"{r(100, 999)}-{r(10**6, 10**7)}-{r(10**6, 10**7)}" for _ in range(n)
        ],
        ("description", None): ["Fits 6.1 inch screens, 2 pack, 9H hardness"] * n,
        ("invoice", None): [f"536{r(100, 999)}" for _ in range(n)],
    }


def test_detection_precision_and_recall_on_a_generated_corpus():
    hits = {
        (name, kind): classify_column(name, pd.Series(v)) for (name, kind), v in _corpus().items()
    }
    flagged = {k: v[0] for k, v in hits.items() if v is not None}
    true_pos = sum(1 for (name, kind), got in flagged.items() if got == kind)
    precision = true_pos / max(len(flagged), 1)
    recall = true_pos / sum(1 for _, kind in hits if kind is not None)
    assert precision == 1.0 and recall == 1.0, flagged


def test_hmac_pseudonyms_are_stable_and_keyed():
    ids = pd.Series(["U1", "U2", "U1", "张三"])
    a, b = pseudonymise(ids, KEY), pseudonymise(ids.copy(), KEY)
    assert list(a) == list(b) and a[0] == a[2] and a[0] != a[1]
    expected = hmac.new(KEY, "张三".encode(), hashlib.sha256).hexdigest()[:16]
    assert a[3] == expected
    other = pseudonymise(ids, b"another key of 16+ bytes")
    assert not set(other) & set(a)
    local = mapping(ids, KEY)
    assert len(local) == 3 and dict(zip(local.pseudonym, local.original, strict=True))[a[1]] == "U2"
    with pytest.raises(ValueError, match="16 bytes"):
        pseudonymise(ids, b"short")


@pytest.fixture
def personal_upload(tmp_path):
    rng = np.random.default_rng(3)
    n_users, rows = 30, 240
    emails = [f"shopper{i}@example.org" for i in range(n_users)]
    phones = [f"+44 20 {7000 + i} {1000 + i}" for i in range(n_users)]
    u = rng.integers(0, n_users, rows)
    events = pd.DataFrame(
        {
            "customer_id": np.asarray(emails)[u],
            "phone": np.asarray(phones)[u],
            "sku": [f"P{i:03d}" for i in rng.integers(0, 25, rows)],
            "event": rng.choice(["view", "purchase"], rows),
        }
    )
    path = tmp_path / "log.csv"
    events.to_csv(path, index=False)
    return path, emails, phones


def test_ingest_reports_personal_columns_without_their_values(personal_upload, caplog):
    path, emails, phones = personal_upload
    with caplog.at_level(logging.DEBUG):
        result = load_dataset(path)
    found = {c["column"]: c["kind"] for c in result.report.personal_columns}
    assert found == {"customer_id": "email", "phone": "phone"}
    text = result.report.to_text() + json.dumps(result.report.to_dict()) + caplog.text
    assert "customer_id" in text and "looks like email" in text
    assert not any(v in text for v in emails + phones)  # no personal value in report or log


@pytest.mark.parametrize("action", ["drop", "hash"])
def test_ingest_drops_or_hashes_personal_columns(personal_upload, action, caplog):
    path, emails, phones = personal_upload
    with caplog.at_level(logging.DEBUG):
        result = load_dataset(path, personal=action, personal_key=KEY)
    users = set(result.dataset.user_ids.external_ids)
    # the user id is needed: hashed in both cases, with the key, so joins still work
    assert users == set(pseudonymise(pd.Series(emails), KEY)) & users and not users & set(emails)
    stored = result.events.to_csv() + result.catalog.to_csv() if result.catalog is not None else ""
    assert not any(v in stored for v in emails + phones)
    assert not any(v in caplog.text for v in emails + phones)
    actions = {c["column"]: c["action"] for c in result.report.personal_columns}
    assert actions["phone"] == ("dropped" if action == "drop" else "hashed")
    assert actions["customer_id"].startswith("hashed")


def test_pseudonymised_export_round_trips_through_the_local_mapping(tmp_path, capsys):
    from recsys.data.demo import write_demo

    catalog, interactions = write_demo(tmp_path / "demo", n_users=120, n_items=40, n_events=2000)
    out = tmp_path / "recs.csv"
    preset = tmp_path / "p.json"
    preset.write_text(json.dumps({"models": {"popularity": {}, "item_knn": {}}}), encoding="utf-8")
    args = ["export", "--interactions", str(interactions), "--catalog", str(catalog)]
    args += ["--preset", str(preset), "--k", "5", "--out", str(out), "--quiet"]
    ws = tmp_path / "ws"
    assert cli_main([*args, "--pseudonymise", "--workspace", str(ws)]) == 0
    assert "mapping" in capsys.readouterr().out
    exported = pd.read_csv(out, dtype=str)
    local = pd.read_csv(out.with_name("recs.csv.mapping.csv"), dtype=str)
    originals = set(pd.read_csv(interactions, dtype=str)["user_id"])
    assert not set(exported["user_id"]) & originals
    assert set(exported["user_id_pseudonymised"]) == {"HMAC-SHA-256"}  # the file says so
    assert out.with_name("recs.csv.mapping.csv").stat().st_mode & 0o077 == 0  # owner only
    back = reidentify(exported, local)
    assert back["user_id"].notna().all() and set(back["user_id"]) <= originals
    # the same workspace key gives the same pseudonyms again
    key = workspace_key(Workspace(ws))
    again, _ = pseudonymise_table(back, key)
    assert list(again["user_id"]) == list(exported["user_id"])
    assert (ws / "secrets" / "pseudonym.key").stat().st_mode & 0o077 == 0


def test_deleting_users_removes_their_events_and_marks_runs_stale(tmp_path, caplog, capsys):
    from recsys.errors import RecsysError
    from recsys.service.persistence import load_run, save_run
    from recsys.service.preset import Preset
    from recsys.service.training import train_run
    from tests.fixtures_data import make_frames

    events, catalog = make_frames(40, 30, seed=5)
    ws = Workspace(tmp_path / "ws")
    ds_id = ws.save_dataset("shop", events, catalog, {})
    other = ws.save_dataset("other", events.loc[events["user_id"] != "U001"], catalog, {})
    run_id = save_run(
        train_run(ws.load_dataset(ds_id), Preset(models={"popularity": {}})), ws, ds_id
    )
    before = len(events)
    n_u001 = int((events["user_id"] == "U001").sum())
    n_u002 = int((events["user_id"] == "U002").sum())
    with caplog.at_level(logging.DEBUG):
        from recsys.service.forget import forget_users

        done = forget_users(ws, ["U001", "NOBODY"])
    assert done.found == 1 and done.not_found == 1
    assert done.events_removed == {ds_id: n_u001} and done.stale_runs == [run_id]
    assert "U001" not in caplog.text  # ids are never logged
    left = ws.load_dataset(ds_id)
    assert "U001" not in set(left.user_ids.external_ids) and len(ws.load_frames(ds_id)[0]) == (
        before - n_u001
    )
    assert ws.dataset_meta(ds_id)["history"][-1]["deleted_users"] == 1
    assert len(ws.load_frames(other)[0]) == before - n_u001  # had no U001: untouched
    assert "history" not in ws.dataset_meta(other)
    manifest = next(m for m in ws.list_runs() if m["run_id"] == run_id)
    assert "retrain" in manifest["stale"]["reason"]
    with pytest.raises(RecsysError, match="different data"):
        load_run(ws, run_id)
    # by file, through the CLI
    ids = tmp_path / "delete.csv"
    ids.write_text("customer_id,reason\nU002,request\n", encoding="utf-8")
    assert cli_main(["forget", "--file", str(ids), "--workspace", str(ws.root)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("1 of 1 users found") and f"{2 * n_u002:,} events removed" in out
