"""Team sign-in: password hashes (scrypt, pbkdf2), local bind addresses, ``hash-password``."""

from __future__ import annotations

import base64
import hashlib
import io

import pytest

from recsys.cli import main
from recsys.service.access import (
    hash_password,
    is_local_address,
    is_password_hash,
    verify_password,
)


def test_scrypt_hash_round_trip_and_salt():
    h1, h2 = hash_password("correct horse"), hash_password("correct horse")
    assert h1 != h2, "each hash has its own salt"
    assert "correct horse" not in h1
    assert h1.startswith("scrypt$14$8$1$") and is_password_hash(h1)
    assert verify_password("correct horse", h1) and verify_password("correct horse", h2)
    assert not verify_password("correct horsE", h1)
    assert not verify_password("", h1)


def test_pbkdf2_hashes_are_accepted():
    salt = b"0123456789abcdef"
    key = hashlib.pbkdf2_hmac("sha256", b"s3cret-pass", salt, 1000)
    stored = (
        f"pbkdf2_sha256$1000${base64.b64encode(salt).decode()}${base64.b64encode(key).decode()}"
    )
    assert verify_password("s3cret-pass", stored)
    assert not verify_password("s3cret-pasS", stored)


@pytest.mark.parametrize(
    "stored",
    [
        "",
        "plain-password",
        "scrypt$14$8$1$notbase64!$AAAA",
        "scrypt$40$8$1$AAAA$AAAA",  # a cost too high to accept from a secrets file
        "pbkdf2_sha256$0$AAAA$AAAA",
        "md5$abc",
    ],
)
def test_malformed_hashes_never_match(stored):
    assert not verify_password("anything", stored)


def test_local_addresses():
    local = ["localhost", "127.0.0.1", "127.0.1.1", "::1", "[::1]"]
    public = ["", None, "0.0.0.0", "::", "10.1.2.3", "192.168.0.7", "studio.example.com"]
    assert all(is_local_address(a) for a in local)
    assert not any(is_local_address(a) for a in public)


def test_cli_hash_password_prints_a_hash_that_verifies(monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("a long team password\n"))
    assert main(["hash-password", "--stdin", "--user", "alice"]) == 0
    out = capsys.readouterr().out
    assert "a long team password" not in out
    line = next(x for x in out.splitlines() if x.startswith("alice = "))
    stored = line.split("=", 1)[1].strip().strip('"')
    assert verify_password("a long team password", stored)


def test_cli_hash_password_refuses_short_passwords_and_odd_names(monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["hash-password", "--stdin"]) == 2
    assert "at least 8" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO("long enough password\n"))
    assert main(["hash-password", "--stdin", "--user", 'a"b']) == 2
    assert "--user" in capsys.readouterr().err
