"""Errors the library raises on purpose, and coded messages for the user.

Each error carries a plain-language English message a merchandiser can act on; the CLI shows
``str(error)`` and never a traceback. An error (or a progress ``Message``) may also carry a
stable ``code`` and its ``params``, so an interface in another language can show its own
wording: the app looks the code up as ``err.<code>`` (errors) or ``msg.<code>`` (messages) in
``locales/*.json`` and falls back to the English text when there is no entry.

As in scikit-learn, each error also inherits from the builtin it refines (``ConfigError`` is a
``ValueError``, ``WorkspaceError`` an ``OSError`` ...), so callers that catch the builtin keep
working.

Library warnings (pandas, scikit-learn, LightFM ...) are not messages for the user:
:func:`warnings_logged` records them around ingest, fitting, training and each CLI command
and writes them to the log (level INFO), never to the screen or the terminal.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

_log = logging.getLogger(__name__)


class RecsysError(Exception):
    """Base class: an expected failure with a message meant for the user.

    Parameters
    ----------
    message : the English text (what ``str(error)`` returns).
    code : optional stable message code, e.g. ``"rule.unknown_kind"``.
    params : values for the placeholders of the coded message, e.g. ``{"kind": "boots"}``.
    """

    def __init__(
        self,
        message: str = "",
        *,
        code: str | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.params = dict(params or {})


class Message(str):
    """A progress or status line: English text that also carries a code and its parameters.

    Behaves as the plain English ``str`` everywhere (CLI output, logs); an interface may use
    ``code`` and ``params`` to show its own wording.

    >>> m = Message("trained", "progress.trained")
    >>> m == "trained", m.code
    (True, 'progress.trained')
    """

    code: str | None
    params: dict[str, Any]

    def __new__(cls, text: str, code: str | None = None, **params: Any) -> Message:
        """A ``str`` equal to ``text`` that also carries ``code`` and ``params``."""
        self = super().__new__(cls, text)
        self.code = code
        self.params = params
        return self


class DataValidationError(RecsysError, ValueError):
    """Uploaded data cannot be used.

    Parameters
    ----------
    message : what is wrong and what to do, in plain words.
    file : the file name as the user knows it.
    column : the offending column, when there is one.
    rows : 1-based line numbers in the file (header = line 1) of the first offending rows.
    code, params : optional message code and its parameters (see ``RecsysError``).
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        column: str | None = None,
        rows: Sequence[int] = (),
        code: str | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> None:
        self.message = message
        self.file = file
        self.column = column
        self.rows = list(rows)[:10]
        super().__init__(self._render(), code=code, params=params)

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


class NotFittedError(RecsysError, ValueError, AttributeError):
    """A model was asked to score before ``fit`` (as scikit-learn's ``NotFittedError``)."""


class ColdStartError(RecsysError, ValueError):
    """A model cannot score a user or item it has not seen (see its capability flags)."""


class ConfigError(RecsysError, ValueError):
    """A preset, CLI argument or parameter is invalid."""


class WorkspaceError(RecsysError, OSError):
    """The workspace on disk is missing something or cannot be written."""


class InvalidRunError(WorkspaceError):
    """A stored run cannot be used: an older or unknown format, or files that are not ours.

    Such a run is never executed: nothing in it is unpickled or imported.
    """


class MemoryBudgetError(RecsysError, MemoryError):
    """A task would need more memory than the machine has available; nothing was started."""


@contextmanager
def warnings_logged(what: str) -> Iterator[None]:
    """Record the Python warnings raised in the block and log them (INFO), one line each.

    ``what`` names the work in the log line (``"fitting svd"``). Repeats are logged once.
    Usable as a decorator too. Like ``warnings.catch_warnings`` it swaps process-wide state, so
    a warning raised meanwhile by another thread may be recorded here (it is logged all the
    same) instead of printed.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            yield
        finally:
            seen: set[tuple[str, str]] = set()
            for w in caught:
                key = (w.category.__name__, str(w.message))
                if key not in seen:
                    seen.add(key)
                    _log.info("library warning while %s: %s: %s", what, *key)
