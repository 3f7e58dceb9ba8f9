"""The schema of a stored run's ``manifest.json``, checked before anything else is read.

A run folder is trusted only as far as this check goes: the manifest must be a small JSON
object with known keys of the right types, in the current format, naming registered models
only and dated no later than now. Runs of an older format (pickled models) are reported as
outdated and never opened; anything else that fails is reported as invalid.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from recsys.errors import InvalidRunError
from recsys.models import MODEL_NAMES

#: Format of runs written by this version: models as ``.npz`` + JSON (1 was pickles).
RUN_FORMAT = 2
#: A manifest larger than this is not one of ours.
MAX_MANIFEST_BYTES = 16 * 2**20
#: Clock skew tolerated between machines sharing a workspace.
FUTURE_TOLERANCE = timedelta(days=1)

_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,95}$")
_MODEL_KEY = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$")
_FINGERPRINT = re.compile(r"^[0-9a-f]{8,64}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")

#: key -> (accepted JSON types, required)
SCHEMA: dict[str, tuple[tuple[type, ...], bool]] = {
    "format_version": ((int,), True),
    "run_id": ((str,), True),
    "dataset_id": ((str,), True),
    "created_at": ((str,), True),
    "models": ((dict,), True),
    "arrays": ((list,), True),
    "dataset_fingerprint": ((str,), True),
    "dataset_name": ((str,), False),
    "preset": ((dict,), False),
    "timings": ((dict,), False),
    "split_info": ((dict,), False),
    "metrics": ((dict,), False),
    "trained_fusers": ((list,), False),
    "weights_tuned": ((bool,), False),
    "strategy_choice": ((dict, type(None)), False),
    "tuning_check": ((dict,), False),  # tuned vs before-tuning weights on the test users
    "update": ((dict,), False),  # an incremental update: what each model did (UpdateReport)
    "stale": ((dict,), False),  # its data changed since (a deletion request): reason, when
    "saved_by": ((str,), False),  # who saved it (the signed-in user; empty without a login)
    "pools": ((dict,), False),  # stored candidate pools per stage (``stored_pools``)
    "pool_files": ((dict,), False),  # their ``pools/<name>.npy`` files: name -> SHA-256
}


def outdated(run_id: str) -> InvalidRunError:
    """The error of a run written by an older version (pickled models)."""
    return InvalidRunError(
        f"run '{run_id}' was trained with an older version of Fusion Studio; train again.",
        code="run.outdated",
        params={"run": run_id},
    )


def invalid(run_id: str, reason: str) -> InvalidRunError:
    """The error of a run that is not what this version writes (``reason`` in plain words)."""
    return InvalidRunError(
        f"run '{run_id}' cannot be used: {reason}. Delete it and train again.",
        code="run.invalid",
        params={"run": run_id, "reason": reason},
    )


def other_data(run_id: str) -> InvalidRunError:
    """The error of a run whose dataset fingerprint is not the active dataset's."""
    return InvalidRunError(
        "this run was trained on different data; train again on the active dataset.",
        code="run.other_data",
        params={"run": run_id},
    )


def check_manifest(data: Any, run_id: str, *, now: datetime | None = None) -> dict[str, Any]:
    """``data`` when it is a valid manifest of run ``run_id``; else ``InvalidRunError``."""
    if not isinstance(data, dict):
        raise invalid(run_id, "its manifest is not a JSON object")
    version = data.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < RUN_FORMAT:
        raise outdated(run_id)
    if version > RUN_FORMAT:
        raise invalid(run_id, "it was saved by a newer version of Fusion Studio")
    unknown = sorted(set(data) - set(SCHEMA))
    if unknown:
        raise invalid(run_id, f"its manifest has unknown entries ({', '.join(unknown[:5])})")
    for key, (types, required) in SCHEMA.items():
        if key not in data:
            if required:
                raise invalid(run_id, f"its manifest lacks '{key}'")
            continue
        value = data[key]
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
            raise invalid(run_id, f"'{key}' in its manifest has the wrong type")
    _check_values(data, run_id, now or datetime.now(UTC))
    return data


def _check_values(data: dict[str, Any], run_id: str, now: datetime) -> None:
    if data["run_id"] != run_id:
        raise invalid(run_id, "its manifest names another run")
    if not _ID.match(data["dataset_id"]):
        raise invalid(run_id, "its dataset id is not valid")
    if not _FINGERPRINT.match(data["dataset_fingerprint"]):
        raise invalid(run_id, "its dataset fingerprint is not valid")
    try:
        created = datetime.fromisoformat(data["created_at"])
    except ValueError as err:
        raise invalid(run_id, "its creation date cannot be read") from err
    if created.tzinfo is None:
        created = created.replace(tzinfo=UTC)
    if created > now + FUTURE_TOLERANCE:
        raise invalid(run_id, "it is dated in the future")
    for key, name in data["models"].items():
        if not (isinstance(key, str) and _MODEL_KEY.match(key)):
            raise invalid(run_id, "it lists an invalid model file name")
        if name not in MODEL_NAMES:
            raise invalid(run_id, "it lists a model this version does not know")
    if not all(isinstance(a, str) and _MODEL_KEY.match(a) for a in data["arrays"]):
        raise invalid(run_id, "it lists invalid array names")
    if not all(isinstance(f, str) for f in data.get("trained_fusers", [])):
        raise invalid(run_id, "its learned fusers are not names")
    files = data.get("pool_files", {})
    if not all(
        isinstance(k, str) and _MODEL_KEY.match(k) and isinstance(v, str) and _SHA256.match(v)
        for k, v in files.items()
    ):
        raise invalid(run_id, "it lists invalid candidate pool files")
    timings = data.get("timings", {})
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in timings.values()):
        raise invalid(run_id, "its timings are not numbers")


__all__ = [
    "MAX_MANIFEST_BYTES",
    "RUN_FORMAT",
    "SCHEMA",
    "check_manifest",
    "invalid",
    "other_data",
    "outdated",
]
