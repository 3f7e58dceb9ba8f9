"""Who may open the studio: password hashes and the bind-address rule.

A team password is kept only as a salted hash, never as the password itself::

    scrypt$<log2 n>$<r>$<p>$<salt, base64>$<key, base64>        (hash_password)
    pbkdf2_sha256$<iterations>$<salt, base64>$<key, base64>    (accepted by verify_password)

``python -m recsys hash-password`` prints such a hash for ``.streamlit/secrets.toml``. The app
(``ui.auth``) checks a typed password with :func:`verify_password` and refuses to serve a
non-local address (:func:`is_local_address`) when no login is configured.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import os

#: scrypt cost: n = 2**14, r = 8, p = 1 (about 16 MB and 50 ms per check), 32-byte key.
SCRYPT_LOG2_N = 14
SCRYPT_R = 8
SCRYPT_P = 1
KEY_BYTES = 32
SALT_BYTES = 16
#: Bounds on the cost a stored hash may ask for (a hash from secrets is still input).
_MAX_LOG2_N = 20
_MAX_PBKDF2_ITERATIONS = 10_000_000
#: Shortest password ``hash-password`` accepts.
MIN_PASSWORD_LENGTH = 8


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """The salted scrypt hash of ``password`` as one line (``scrypt$14$8$1$salt$key``).

    >>> h = hash_password("correct horse", salt=bytes(16))
    >>> h.startswith("scrypt$14$8$1$AAAAAAAAAAAAAAAAAAAAAA==$")
    True
    >>> verify_password("correct horse", h), verify_password("wrong", h)
    (True, False)
    """
    salt = os.urandom(SALT_BYTES) if salt is None else salt
    key = hashlib.scrypt(
        password.encode("utf-8"),
        salt=salt,
        n=2**SCRYPT_LOG2_N,
        r=SCRYPT_R,
        p=SCRYPT_P,
        maxmem=2**26,
        dklen=KEY_BYTES,
    )
    return f"scrypt${SCRYPT_LOG2_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(key)}"


def verify_password(password: str, stored: str) -> bool:
    """True when ``password`` matches the stored hash (constant-time); a malformed hash is False."""
    parts = str(stored).strip().split("$")
    try:
        if parts[0] == "scrypt" and len(parts) == 6:
            log2_n, r, p = int(parts[1]), int(parts[2]), int(parts[3])
            if not (1 <= log2_n <= _MAX_LOG2_N and 1 <= r <= 32 and 1 <= p <= 16):
                return False
            salt, key = _unb64(parts[4]), _unb64(parts[5])
            got = hashlib.scrypt(
                password.encode("utf-8"),
                salt=salt,
                n=2**log2_n,
                r=r,
                p=p,
                maxmem=2**28,
                dklen=len(key),
            )
        elif parts[0] == "pbkdf2_sha256" and len(parts) == 4:
            iterations = int(parts[1])
            if not 1 <= iterations <= _MAX_PBKDF2_ITERATIONS:
                return False
            salt, key = _unb64(parts[2]), _unb64(parts[3])
            got = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations)
        else:
            return False
    except (ValueError, MemoryError):  # bad numbers or base64, or a cost scrypt refuses
        return False
    return bool(key) and hmac.compare_digest(got, key)


def is_password_hash(text: str) -> bool:
    """True when ``text`` has the shape of a hash :func:`verify_password` reads."""
    parts = str(text).strip().split("$")
    return (parts[0] == "scrypt" and len(parts) == 6) or (
        parts[0] == "pbkdf2_sha256" and len(parts) == 4
    )


def is_local_address(address: str | None) -> bool:
    """True when a server bound to ``address`` is reachable from this machine only.

    An empty address is Streamlit's default, every interface, so it is not local.

    >>> [is_local_address(a) for a in ("localhost", "127.0.0.1", "::1", "", "0.0.0.0", "10.0.0.5")]
    [True, True, True, False, False, False]
    """
    text = (address or "").strip().strip("[]")
    if not text:
        return False
    if text.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(text).is_loopback
    except ValueError:  # a host name: it may resolve to a public interface
        return False


__all__ = [
    "MIN_PASSWORD_LENGTH",
    "hash_password",
    "is_local_address",
    "is_password_hash",
    "verify_password",
]
