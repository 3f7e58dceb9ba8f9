"""``RerankConfig``: list length, exclusions, diversity, caps, novelty and rules (JSON round-trip)."""

from __future__ import annotations

from dataclasses import dataclass, field

from recsys.errors import ConfigError
from recsys.ranking.rerank.exclusions import EXCLUDE_MODES
from recsys.ranking.rerank.rules import Rule


@dataclass
class RerankConfig:
    """Re-ranking knobs.

    k : list length. exclude : ``seen`` | ``purchased`` | ``none`` (applied at pool build).
    repurchasable_categories : categories exempt from exclusion.
    mmr_lambda : 1 = pure relevance, 0 = pure diversity (MMR over content vectors).
    category_cap, brand_cap : at most N items of one category / brand per list (None = off).
    novelty : gamma >= 0, ``score - gamma * log1p(pop) / log1p(max pop)``.
    rules : ``Rule`` list, applied in order within their kind.
    diversity_depth : T, candidates the greedy MMR / cap selection looks at (default max(3k, 50)).
    """

    k: int = 10
    exclude: str = "seen"
    repurchasable_categories: list = field(default_factory=list)
    mmr_lambda: float = 1.0
    category_cap: int | None = None
    brand_cap: int | None = None
    novelty: float = 0.0
    rules: list[Rule] = field(default_factory=list)
    diversity_depth: int | None = None

    def __post_init__(self) -> None:
        try:
            self.k = int(self.k)
        except (TypeError, ValueError):
            raise ConfigError("the list length k must be a whole number.") from None
        if self.k < 1:
            raise ConfigError("the list length k must be at least 1.")
        if self.exclude not in EXCLUDE_MODES:
            raise ConfigError(
                f"unknown exclusion mode '{self.exclude}'. Known: {', '.join(EXCLUDE_MODES)}."
            )
        self.mmr_lambda = float(self.mmr_lambda)
        if not 0.0 <= self.mmr_lambda <= 1.0:
            raise ConfigError("the diversity knob (MMR lambda) must be between 0 and 1.")
        for name in ("category_cap", "brand_cap", "diversity_depth"):
            v = getattr(self, name)
            if v is not None:
                if int(v) < 1:
                    raise ConfigError(
                        f"{name.replace('_', ' ')} must be at least 1 (or empty for no limit)."
                    )
                setattr(self, name, int(v))
        self.novelty = float(self.novelty)
        if not self.novelty >= 0:
            raise ConfigError("the novelty knob must be zero or positive.")
        self.rules = [r if isinstance(r, Rule) else Rule.from_dict(r) for r in self.rules]
        self.repurchasable_categories = list(self.repurchasable_categories)

    def to_dict(self) -> dict:
        """JSON-safe dict (the preset's ``rerank`` block)."""
        return {
            "k": self.k,
            "exclude": self.exclude,
            "repurchasable_categories": list(self.repurchasable_categories),
            "mmr_lambda": self.mmr_lambda,
            "category_cap": self.category_cap,
            "brand_cap": self.brand_cap,
            "novelty": self.novelty,
            "rules": [r.to_dict() for r in self.rules],
            "diversity_depth": self.diversity_depth,
        }

    @classmethod
    def from_dict(cls, data: dict) -> RerankConfig:
        """Inverse of :meth:`to_dict`; unknown keys raise ``ConfigError``."""
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(
                f"unknown re-ranking setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}."
            )
        return cls(**data)
