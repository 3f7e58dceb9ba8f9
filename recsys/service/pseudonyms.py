"""Pseudonymised exports: user ids replaced by a keyed hash, the key kept in the workspace.

The key is 32 random bytes in ``<workspace>/secrets/pseudonym.key`` (created on first use,
readable by the owner only). ``pseudonymise_table`` replaces a table's ``user_id`` by
``HMAC-SHA-256(key, user_id)`` (``recsys.data.privacy.pseudonymise``) and returns the mapping
(pseudonym → original id), which stays local: whoever holds the mapping or the key can
re-identify, whoever gets only the export cannot. The same key gives the same pseudonyms in
every export, so a partner can join two exports without learning who is who.

``pseudonymised_export`` is what the Export page does: the table pseudonymised and marked
(``user_id_pseudonymised``), its mapping written into the workspace's ``exports/`` folder with
mode 0600 (owner only: it re-identifies), never into the download.
"""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

import pandas as pd

from recsys.data.privacy import PSEUDONYMISED_COLUMN, PSEUDONYMISED_VALUE, mapping, pseudonymise
from recsys.service.atomic import atomic_write_bytes
from recsys.service.entries import writing
from recsys.service.export import table_bytes
from recsys.service.workspace import Workspace

log = logging.getLogger(__name__)

KEY_FILE = Path("secrets") / "pseudonym.key"
#: Permissions of a mapping file: the owner only (it re-identifies every pseudonym).
MAPPING_MODE = 0o600


def workspace_key(workspace: Workspace) -> bytes:
    """The workspace's pseudonymisation key (32 bytes), created on first use."""
    path = workspace.root / KEY_FILE
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(path.parent, 0o700)
        atomic_write_bytes(path, secrets.token_bytes(32))
        os.chmod(path, 0o600)
        log.info("pseudonymisation key created in the workspace secrets")
    return path.read_bytes()


def pseudonymise_table(
    table: pd.DataFrame, key: bytes, column: str = "user_id"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(table with column pseudonymised, mapping pseudonym -> original)``."""
    out = table.copy()
    out[column] = pseudonymise(table[column], key)
    return out, mapping(table[column], key)


def mapping_file_name(file_name: str) -> str:
    """The local mapping's file name for an export file: ``recs.csv`` -> ``recs_mapping.csv``."""
    return f"{Path(file_name).stem}_mapping.csv"


def pseudonymised_export(
    workspace: Workspace, table: pd.DataFrame, file_name: str, column: str = "user_id"
) -> tuple[pd.DataFrame, Path]:
    """``(table pseudonymised with the workspace key, path of its local mapping)``.

    The table says it is pseudonymised (``user_id_pseudonymised`` = ``HMAC-SHA-256``); the
    mapping (pseudonym -> original) is written to ``exports/<stem>_mapping.csv`` with mode 0600.
    A key or mapping that cannot be written raises ``WorkspaceError`` (a plain message).
    """
    with writing("the pseudonymisation key", workspace.root):
        key = workspace_key(workspace)
    out, local = pseudonymise_table(table, key, column)
    out[PSEUDONYMISED_COLUMN] = PSEUDONYMISED_VALUE
    path = workspace.save_export(
        mapping_file_name(file_name), table_bytes(local, "csv"), mode=MAPPING_MODE
    )
    log.info("pseudonymised export: %d ids, mapping kept in the workspace", len(local))
    return out, path


def reidentify(table: pd.DataFrame, local_mapping: pd.DataFrame, column: str = "user_id"):
    """The original ids back from a pseudonymised table and its mapping file."""
    back = dict(
        zip(
            local_mapping["pseudonym"].astype(str),
            local_mapping["original"].astype(str),
            strict=True,
        )
    )
    out = table.copy()
    out[column] = out[column].astype(str).map(back)
    return out


__all__ = [
    "KEY_FILE",
    "MAPPING_MODE",
    "mapping_file_name",
    "pseudonymise_table",
    "pseudonymised_export",
    "reidentify",
    "workspace_key",
]
