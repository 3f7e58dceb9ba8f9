"""Start the studio: ``python -m ui.serve [streamlit options]``, checked before anything binds.

Streamlit binds its port before any of the app's code runs, so the app itself can only refuse
sessions (``ui.auth.gate``). This launcher reads the same configuration ``streamlit run``
would (``.streamlit/config.toml``, ``STREAMLIT_*`` variables, the ``--server.address``-style
flags given here) and the secrets, and refuses to start, with a plain message and exit status
2, when the address is not a loopback one and neither a login (``[auth]``, ``[passwords]``)
nor the explicit opt-out (``[access] open_without_login = true``,
``FUSION_STUDIO_OPEN_WITHOUT_LOGIN=1``) is configured. Otherwise it runs
``streamlit run app.py`` with the same flags, in this process.
"""

from __future__ import annotations

import sys
from pathlib import Path

APP = Path(__file__).resolve().parents[1] / "app.py"
#: Exit status of a refused start.
REFUSED = 2


def _flags(args: list[str]) -> dict:
    """The config flags of ``streamlit run`` given in ``args``, parsed by Streamlit's own CLI."""
    from streamlit.web import cli

    ctx = cli.main_run.make_context("run", [str(APP), *args], resilient_parsing=False)
    return {k: v for k, v in ctx.params.items() if k not in ("target", "args")}


def refusal(args: list[str]) -> str | None:
    """Why the studio must not start with ``args`` (None: it may)."""
    from streamlit import config
    from streamlit.web import bootstrap

    from recsys.service.access import is_local_address
    from ui import auth

    bootstrap.load_config_options(flag_options=_flags(args))
    address = config.get_option("server.address")
    if is_local_address(address):
        return None
    access = auth.access_config()
    if access.login_required or access.open_without_login:
        return None
    shown = address or "0.0.0.0 (every interface)"
    return (
        f"Fusion Studio refuses to listen on {shown} without a login: anyone who can reach "
        "this machine would see your customers' data. Configure [auth] or [passwords] in "
        ".streamlit/secrets.toml (README, Team use), bind to 127.0.0.1, or opt out explicitly "
        f"with [access] open_without_login = true or {auth.OPEN_ENV}=1."
    )


def main(args: list[str] | None = None) -> int:
    """Check the configuration, then run ``streamlit run app.py`` (or refuse); the exit status."""
    args = list(sys.argv[1:] if args is None else args)
    why = refusal(args)
    if why is not None:
        print(why, file=sys.stderr)
        return REFUSED
    from streamlit.web import cli

    try:
        cli.main.main(args=["run", str(APP), *args], prog_name="streamlit")
    except SystemExit as done:
        return int(done.code or 0) if not isinstance(done.code, str) else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
