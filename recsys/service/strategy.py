"""The default strategy chosen on validation: the tuned blend, learning to rank or one model.

``recsys.service.training.choose_strategy`` makes the choice; it never looks at the test part. On the validation stage's users (its lab sample at
large sizes) three candidates are scored with the objective metric:

* ``blend``: the preset's fusion with weights tuned on validation (``Run.autotune``);
* ``ltr``: learning to rank, scored out of fold (each user by a ranker that never saw them);
* the best single model.

The winner becomes the run's fusion; the run reports all three, and the test figures of each,
so a user can see whether the choice generalised.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from recsys.ranking.fusion import FusionConfig

BLEND, LTR = "blend", "ltr"


@dataclass
class StrategyChoice:
    """Which strategy won on validation, and by how much.

    Attributes
    ----------
    winner : ``blend``, ``ltr`` or the name of a single model.
    objective : the metric compared (e.g. ``ndcg@10``).
    scores : candidate -> objective on the validation users.
    best_model : the best single model on validation.
    n_users : validation users compared.
    blend_weights : the blend's weights tuned on validation (kept whatever won).
    """

    winner: str
    objective: str
    scores: dict[str, float] = field(default_factory=dict)
    best_model: str = ""
    n_users: int = 0
    blend_weights: dict[str, float] = field(default_factory=dict)

    @property
    def margin(self) -> float:
        """Relative gain of the winner over the runner-up (0.05 = 5 % better)."""
        ranked = sorted(self.scores.values(), reverse=True)
        if len(ranked) < 2 or ranked[1] <= 0:
            return 0.0
        return ranked[0] / ranked[1] - 1.0

    def fusion(self, base: FusionConfig, model_names: list[str]) -> FusionConfig:
        """The fusion config of the winner, starting from ``base`` (the tuned blend)."""
        if self.winner == BLEND:
            return base
        if self.winner == LTR:
            return replace(base, method=LTR)
        weights = {m: 1.0 if m == self.winner else 0.0 for m in model_names}
        return FusionConfig("weighted", base.normalization, weights)

    def to_dict(self) -> dict:
        """JSON-safe dict (saved with the run)."""
        return {
            "winner": self.winner,
            "objective": self.objective,
            "scores": dict(self.scores),
            "best_model": self.best_model,
            "n_users": self.n_users,
            "blend_weights": dict(self.blend_weights),
        }

    @classmethod
    def from_dict(cls, data: dict) -> StrategyChoice:
        """Inverse of :meth:`to_dict`."""
        return cls(
            winner=str(data["winner"]),
            objective=str(data["objective"]),
            scores={str(k): float(v) for k, v in dict(data.get("scores", {})).items()},
            best_model=str(data.get("best_model", "")),
            n_users=int(data.get("n_users", 0)),
            blend_weights={
                str(k): float(v) for k, v in dict(data.get("blend_weights", {})).items()
            },
        )
