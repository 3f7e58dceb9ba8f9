"""The OpenID Connect login (``st.login``) in a real headless Chromium, end to end.

The studio is configured with an ``[auth]`` section pointing at a local identity provider
(``tests/oidc_provider.py``: discovery, authorization code, RS256 ID token, JWKS). Checked:

* before signing in, no page shows data, navigation or downloads;
* a token signed with a key the provider does not publish is refused (still signed out);
* signing in through the provider lets the person in, names them, and the export downloads;
* signing out closes the studio again.
"""

from __future__ import annotations

import pandas as pd
import pytest
from browser_app import free_port
from oidc_provider import running_provider
from test_browser import (
    ARTIFACTS,
    _idle,
    chromium_path,  # noqa: F401 (fixture)
)
from test_browser_team import (
    _browser,
    _open,
    _serve,
    team,  # noqa: F401 (fixture)
)

pytestmark = pytest.mark.browser

SIGN_IN = "Sign in with your company account"


def _secrets(path, app_port: int, issuer: str, client_id: str, secret: str) -> None:
    path.write_text(
        "[auth]\n"
        f'redirect_uri = "http://127.0.0.1:{app_port}/oauth2callback"\n'
        'cookie_secret = "a-test-cookie-secret-of-forty-characters!"\n'
        f'client_id = "{client_id}"\n'
        f'client_secret = "{secret}"\n'
        f'server_metadata_url = "{issuer}/.well-known/openid-configuration"\n',
        encoding="utf-8",
    )


def _sign_in(page, url: str, idp) -> None:
    """Press the sign-in button; wait until the provider has issued a token and the studio
    has loaded again on its own address."""
    issued = idp.tokens_issued
    page.get_by_role("button", name=SIGN_IN).click()
    for _ in range(240):  # the browser goes to the provider and comes back with a code
        if idp.tokens_issued > issued:
            break
        page.wait_for_timeout(250)
    else:
        raise AssertionError(f"no token was asked for; the page is at {page.url}")
    page.wait_for_url(lambda u: u.startswith(url) and "oauth2callback" not in u, timeout=60_000)
    page.locator("h1").first.wait_for(timeout=120_000)
    _idle(page)


def test_pages_data_and_downloads_need_the_oidc_login(team, chromium_path, tmp_path):  # noqa: F811
    ws, ids = team
    port = free_port()
    with running_provider() as idp:
        secrets = tmp_path / "secrets.toml"
        _secrets(secrets, port, idp.issuer, idp.client_id, idp.client_secret)
        with (
            _serve(ws, "--secrets.files", str(secrets), name="oidc", port=port) as (url, _, _pid),
            _browser(chromium_path) as browser,
        ):
            stranger = browser.new_page()
            for path in ("", "fusion", "export"):
                _open(stranger, f"{url}/{path}?ds={ids['demo']}&run={ids['demo_run_2']}")
                stranger.get_by_role("button", name=SIGN_IN).wait_for(timeout=60_000)
                body = stranger.locator("body").inner_text()
                assert "Sign in to Fusion Studio" in body and SIGN_IN in body, path
                for secret in ("Demo store", "MovieLens", "Anker", "Download"):
                    assert secret not in body, (path, secret)
                assert stranger.locator('[data-testid="stSidebarNav"] a').count() == 0, path
                assert stranger.locator('[data-testid="stDownloadButton"]').count() == 0, path

            idp.sign_with_wrong_key = True  # a forged ID token: the studio must stay shut
            _sign_in(stranger, url, idp)
            assert idp.tokens_issued == 1
            stranger.get_by_role("button", name=SIGN_IN).wait_for(timeout=60_000)
            body = stranger.locator("body").inner_text()
            assert "Sign in to Fusion Studio" in body and "Signed in as" not in body
            assert stranger.locator('[data-testid="stSidebarNav"] a').count() == 0

            idp.sign_with_wrong_key = False
            member = browser.new_page(accept_downloads=True)
            _open(member, f"{url}/export?ds={ids['demo']}&run={ids['demo_run_2']}")
            _sign_in(member, url, idp)
            assert idp.tokens_issued == 2
            member.get_by_text(f"Signed in as {idp.email}").wait_for(timeout=60_000)
            ARTIFACTS.mkdir(exist_ok=True)
            member.screenshot(path=str(ARTIFACTS / "oidc-signed-in.png"), full_page=True)
            _open(member, f"{url}/export?ds={ids['demo']}&run={ids['demo_run_2']}")
            button = member.get_by_role("button", name="Download CSV")
            button.wait_for(timeout=120_000)
            with member.expect_download(timeout=60_000) as info:
                button.click()
            target = tmp_path / "recommendations.csv"
            info.value.save_as(str(target))
            frame = pd.read_csv(target, dtype=str)
            assert frame["user_id"].nunique() == 600

            member.get_by_role("button", name="Sign out").click()
            member.get_by_role("button", name=SIGN_IN).wait_for(timeout=60_000)
            assert member.locator('[data-testid="stSidebarNav"] a').count() == 0
