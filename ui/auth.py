"""The login gate: nothing of the app (pages, data, downloads) runs before it lets the session in.

Three ways, read from Streamlit's secrets (``.streamlit/secrets.toml``, or the files named by
the ``secrets.files`` option):

* ``[auth]``: Streamlit's own OpenID Connect login (``st.login``); the person is ``st.user``.
* ``[passwords]``: ``name = "<hash>"`` lines made by ``python -m recsys hash-password``; the
  session signs in with a name and a password checked against the salted hash
  (``recsys.service.access.verify_password``). The password itself is never stored.
* neither: the studio serves a local address only (``server.address`` ``127.0.0.1``, the
  project's default). On any other address it refuses every session unless the operator opts
  out with ``[access] open_without_login = true`` or ``FUSION_STUDIO_OPEN_WITHOUT_LOGIN=1``.

``gate`` runs in the frame before the workspace is touched and before ``st.navigation``;
while it stops the run, only the sign-in form is drawn.
"""

from __future__ import annotations

import getpass
import logging
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import streamlit as st
from streamlit.errors import StreamlitAPIException

from recsys.service.access import is_local_address, is_password_hash, verify_password
from ui.i18n import t

log = logging.getLogger(__name__)

#: Opt-out of the refusal to serve a non-local address without a login.
OPEN_ENV = "FUSION_STUDIO_OPEN_WITHOUT_LOGIN"
#: Session key of the name a password sign-in let in.
USER_KEY = "_auth_user"
_FAILS_KEY = "_auth_fails"
_TRUE = ("1", "true", "yes", "on")


@dataclass(frozen=True)
class AccessConfig:
    """What the secrets say about signing in."""

    oidc_providers: tuple[str | None, ...] = ()  # None: the default provider of ``[auth]``
    passwords: Mapping[str, str] = field(default_factory=dict)
    open_without_login: bool = False
    problems: tuple[str, ...] = ()  # secrets that cannot be used (shown, the gate stays shut)

    @property
    def login_required(self) -> bool:
        """True when a login is configured (or meant to be: a broken entry keeps the gate shut)."""
        return bool(self.oidc_providers or self.passwords or self.problems)


def _secrets() -> dict[str, Any]:
    try:
        return st.secrets.to_dict()
    except FileNotFoundError:  # no secrets file: nothing configured
        return {}
    except StreamlitAPIException as err:  # a secrets file that does not parse
        log.error("the secrets file cannot be read: %s", err)
        return {"passwords": {"": "unreadable"}}


def access_config() -> AccessConfig:
    """Read the sign-in settings from the secrets (no secrets file: nothing configured)."""
    secrets = _secrets()
    auth = secrets.get("auth") or {}
    providers: list[str | None] = []
    if isinstance(auth, Mapping):
        if "client_id" in auth:
            providers.append(None)
        providers += [k for k, v in auth.items() if isinstance(v, Mapping) and "client_id" in v]
    problems = []
    passwords: dict[str, str] = {}
    raw = secrets.get("passwords") or {}
    if not isinstance(raw, Mapping):
        problems.append(t("auth.bad_passwords"))
    else:
        for name, value in raw.items():
            if is_password_hash(str(value)) and str(name).strip():
                passwords[str(name).strip()] = str(value)
            else:
                problems.append(t("auth.not_a_hash", name=name))
    opt_out = (secrets.get("access") or {}).get("open_without_login", False)
    env = os.environ.get(OPEN_ENV, "").strip().lower()
    return AccessConfig(
        oidc_providers=tuple(providers),
        passwords=passwords,
        open_without_login=opt_out is True or env in _TRUE,
        problems=tuple(problems),
    )


def current_user() -> str:
    """Who this session is: the OIDC e-mail or name, the password login, or the OS user."""
    try:
        if st.user.get("is_logged_in"):
            return str(st.user.get("email") or st.user.get("name") or "user")
    except (StreamlitAPIException, KeyError, AttributeError):
        pass
    name = st.session_state.get(USER_KEY)
    if name:
        return str(name)
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name in this environment
        return "local"


def _oidc_signed_in() -> bool:
    try:
        return bool(st.user.get("is_logged_in"))
    except (StreamlitAPIException, KeyError, AttributeError):
        return False


def _login_shell() -> None:
    """Take the navigation over: every page's URL runs nothing, no page is listed.

    Each page keeps its URL (a deep link such as ``/export?ds=...`` is neither "not found"
    nor rewritten), so after the sign-in the person lands on the page they asked for.
    """
    from ui.nav import DEFAULT_PAGE, PAGE_FILES, url_path  # ui.nav -> ui.state -> ui.auth

    pages = [
        st.Page(
            _nothing, title=t("auth.title"), url_path=url_path(key), default=key == DEFAULT_PAGE
        )
        for key in PAGE_FILES
    ]
    st.navigation(pages, position="hidden")


def _nothing() -> None:
    """The page the navigation gets while the gate is shut (the form is drawn by ``gate``)."""


def _password_form(passwords: Mapping[str, str]) -> None:
    ss = st.session_state
    single = next(iter(passwords)) if len(passwords) == 1 else None
    with st.form("auth_form"):
        name = single or st.text_input(t("auth.user"), key="auth_user_in")
        password = st.text_input(t("auth.password"), type="password", key="auth_password_in")
        submitted = st.form_submit_button(t("auth.sign_in"), type="primary")
    if not submitted:
        return
    stored = passwords.get(str(name).strip())
    if stored is not None and verify_password(password, stored):
        ss[USER_KEY] = str(name).strip()
        ss.pop(_FAILS_KEY, None)
        log.info("password sign-in")
        st.rerun()
    fails = ss[_FAILS_KEY] = ss.get(_FAILS_KEY, 0) + 1
    time.sleep(min(0.5 * fails, 5.0))  # slows down guessing
    log.warning("failed password sign-in (%d in this session)", fails)
    st.error(t("auth.failed"))


def _signed_in(config: AccessConfig) -> bool:
    if config.oidc_providers and _oidc_signed_in():
        return True
    return bool(config.passwords) and bool(st.session_state.get(USER_KEY))


def gate() -> None:
    """Let the session in, or draw the sign-in (or refusal) and stop the run."""
    config = access_config()
    if config.login_required:
        if not config.problems and _signed_in(config):
            _sign_out_button(config)
            return
        _login_shell()
        st.title(t("auth.title"))
        for problem in config.problems:
            st.error(problem)
        if not config.problems:
            st.caption(t("auth.intro"))
            for provider in config.oidc_providers:
                label = t("auth.sign_in_with", provider=provider) if provider else t("auth.sso")
                if st.button(label, key=f"auth_oidc_{provider}", type="primary"):
                    if provider:
                        st.login(provider)
                    else:
                        st.login()
            if config.passwords:
                _password_form(config.passwords)
        st.stop()
    address = st.get_option("server.address")
    if not is_local_address(address) and not config.open_without_login:
        _login_shell()
        log.error("refusing to serve %r without a login (see README: Team use)", address)
        st.title(t("auth.refused_title"))
        st.error(t("auth.refused", address=address or "0.0.0.0", env=OPEN_ENV))
        st.stop()


def _sign_out_button(config: AccessConfig) -> None:
    with st.sidebar:
        st.caption(t("auth.signed_in_as", name=current_user()))
        if st.button(t("auth.sign_out"), key="auth_sign_out", icon=":material/logout:"):
            if config.oidc_providers and _oidc_signed_in():
                st.logout()
            st.session_state.pop(USER_KEY, None)
            st.rerun()
