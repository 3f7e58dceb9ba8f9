"""Command line: ``python -m recsys <command> ...``.

Each command is a pair of functions registered in :data:`COMMANDS` (``base.register``), one
module per group of commands (``data_commands``, ``export_commands``, ``strategy_commands``,
``tool_commands``)::

    def _add_foo(parser: argparse.ArgumentParser) -> None: ...   # declare arguments
    def _run_foo(args: argparse.Namespace) -> int: ...           # do it, return exit code

    COMMANDS["foo"] = Command("one-line help", _add_foo, _run_foo)

:func:`main` turns every expected failure (:class:`RecsysError`, unreadable files, bad
arguments) into a one-line message on stderr and exit code 2; users never see a traceback.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from recsys.cli import (  # noqa: F401 (registers)
    data_commands,
    export_commands,
    live_commands,
    strategy_commands,
    tool_commands,
)
from recsys.cli.base import (
    COMMANDS,
    EXIT_ERROR,
    EXIT_OK,
    Command,
    fail,
    parse_pairs,
    parse_weights,
    register,
)
from recsys.errors import RecsysError, warnings_logged


# --------------------------------------------------------------------------- entry point
def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with one subparser per registered command."""
    parser = argparse.ArgumentParser(
        prog="python -m recsys", description="Fusion Studio: recommendation workbench tools."
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, command in COMMANDS.items():
        command.add_arguments(sub.add_parser(name, help=command.help, description=command.help))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit code (0 ok, 2 error; argparse usage errors exit 2)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error (2), already printed by argparse
        return int(exc.code or 0)
    if not args.command:
        parser.print_help()
        return EXIT_ERROR
    try:
        with warnings_logged(f"running '{args.command}'"):  # never on the terminal
            return COMMANDS[args.command].run(args)
    except RecsysError as err:
        return fail(str(err))
    except FileNotFoundError as err:
        return fail(f"file not found: {err.filename}")
    except IsADirectoryError as err:
        return fail(f"this is a folder, not a file: {err.filename}")
    except PermissionError as err:
        return fail(f"permission denied: {err.filename}")
    except OSError as err:
        return fail(f"cannot read or write {err.filename or 'a file'}: {err.strerror or err}")
    except KeyboardInterrupt:
        return fail("interrupted.")
    except Exception as err:  # noqa: BLE001 - last resort: one line, never a traceback
        return fail(f"unexpected error ({type(err).__name__}): {err}")


__all__ = [
    "COMMANDS",
    "EXIT_ERROR",
    "EXIT_OK",
    "Command",
    "build_parser",
    "main",
    "parse_pairs",
    "parse_weights",
    "register",
]
