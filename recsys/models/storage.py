"""Fitted models on disk without pickles: ``<stem>.npz`` (arrays) plus ``<stem>.json``.

The JSON names the registered model, its parameters and its non-array state
(``Recommender.state_meta``); the ``.npz`` holds ``Recommender.state_arrays`` and is read with
``allow_pickle=False``, so neither file can run code. The class comes from the registry name the
caller expects (the run manifest's), never from the file: a file naming another model is refused.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np

from recsys.errors import ConfigError
from recsys.models import model_class
from recsys.models.base import Recommender

#: ``"format"`` of a model's JSON; bumped when the layout changes.
MODEL_FORMAT = "fusion-studio-model/1"
_KEYS = {"format", "model", "params", "state"}


def save_model(model: Recommender, stem: str | Path) -> None:
    """Write ``stem.npz`` and ``stem.json`` for a fitted, registered model."""
    if model_class(model.name) is not type(model):
        raise ConfigError(f"'{type(model).__name__}' is not the registered model '{model.name}'.")
    json_path, npz_path = model_files(stem)
    doc = {
        "format": MODEL_FORMAT,
        "model": model.name,
        "params": model.get_params(),
        "state": model.state_meta(),
    }
    text = json.dumps(doc, ensure_ascii=False, allow_nan=False)
    with open(npz_path, "wb") as f:
        np.savez(f, allow_pickle=False, **model.state_arrays())
    json_path.write_text(text, encoding="utf-8")


def model_files(stem: str | Path) -> tuple[Path, Path]:
    """``(stem.json, stem.npz)``: the two files of one stored model."""
    stem = Path(stem)
    return stem.with_name(stem.name + ".json"), stem.with_name(stem.name + ".npz")


def load_model(stem: str | Path, name: str) -> Recommender:
    """The model stored at ``stem``, which must be the registered model ``name``.

    Raises ``ConfigError`` when a file is missing, malformed, names another model, holds
    parameters out of range, a non-numeric array or anything a pickle would be needed for.
    """
    json_path, npz_path = model_files(stem)
    cls = model_class(name)
    try:
        doc = json.loads(json_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise ConfigError(f"the description of model '{name}' cannot be read ({err}).") from err
    if not isinstance(doc, dict) or set(doc) != _KEYS or doc["format"] != MODEL_FORMAT:
        raise ConfigError(f"the description of model '{name}' is not in the expected format.")
    if doc["model"] != name:
        raise ConfigError(f"the file of model '{name}' describes another model.")
    if not isinstance(doc["params"], dict) or not isinstance(doc["state"], dict):
        raise ConfigError(f"the description of model '{name}' is malformed.")
    arrays = read_arrays(npz_path, f"model '{name}'")
    return cls.from_state(doc["params"], doc["state"], arrays)


def read_arrays(path: Path, what: str) -> dict[str, np.ndarray]:
    """Every array of an uncompressed ``.npz`` (what ``np.savez`` writes), pickles refused.

    ``what`` names the owner in the ``ConfigError`` raised for anything else.
    """
    try:
        with zipfile.ZipFile(path) as archive:  # stored members only: no decompression bombs
            if any(info.compress_type != zipfile.ZIP_STORED for info in archive.infolist()):
                raise ConfigError(f"the arrays of {what} are compressed; not written here.")
        with np.load(path, allow_pickle=False) as npz:
            return {key: npz[key] for key in npz.files}
    except ConfigError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as err:
        raise ConfigError(f"the arrays of {what} cannot be read ({err}).") from err


__all__ = ["MODEL_FORMAT", "load_model", "model_files", "read_arrays", "save_model"]
