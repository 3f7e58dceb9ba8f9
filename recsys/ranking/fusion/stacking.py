"""Stacking: a classifier learns on the validation pool how to combine the models' scores.

Wolpert, "Stacked generalization", 1992.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, clone

from recsys.data.sparse_lookup import lookup
from recsys.errors import ConfigError
from recsys.ranking.candidates import CandidatePool
from recsys.ranking.fusion.base import FusionContext


def stacking_untrained(
    pool: CandidatePool, w: np.ndarray, normalization: str, params: dict
) -> np.ndarray:
    """What stacking does without a trained model: refuse in plain words."""
    raise ConfigError("stacking needs a trained stacker: train it on a validation split first.")


class StackingFuser(BaseEstimator):
    """Learned fusion: a classifier over per-model pool features predicts "the user will interact".

    Features per pooled (user, item): for each model its minmax-normalised score (0 if missing),
    its pool rank / pool size (1 if missing) and a missing indicator; plus ``log1p`` item
    popularity and ``log1p`` user activity. Label: the item is in the user's validation truth.
    Trained on all positives and ``neg_ratio`` x as many negatives sampled uniformly (seeded).
    Wolpert, "Stacked generalization", 1992.

    Parameters
    ----------
    estimator : "logistic" (scaled LogisticRegression), "hgb" (HistGradientBoostingClassifier)
        or any sklearn classifier with ``predict_proba``.
    neg_ratio : negatives sampled per positive.
    max_samples : cap on training rows.
    random_state : seed of the negative sampling (and of the estimator when it takes one).
    """

    def __init__(
        self,
        estimator="logistic",
        neg_ratio: float = 4.0,
        max_samples: int = 200_000,
        random_state: int = 0,
    ):
        self.estimator = estimator
        self.neg_ratio = neg_ratio
        self.max_samples = max_samples
        self.random_state = random_state

    def _make_estimator(self):
        if self.estimator == "logistic":
            from sklearn.linear_model import LogisticRegression
            from sklearn.pipeline import make_pipeline
            from sklearn.preprocessing import StandardScaler

            return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
        if self.estimator == "hgb":
            from sklearn.ensemble import HistGradientBoostingClassifier

            return HistGradientBoostingClassifier(max_iter=100, random_state=self.random_state)
        if isinstance(self.estimator, str):
            raise ConfigError(
                f"unknown stacking estimator '{self.estimator}'. Known: logistic, hgb."
            )
        return clone(self.estimator)

    @staticmethod
    def features(pool: CandidatePool, context: FusionContext | None = None) -> np.ndarray:
        """(n, C, 3 * n_models + 2) float32 features of every pooled cell."""
        norm = pool.normalized("minmax", fill=0.0)
        missing = np.isnan(pool.scores)
        size = np.maximum(pool.valid.sum(axis=1), 1).astype(np.float32)[None, :, None]
        rank_frac = np.where(missing, 1.0, pool.ranks / size)
        n, c = pool.items.shape
        ctx = context or FusionContext()
        pop = np.zeros((n, c), np.float32)
        if ctx.item_popularity is not None:
            pop = np.log1p(np.asarray(ctx.item_popularity, np.float32)[np.maximum(pool.items, 0)])
        act = np.zeros((n, c), np.float32)
        if ctx.user_activity is not None:
            act = np.broadcast_to(
                np.log1p(np.asarray(ctx.user_activity, np.float32)[pool.users])[:, None], (n, c)
            )
        parts = [*norm, *rank_frac, *missing.astype(np.float32), pop, act]
        return np.stack(parts, axis=-1).astype(np.float32)

    def fit(
        self, pool: CandidatePool, truth_csr: sp.csr_matrix, context: FusionContext | None = None
    ) -> StackingFuser:
        """Learn from a validation pool; ``truth_csr`` (n_users, n_items) rows by user index."""
        rows, cols = np.nonzero(pool.valid)
        found, values = lookup(truth_csr, pool.users[rows], pool.items[rows, cols])
        y = found & (values != 0)
        pos = np.flatnonzero(y)
        neg = np.flatnonzero(~y)
        if len(pos) == 0 or len(neg) == 0:
            raise ConfigError(
                "stacking cannot learn: the validation interactions never (or always) fall in the "
                "candidate pool. Use more users, a larger pool, or another fusion method."
            )
        rng = np.random.default_rng(self.random_state)
        cap_pos = max(1, int(self.max_samples / (1.0 + self.neg_ratio)))
        if len(pos) > cap_pos:
            pos = rng.choice(pos, cap_pos, replace=False)
        n_neg = min(len(neg), max(1, int(round(self.neg_ratio * len(pos)))))
        neg = rng.choice(neg, n_neg, replace=False)
        pick = np.concatenate([pos, neg])
        x = self.features(pool, context)[rows[pick], cols[pick]]
        self.estimator_ = self._make_estimator().fit(x, y[pick].astype(np.int8))
        self.model_names_ = pool.model_names
        self.n_train_ = len(pick)
        self.positive_rate_ = float(len(pos) / len(pick))
        return self

    def predict(self, pool: CandidatePool, context: FusionContext | None = None) -> np.ndarray:
        """(n, C) float32 probability of interaction; -inf on padding."""
        if not hasattr(self, "estimator_"):
            raise ConfigError(
                "the stacking model is not trained yet: train it on a validation split first."
            )
        if tuple(pool.model_names) != tuple(self.model_names_):
            raise ConfigError(
                f"the stacking model was trained on models {', '.join(self.model_names_)}, "
                f"but this pool has {', '.join(pool.model_names)}: retrain it."
            )
        n, c = pool.items.shape
        out = np.full((n, c), -np.inf, np.float32)
        rows, cols = np.nonzero(pool.valid)
        if len(rows):
            x = self.features(pool, context)[rows, cols]
            out[rows, cols] = self.estimator_.predict_proba(x)[:, 1]
        return out
