"""``FusionConfig``: which method, which normalisation, which weights (JSON round-trip)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from recsys.errors import ConfigError
from recsys.ranking.candidates import CandidatePool
from recsys.ranking.fusion.registry import FUSERS
from recsys.ranking.normalise import NORMALIZERS


@dataclass
class FusionConfig:
    """How to fuse: method, normalisation, per-model weights (missing = 1.0), method params."""

    method: str = "weighted"
    normalization: str = "minmax"
    weights: dict[str, float] = field(default_factory=dict)
    params: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.method not in FUSERS:  # the registry is the one list of methods
            raise ConfigError(f"unknown fusion method '{self.method}'. Known: {', '.join(FUSERS)}.")
        if self.normalization not in NORMALIZERS:
            raise ConfigError(
                f"unknown normalisation '{self.normalization}'. Known: {', '.join(NORMALIZERS)}."
            )
        if not isinstance(self.weights, dict):
            raise ConfigError("fusion weights must be a mapping of model name to a number.")
        clean = {}
        for name, w in self.weights.items():
            try:
                w = float(w)
            except (TypeError, ValueError):
                raise ConfigError(
                    f"the weight of model '{name}' must be a number, got {w!r}."
                ) from None
            if not np.isfinite(w) or w < 0:
                raise ConfigError(
                    f"the weight of model '{name}' must be zero or positive, got {w}."
                )
            clean[str(name)] = w
        self.weights = clean  # "not all zero" is checked against the pool in weight_vector
        self.params = dict(self.params or {})

    def to_dict(self) -> dict:
        """JSON-safe dict (the preset's ``fusion`` block)."""
        return {
            "method": self.method,
            "normalization": self.normalization,
            "weights": dict(self.weights),
            "params": dict(self.params),
        }

    @classmethod
    def from_dict(cls, data: dict) -> FusionConfig:
        """Inverse of :meth:`to_dict`; unknown keys raise ``ConfigError``."""
        known = {"method", "normalization", "weights", "params"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(
                f"unknown fusion setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}."
            )
        return cls(
            method=data.get("method", "weighted"),
            normalization=data.get("normalization", "minmax"),
            weights=dict(data.get("weights") or {}),
            params=dict(data.get("params") or {}),
        )

    def weight(self, model: str) -> float:
        """``model``'s weight (1.0 when the preset does not set it)."""
        return float(self.weights.get(model, 1.0))

    def weight_vector(self, pool: CandidatePool) -> np.ndarray:
        """(n_models,) float32 weights aligned with the pool; checks names before any arithmetic."""
        unknown = sorted(set(self.weights) - set(pool.model_names))
        if unknown:
            raise ConfigError(
                f"weights name model(s) {', '.join(unknown)} that are not in the pool "
                f"({', '.join(pool.model_names)})."
            )
        w = np.array([self.weight(m) for m in pool.model_names], np.float32)
        if not (w > 0).any():
            raise ConfigError("at least one model needs a weight above zero.")
        return w
