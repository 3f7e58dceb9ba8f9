"""Errors the library raises on purpose. Each carries a plain-language message a merchandiser
can act on; the app and the CLI show ``str(error)`` and never a traceback."""

from __future__ import annotations

from collections.abc import Sequence


class RecsysError(Exception):
    """Base class: an expected failure with a message meant for the user."""


class DataValidationError(RecsysError):
    """Uploaded data cannot be used.

    Parameters
    ----------
    message : what is wrong and what to do, in plain words.
    file : the file name as the user knows it.
    column : the offending column, when there is one.
    rows : 1-based line numbers in the file (header = line 1) of the first offending rows.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        column: str | None = None,
        rows: Sequence[int] = (),
    ) -> None:
        self.message = message
        self.file = file
        self.column = column
        self.rows = list(rows)[:10]
        super().__init__(self._render())

    def _render(self) -> str:
        where = []
        if self.file:
            where.append(f"file '{self.file}'")
        if self.column:
            where.append(f"column '{self.column}'")
        if self.rows:
            where.append(
                "line" + ("s " if len(self.rows) > 1 else " ") + ", ".join(map(str, self.rows))
            )
        prefix = (", ".join(where) + ": ") if where else ""
        return prefix + self.message


class NotFittedError(RecsysError):
    """A model was asked to score before ``fit``."""


class ColdStartError(RecsysError):
    """A model cannot score a user or item it has not seen (see its capability flags)."""


class ConfigError(RecsysError):
    """A preset, CLI argument or parameter is invalid."""


class WorkspaceError(RecsysError):
    """The workspace on disk is missing something or cannot be written."""
