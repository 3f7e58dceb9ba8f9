"""A fitted model's learned state as plain data: numeric arrays plus JSON values.

Every model declares its learned attributes and how each is stored
(``Recommender.state_fields``); :func:`encode_state` splits them into arrays (for an ``.npz``
read with ``allow_pickle=False``) and JSON values, :func:`decode_state` checks and rebuilds them.
Nothing here runs code from the data: only numbers, strings and lists are read.

Kinds
-----
``array``
    numeric numpy array (bool, int, float), stored under its own name.
``csr``
    scipy CSR matrix: ``<name>.data``, ``<name>.indices``, ``<name>.indptr`` arrays and its
    ``[rows, columns]`` shape in the JSON; checked in full when rebuilt.
``int``, ``float``, ``bool``, ``str``
    JSON scalars (non-finite floats as the strings ``"nan"``, ``"inf"``, ``"-inf"``).
``floats``, ``float_list``, ``strs``
    a tuple of floats, a list of floats, a list of strings.
``float_map``
    ``{float: float}``, stored as ``[[key, value], ...]``.

A trailing ``?`` marks an attribute that ``fit`` may leave unset.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import scipy.sparse as sp

from recsys.errors import ConfigError

KINDS: frozenset[str] = frozenset(
    {"array", "csr", "int", "float", "bool", "str", "floats", "float_list", "strs", "float_map"}
)
_CSR_PARTS = ("data", "indices", "indptr")
_NON_FINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


def parse_kind(kind: str) -> tuple[str, bool]:
    """``"csr?"`` -> ``("csr", True)``: the kind and whether the attribute is optional."""
    base = kind.rstrip("?")
    if base not in KINDS:
        raise ValueError(f"unknown state kind '{kind}'")
    return base, kind.endswith("?")


def encode_state(obj: object, fields: Mapping[str, str]) -> tuple[dict[str, np.ndarray], dict]:
    """Split the attributes ``fields`` of ``obj`` into ``(arrays, json_values)``."""
    arrays: dict[str, np.ndarray] = {}
    meta: dict[str, Any] = {}
    for name, kind in fields.items():
        base, optional = parse_kind(kind)
        if not hasattr(obj, name):
            if optional:
                continue
            raise ValueError(f"learned attribute '{name}' is missing")
        value = getattr(obj, name)
        if base == "array":
            arrays[name] = _numeric(np.asarray(value), name)
        elif base == "csr":
            m = sp.csr_matrix(value)
            for part in _CSR_PARTS:
                arrays[f"{name}.{part}"] = _numeric(np.asarray(getattr(m, part)), name)
            meta[name] = [int(m.shape[0]), int(m.shape[1])]
        else:
            meta[name] = _encode_json(base, value)
    return arrays, meta


def decode_state(
    fields: Mapping[str, str], meta: Mapping[str, Any], arrays: Mapping[str, np.ndarray]
) -> dict[str, Any]:
    """The attributes ``fields`` rebuilt from ``(json_values, arrays)``, every value checked.

    Raises ``ConfigError`` when anything is missing, unexpected or of the wrong type.
    """
    out: dict[str, Any] = {}
    used_arrays: set[str] = set()
    used_meta: set[str] = set()
    for name, kind in fields.items():
        base, optional = parse_kind(kind)
        keys = [f"{name}.{p}" for p in _CSR_PARTS] if base == "csr" else [name]
        in_arrays = base in ("array", "csr")
        present = all(k in arrays for k in keys) if in_arrays else name in meta
        if not present:
            if optional and not any(k in arrays for k in keys) and name not in meta:
                continue
            raise ConfigError(f"the stored state lacks '{name}'.")
        try:
            if base == "array":
                out[name] = _numeric(arrays[name], name)
            elif base == "csr":
                out[name] = _csr(name, [arrays[k] for k in keys], meta.get(name))
                used_meta.add(name)
            else:
                out[name] = _decode_json(base, meta[name])
                used_meta.add(name)
        except (TypeError, ValueError) as err:
            raise ConfigError(f"the stored value of '{name}' is invalid ({err}).") from err
        if in_arrays:
            used_arrays.update(keys)
    extra = sorted((set(arrays) - used_arrays) | (set(meta) - used_meta))
    if extra:
        raise ConfigError(f"the stored state has unexpected entries: {', '.join(extra[:5])}.")
    return out


def _numeric(a: np.ndarray, name: str) -> np.ndarray:
    if a.dtype.kind not in "biuf":
        raise ValueError(f"'{name}' must be a numeric array, not {a.dtype}")
    return a


def _csr(name: str, parts: list[np.ndarray], shape: object) -> sp.csr_matrix:
    data, indices, indptr = (_numeric(p, name) for p in parts)
    if indices.dtype.kind not in "iu" or indptr.dtype.kind not in "iu":
        raise ValueError("indices must be integers")
    if not (isinstance(shape, list) and len(shape) == 2 and all(_is_int(v) for v in shape)):
        raise ValueError("the shape must be two integers")
    if min(shape) < 0 or data.ndim != 1 or indices.ndim != 1 or indptr.ndim != 1:
        raise ValueError("not a CSR matrix")
    m = sp.csr_matrix((data, indices, indptr), shape=(shape[0], shape[1]))
    m.check_format(full_check=True)  # indices in range, indptr monotone: no out-of-bounds reads
    return m


def _is_int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: object) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _float_out(v: float) -> float | str:
    v = float(v)
    if math.isfinite(v):
        return v
    return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")


def _float_in(v: object) -> float:
    if isinstance(v, str) and v in _NON_FINITE:
        return _NON_FINITE[v]
    if not _is_number(v):
        raise TypeError(f"expected a number, got {type(v).__name__}")
    return float(v)  # type: ignore[arg-type]


def _encode_json(kind: str, value: Any) -> Any:
    if kind == "int":
        return int(value)
    if kind == "float":
        return _float_out(value)
    if kind == "bool":
        return bool(value)
    if kind == "str":
        return str(value)
    if kind in ("floats", "float_list"):
        return [_float_out(v) for v in value]
    if kind == "strs":
        return [str(v) for v in value]
    return [[_float_out(k), _float_out(v)] for k, v in dict(value).items()]  # float_map


def _decode_json(kind: str, value: Any) -> Any:
    checks = {
        "int": (_is_int, int),
        "bool": (lambda v: isinstance(v, bool), bool),
        "str": (lambda v: isinstance(v, str), str),
    }
    if kind in checks:
        ok, cast = checks[kind]
        if not ok(value):
            raise TypeError(f"expected {kind}, got {type(value).__name__}")
        return cast(value)
    if kind == "float":
        return _float_in(value)
    if not isinstance(value, list):
        raise TypeError(f"expected a list, got {type(value).__name__}")
    if kind == "floats":
        return tuple(_float_in(v) for v in value)
    if kind == "float_list":
        return [_float_in(v) for v in value]
    if kind == "strs":
        if not all(isinstance(v, str) for v in value):
            raise TypeError("expected a list of strings")
        return list(value)
    pairs = [p for p in value if isinstance(p, list) and len(p) == 2]  # float_map
    if len(pairs) != len(value):
        raise TypeError("expected [key, value] pairs")
    return {_float_in(k): _float_in(v) for k, v in pairs}


__all__ = ["KINDS", "decode_state", "encode_state", "parse_kind"]
