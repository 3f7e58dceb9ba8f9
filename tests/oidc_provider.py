"""A small OpenID Connect provider for the browser tests of ``st.login`` (no network needed).

It speaks the authorization-code flow as an identity provider does: discovery document,
``/authorize`` (consent is automatic: it redirects straight back with a one-time code),
``/token`` (checks the client's id, secret, code and redirect URI; answers with an RS256-signed
ID token carrying the nonce), ``/jwks`` (the public key) and ``/userinfo``. Streamlit's login
(Authlib) verifies the token's signature, issuer, audience, expiry and nonce against it.

``sign_with_wrong_key`` makes it sign with a key it does not publish, as a forged token would be.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _int_b64(value: int) -> str:
    return _b64(value.to_bytes((value.bit_length() + 7) // 8, "big"))


@dataclass
class Provider:
    """The provider's settings and state (one signed-in person, registered client)."""

    client_id: str = "fusion-studio"
    client_secret: str = "test-client-secret"
    email: str = "alice@example.com"
    name: str = "Alice Example"
    sign_with_wrong_key: bool = False
    issuer: str = ""
    key: Any = field(default_factory=lambda: rsa.generate_private_key(65537, 2048))
    other_key: Any = field(default_factory=lambda: rsa.generate_private_key(65537, 2048))
    codes: dict[str, dict[str, str]] = field(default_factory=dict)
    tokens_issued: int = 0

    def jwks(self) -> dict:
        """The published key set (the public half of ``key`` only)."""
        public = self.key.public_key().public_numbers()
        return {
            "keys": [
                {
                    "kty": "RSA",
                    "use": "sig",
                    "alg": "RS256",
                    "kid": "test-key",
                    "n": _int_b64(public.n),
                    "e": _int_b64(public.e),
                }
            ]
        }

    def id_token(self, nonce: str | None) -> str:
        """An RS256 JWT for the person, audience the client, signed (see ``sign_with_wrong_key``)."""
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "sub": "user-0001",
            "aud": self.client_id,
            "iat": now,
            "exp": now + 600,
            "email": self.email,
            "email_verified": True,
            "name": self.name,
        }
        if nonce:
            claims["nonce"] = nonce
        header = {"alg": "RS256", "typ": "JWT", "kid": "test-key"}
        signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
        key = self.other_key if self.sign_with_wrong_key else self.key
        signature = key.sign(signing_input.encode("ascii"), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input}.{_b64(signature)}"


def _handler(provider: Provider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # quiet
            pass

        def _json(self, body: dict, status: int = 200) -> None:
            data = json.dumps(body).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            url = urlparse(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            if url.path == "/.well-known/openid-configuration":
                base = provider.issuer
                self._json(
                    {
                        "issuer": base,
                        "authorization_endpoint": f"{base}/authorize",
                        "token_endpoint": f"{base}/token",
                        "jwks_uri": f"{base}/jwks",
                        "userinfo_endpoint": f"{base}/userinfo",
                        "response_types_supported": ["code"],
                        "subject_types_supported": ["public"],
                        "id_token_signing_alg_values_supported": ["RS256"],
                        "scopes_supported": ["openid", "email", "profile"],
                        "token_endpoint_auth_methods_supported": [
                            "client_secret_basic",
                            "client_secret_post",
                        ],
                    }
                )
            elif url.path == "/jwks":
                self._json(provider.jwks())
            elif url.path == "/authorize":
                if query.get("client_id") != provider.client_id:
                    self._json({"error": "unauthorized_client"}, 400)
                    return
                code = secrets.token_urlsafe(16)
                provider.codes[code] = {
                    "redirect_uri": query.get("redirect_uri", ""),
                    "nonce": query.get("nonce", ""),
                }
                back = {"code": code, "state": query.get("state", "")}
                self.send_response(302)
                self.send_header("Location", f"{query.get('redirect_uri')}?{urlencode(back)}")
                self.end_headers()
            elif url.path == "/userinfo":
                self._json({"sub": "user-0001", "email": provider.email, "name": provider.name})
            else:
                self._json({"error": "not_found"}, 404)

        def do_POST(self) -> None:
            if urlparse(self.path).path != "/token":
                self._json({"error": "not_found"}, 404)
                return
            length = int(self.headers.get("Content-Length") or 0)
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            client_id, secret = form.get("client_id"), form.get("client_secret")
            basic = self.headers.get("Authorization", "")
            if basic.startswith("Basic "):
                client_id, _, secret = base64.b64decode(basic[6:]).decode().partition(":")
            grant = provider.codes.pop(form.get("code", ""), None)  # a code is used once
            if (client_id, secret) != (provider.client_id, provider.client_secret):
                self._json({"error": "invalid_client"}, 401)
            elif grant is None or grant["redirect_uri"] != form.get("redirect_uri"):
                self._json({"error": "invalid_grant"}, 400)
            else:
                provider.tokens_issued += 1
                self._json(
                    {
                        "access_token": secrets.token_urlsafe(24),
                        "token_type": "Bearer",
                        "expires_in": 600,
                        "scope": "openid email profile",
                        "id_token": provider.id_token(grant["nonce"] or None),
                    }
                )

    return Handler


@contextmanager
def running_provider(**settings: Any) -> Iterator[Provider]:
    """A provider on a free local port, serving in a thread until the block ends."""
    provider = Provider(**settings)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(provider))
    provider.issuer = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield provider
    finally:
        server.shutdown()
        server.server_close()
