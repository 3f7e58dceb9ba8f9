"""``Preset``: one JSON document that captures a whole recommendation strategy.

Models + hyperparameters, fusion method, normalisation, weights, re-ranking knobs and
merchandising rules, plus how it is evaluated. The same preset drives the app and the CLI.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from recsys.data.dataset import Dataset
from recsys.errors import ConfigError
from recsys.models import DEFAULT_MODELS, make_model, model_class
from recsys.ranking.fusion import FusionConfig
from recsys.ranking.rerank import RerankConfig
from recsys.service.entries import slugify

SPLIT_METHODS = ("temporal", "random", "leave_last", "time_cutoff")


@dataclass
class Preset:
    """A named, serialisable recommendation strategy.

    Attributes
    ----------
    models : model name -> hyperparameters overriding that model's defaults.
    fusion : how the models' candidate scores are blended.
    rerank : exclusions, diversity, novelty, rules and list length ``k``.
    candidates_per_model : top-M each model contributes to the shared candidate pool.
    split : how held-out metrics are computed (``method``, ``test_fraction``, ``seed``, and
        ``min_rating``: with ratings, held-out pairs rated below it do not count as relevant).
    cold_threshold : users with fewer interactions than this are served by cold-start models only.
    """

    name: str = "Default"
    id: str = "default"
    models: dict[str, dict[str, Any]] = field(
        default_factory=lambda: {m: {} for m in DEFAULT_MODELS}
    )
    fusion: FusionConfig = field(default_factory=FusionConfig)
    rerank: RerankConfig = field(default_factory=RerankConfig)
    candidates_per_model: int = 100
    split: dict[str, Any] = field(
        default_factory=lambda: {"method": "temporal", "test_fraction": 0.2, "seed": 0}
    )
    cold_threshold: int = 3

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise ``ConfigError`` with a plain message when anything is inconsistent."""
        if not self.models:
            raise ConfigError("a preset needs at least one model.")
        for name, params in self.models.items():
            if not isinstance(params, dict):
                raise ConfigError(f"parameters of model '{name}' must be a JSON object.")
            make_model(name, **params)  # raises ConfigError for unknown names/params
        unknown = sorted(set(self.fusion.weights) - set(self.models))
        if unknown:
            raise ConfigError(
                f"fusion weights name model(s) not in this preset: {', '.join(unknown)}."
            )
        if not (1 <= int(self.candidates_per_model) <= 100_000):
            raise ConfigError("candidates_per_model must be between 1 and 100000.")
        method = self.split.get("method", "temporal")
        if method not in SPLIT_METHODS:
            raise ConfigError(f"unknown split '{method}'; use one of {', '.join(SPLIT_METHODS)}.")
        fraction = float(self.split.get("test_fraction", 0.2))
        if not 0.0 < fraction < 1.0:
            raise ConfigError("split test_fraction must be between 0 and 1.")
        min_rating = self.split.get("min_rating")
        if min_rating is not None and not isinstance(min_rating, int | float):
            raise ConfigError("split min_rating must be a number (or absent).")

    # ------------------------------------------------------------------ (de)serialisation
    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict, tagged ``format: fusion-studio-preset/1``."""
        return {
            "format": "fusion-studio-preset/1",
            "id": self.id,
            "name": self.name,
            "models": self.models,
            "fusion": self.fusion.to_dict(),
            "rerank": self.rerank.to_dict(),
            "candidates_per_model": int(self.candidates_per_model),
            "split": dict(self.split),
            "cold_threshold": int(self.cold_threshold),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Preset:
        """Inverse of :meth:`to_dict`, with defaults for missing fields; validates."""
        if not isinstance(data, dict):
            raise ConfigError("a preset must be a JSON object.")
        known = {
            "format",
            "id",
            "name",
            "models",
            "fusion",
            "rerank",
            "candidates_per_model",
            "split",
            "cold_threshold",
        }
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"unknown preset field(s): {', '.join(unknown)}.")
        models = data.get("models", {m: {} for m in DEFAULT_MODELS})
        if isinstance(models, list):
            models = {m: {} for m in models}
        return cls(
            name=str(data.get("name", "Preset")),
            id=str(data.get("id") or slugify(str(data.get("name", "preset")), default="preset")),
            models={str(k): dict(v or {}) for k, v in models.items()},
            fusion=FusionConfig.from_dict(data.get("fusion", {})),
            rerank=RerankConfig.from_dict(data.get("rerank", {})),
            candidates_per_model=int(data.get("candidates_per_model", 100)),
            split=dict(data.get("split", {"method": "temporal", "test_fraction": 0.2, "seed": 0})),
            cold_threshold=int(data.get("cold_threshold", 3)),
        )

    def to_json(self) -> str:
        """Indented JSON text (UTF-8 characters kept)."""
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Preset:
        """Parse JSON text; invalid JSON raises ``ConfigError`` naming the line."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            raise ConfigError(
                f"the preset is not valid JSON (line {err.lineno}: {err.msg})."
            ) from None
        return cls.from_dict(data)

    @classmethod
    def read(cls, path: str | Path) -> Preset:
        """Read a preset JSON file (with or without BOM)."""
        p = Path(path)
        if not p.is_file():
            raise ConfigError(f"preset file '{p}' does not exist.")
        return cls.from_json(p.read_text(encoding="utf-8-sig"))

    def with_fusion(self, fusion: FusionConfig) -> Preset:
        """A copy with another fusion config."""
        return Preset.from_dict({**self.to_dict(), "fusion": fusion.to_dict()})

    def with_rerank(self, rerank: RerankConfig) -> Preset:
        """A copy with another re-ranking config."""
        return Preset.from_dict({**self.to_dict(), "rerank": rerank.to_dict()})

    def restricted_to(self, models: Mapping[str, dict[str, Any]]) -> Preset:
        """The strategy's fusion and re-ranking over ``models`` (name -> hyperparameters).

        Applies a saved preset to a run trained with other models: the run's ``models`` are
        kept, weights of models it lacks are dropped (models without a weight get 1.0), and a
        cascade ``order`` keeps only the models it has.
        """
        fusion = self.fusion.to_dict()
        fusion["weights"] = {m: w for m, w in self.fusion.weights.items() if m in models}
        if "order" in fusion["params"]:
            fusion["params"]["order"] = [m for m in fusion["params"]["order"] if m in models]
        return Preset.from_dict(
            {**self.to_dict(), "models": {m: dict(p) for m, p in models.items()}, "fusion": fusion}
        )


def default_preset(models: tuple[str, ...] | None = None, dataset: Dataset | None = None) -> Preset:
    """The default strategy: the default models, weighted sum over min-max scores.

    With ``dataset``, models that cannot be fitted on it (``Recommender.size_problem``, e.g.
    EASE on a very large catalogue) are left out; ``unsuitable_models`` says why.
    """
    names = tuple(models or DEFAULT_MODELS)
    if dataset is not None:
        skip = unsuitable_models(names, dataset)
        names = tuple(m for m in names if m not in skip) or names
    return Preset(models={m: {} for m in names})


def unsuitable_models(names: tuple[str, ...], dataset: Dataset) -> dict[str, str]:
    """Model name -> why the default preset leaves it out on ``dataset`` (only those it does).

    ``Recommender.scale_problem``: too large to fit at all, or too slow at this size.
    """
    out = {}
    for name in names:
        problem = model_class(name).scale_problem(dataset)
        if problem is not None:
            out[name] = problem
    return out
