"""Learning to rank: a LightGBM LambdaRank model re-orders each user's candidate pool.

Burges, "From RankNet to LambdaRank to LambdaMART: An Overview", MSR-TR-2010-82; LightGBM
(Ke et al., NeurIPS 2017). Trained once on the validation stage's pool (labels: the validation
interactions, graded by their weight or rating), applied to the test and full pools. Switching
to it rescored no model: it reads the pool and the stage's side information only.

Features of a pooled (user, item) cell, in ``feature_names`` order:

* per model: raw score, rank in the user's pool, min-max normalised score (NaN = no score);
* ``blend``: the weighted sum of the normalised scores (the weights of the run's preset);
* ``n_retrieved``: how many models have the item in their top-M; ``pool_size`` of the user;
* ``item_popularity`` (log), ``item_recency`` (days since last interaction), ``user_activity``
  (log), and the user's ``category_affinity`` and ``brand_affinity`` (share of their history).

Explanations come from LightGBM's ``pred_contrib`` (SHAP values): each model's part is the sum
of its own features plus its share of ``blend``; the rest is ``context`` and ``base``, so the
parts add up exactly to the score.
"""

from __future__ import annotations

import re

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator

from recsys.data.sparse_lookup import lookup
from recsys.errors import ConfigError
from recsys.ranking.candidates import CandidatePool
from recsys.ranking.fusion.base import FusionContext, filled, weighted_total

#: Names of the features that are not per model, in order.
CONTEXT_FEATURES: tuple[str, ...] = (
    "blend",
    "n_retrieved",
    "pool_size",
    "item_popularity",
    "item_recency",
    "user_activity",
    "category_affinity",
    "brand_affinity",
)
#: Per-model feature kinds, in order.
MODEL_FEATURES: tuple[str, ...] = ("score", "rank", "norm")
#: Names of the explanation parts beyond the models.
EXTRA_PARTS: tuple[str, ...] = ("context", "base")


class LTRFuser(BaseEstimator):
    """LambdaRank over the candidate pool (see the module docstring).

    Parameters
    ----------
    n_estimators : boosting rounds at most (early stopping on held-out validation users).
    learning_rate, num_leaves, min_child_samples : LightGBM tree settings.
    list_size : per training user, the top candidates by ``blend`` it learns to re-order.
    max_users : training users sampled at most (users with a positive in their pool).
    early_stopping_rounds : rounds without NDCG@10 gain on the held-out 15 % before stopping.
    random_state : seed of the sampling and of LightGBM.
    n_jobs : LightGBM threads (1 by default: OpenMP threads crawl when other work shares the
        cores, e.g. other sessions of the studio; 62 s against 5 s for one fit on a busy box).
    """

    def __init__(
        self,
        n_estimators: int = 400,
        learning_rate: float = 0.05,
        num_leaves: int = 15,
        min_child_samples: int = 50,
        list_size: int = 100,
        max_users: int = 20_000,
        early_stopping_rounds: int = 40,
        random_state: int = 0,
        n_jobs: int = 1,
    ) -> None:
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.list_size = list_size
        self.max_users = max_users
        self.early_stopping_rounds = early_stopping_rounds
        self.random_state = random_state
        self.n_jobs = n_jobs

    # ------------------------------------------------------------------ features
    @staticmethod
    def feature_names(model_names: tuple[str, ...] | list[str]) -> list[str]:
        """Column names of ``features``: per-model features, then ``CONTEXT_FEATURES``."""
        per_model = [f"{_safe(m)}__{kind}" for m in model_names for kind in MODEL_FEATURES]
        return [*per_model, *CONTEXT_FEATURES]

    def features(
        self, pool: CandidatePool, rows: np.ndarray, context: FusionContext | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Features of every valid cell of the pool rows ``rows``.

        Returns
        -------
        x : (p, n_models * 3 + 8) float32, one row per valid cell (row-major order).
        cells : (p, 2) int64 (pool row, pool column) of each feature row.
        """
        rows = np.asarray(rows, dtype=np.int64)
        valid = pool.valid[rows]
        r_local, cols = np.nonzero(valid)
        r = rows[r_local]
        every = len(rows) == len(pool) and bool((rows == np.arange(len(pool))).all())
        x = self.cell_features(pool, r, cols, context, mask=valid if every else None)
        cells = np.empty((len(r), 2), np.int64)
        cells[:, 0], cells[:, 1] = r, cols
        return x, cells

    def cell_features(
        self,
        pool: CandidatePool,
        r: np.ndarray,
        cols: np.ndarray,
        context: FusionContext | None,
        mask: np.ndarray | None = None,
    ) -> np.ndarray:
        """(p, n_models * 3 + 8) float32 features of the pool cells ``(r, cols)`` (p,).

        The ``blend`` feature uses the weights captured when the model was fitted. ``mask``
        (n, C) bool, when given, holds exactly the cells ``(r, cols)`` (every pool row, in
        row-major order): the cells are then read with the mask, faster than by index.

        The matrix is written column by column into one column-major array (LightGBM reads
        either layout), so no part is copied twice; the per-user look-ups (affinities) search
        only the rows of the pool's users.
        """
        ctx = context or FusionContext()
        n_models = pool.n_models
        x = np.empty((n_models * len(MODEL_FEATURES) + len(CONTEXT_FEATURES), len(r)), np.float32)

        def cells(a: np.ndarray) -> np.ndarray:
            return a[mask] if mask is not None else a[r, cols]

        items = cells(pool.items).astype(np.int64)
        norm = pool.normalized("minmax")
        for m in range(n_models):
            x[3 * m] = cells(pool.scores[m])
            x[3 * m + 1] = cells(pool.ranks[m])
            x[3 * m + 2] = cells(norm[m])
        k = 3 * n_models
        # filled(pool, "minmax") at the cells, laid out (p, n_models) as fancy indexing gives
        # it, so that BLAS sums each cell's terms in the same order (the same bits)
        filled_norm = np.nan_to_num(np.ascontiguousarray(x[2:k:3].T), nan=0.0, copy=False)
        x[k] = self._weights(pool) @ filled_norm.T
        del filled_norm
        x[k + 1] = sum(cells(pool.retrieved[m]).astype(np.float32) for m in range(n_models))
        x[k + 2] = pool.valid.sum(axis=1).astype(np.float32)[r]
        block_users = pool.users.astype(np.int64)
        x[k + 3] = _gather_log1p(ctx.item_popularity, items)
        x[k + 4] = _gather(ctx.item_recency, items)
        x[k + 5] = _gather_log1p(ctx.user_activity, block_users)[r]
        x[k + 6] = _affinity(ctx.user_category_share, ctx.item_category, block_users, r, items)
        x[k + 7] = _affinity(ctx.user_brand_share, ctx.item_brand, block_users, r, items)
        return x.T

    # ------------------------------------------------------------------ learning
    def fit(
        self, pool: CandidatePool, truth_csr: sp.csr_matrix, context: FusionContext | None = None
    ) -> LTRFuser:
        """Learn from a validation pool; ``truth_csr`` (n_users, n_items) holds graded truth."""
        import lightgbm as lgb

        found, values = lookup(
            truth_csr, np.broadcast_to(pool.users[:, None], pool.items.shape), pool.items
        )
        positive = found & (values != 0) & pool.valid
        grade = _grades(values, positive)
        candidates = np.flatnonzero(positive.any(axis=1))
        if len(candidates) < 10:
            raise ConfigError(
                "learning to rank cannot learn: fewer than 10 validation users have an item they "
                "went on to use in their candidate pool. Use more data or a larger pool."
            )
        self.blend_weights_ = dict((context or FusionContext()).blend_weights or {})
        rng = np.random.default_rng(self.random_state)
        if len(candidates) > self.max_users:
            candidates = np.sort(rng.choice(candidates, self.max_users, replace=False))
        n_eval = max(1, int(round(0.15 * len(candidates)))) if len(candidates) >= 40 else 0
        is_eval = np.zeros(len(candidates), bool)
        is_eval[rng.choice(len(candidates), n_eval, replace=False)] = True
        keep = self._training_cells(pool, candidates)
        sets = []
        for part in (candidates[~is_eval], candidates[is_eval]):
            if len(part) == 0:
                continue
            r_local, cols = np.nonzero(keep[part])
            r = part[r_local]
            x = self.cell_features(pool, r, cols, context)
            groups = np.bincount(r_local, minlength=len(part))
            sets.append((x, grade[r, cols], groups[groups > 0]))
        self.model_names_ = tuple(pool.model_names)
        self.ranker_ = lgb.LGBMRanker(
            objective="lambdarank",
            n_estimators=self.n_estimators,
            learning_rate=self.learning_rate,
            num_leaves=self.num_leaves,
            min_child_samples=self.min_child_samples,
            subsample=0.8,
            subsample_freq=1,
            colsample_bytree=0.8,
            random_state=self.random_state,
            n_jobs=self.n_jobs,
            deterministic=True,
            force_row_wise=True,
            verbose=-1,
        )
        names = self.feature_names(self.model_names_)
        x_train, y_train, g_train = sets[0]
        fit_args: dict = {"group": g_train, "feature_name": names}
        if len(sets) > 1:
            x_eval, y_eval, g_eval = sets[1]
            fit_args.update(
                eval_X=(x_eval,),
                eval_y=(y_eval,),
                eval_group=[g_eval],
                eval_at=[10],
                callbacks=[lgb.early_stopping(self.early_stopping_rounds, verbose=False)],
            )
        self.ranker_.fit(x_train, y_train, **fit_args)
        self.best_iteration_ = int(self.ranker_.best_iteration_ or self.n_estimators)
        self.n_train_rows_ = len(x_train)
        self.n_train_users_ = len(g_train)
        return self

    def _training_cells(
        self,
        pool: CandidatePool,
        rows: np.ndarray,
    ) -> np.ndarray:
        """(n, C) bool: the cells used for training: each user's top ``list_size`` by blend.

        Positives below that cut are left out too: adding them alone would teach the ranker
        that a low blend score means "relevant" (negatives are only sampled above the cut).
        """
        keep = np.zeros(pool.items.shape, bool)
        w = self._weights(pool)
        blend = weighted_total(w, filled(pool, "minmax")[:, rows])
        blend = np.where(pool.valid[rows], blend, -np.inf)
        size = min(self.list_size, blend.shape[1])
        top = np.argpartition(-blend, size - 1, axis=1)[:, :size] if size else blend[:, :0]
        sub = keep[rows]
        np.put_along_axis(sub, top, True, axis=1)
        keep[rows] = sub & pool.valid[rows]
        return keep

    def _weights(self, pool: CandidatePool) -> np.ndarray:
        """(n_models,) weights of the ``blend`` feature (missing = 1.0)."""
        weights = getattr(self, "blend_weights_", {})
        return np.array([float(weights.get(m, 1.0)) for m in pool.model_names], np.float32)

    # ------------------------------------------------------------------ applying
    def _check(self, pool: CandidatePool) -> None:
        if not hasattr(self, "ranker_"):
            raise ConfigError(
                "the learning-to-rank model is not trained yet: train it on a validation split."
            )
        if tuple(pool.model_names) != self.model_names_:
            raise ConfigError(
                f"the learning-to-rank model was trained on models {', '.join(self.model_names_)}, "
                f"but this pool has {', '.join(pool.model_names)}: retrain it."
            )

    def predict(
        self, pool: CandidatePool, context: FusionContext | None = None, block: int = 4096
    ) -> np.ndarray:
        """(n, C) float32 ranking scores; -inf on padding. Users are scored in blocks."""
        self._check(pool)
        n, c = pool.items.shape
        out = np.full((n, c), -np.inf, np.float32)
        for start in range(0, n, block):
            x, cells = self.features(pool, np.arange(start, min(n, start + block)), context)
            if len(x):
                out[cells[:, 0], cells[:, 1]] = self.ranker_.booster_.predict(
                    x, num_iteration=self.best_iteration_
                )
        return out

    def contributions(
        self, pool: CandidatePool, context: FusionContext | None = None
    ) -> tuple[list[str], np.ndarray]:
        """Parts of the score that add up to ``predict``: each model, ``context`` and ``base``.

        Returns
        -------
        names : the pool's model names, then ``EXTRA_PARTS``.
        parts : (n_models + 2, n, C) float32; 0 on padding.
        """
        self._check(pool)
        n, c = pool.items.shape
        m = pool.n_models
        parts = np.zeros((m + len(EXTRA_PARTS), n, c), np.float32)
        x, cells = self.features(pool, np.arange(n), context)
        if len(x):
            shap = np.asarray(
                self.ranker_.booster_.predict(
                    x, num_iteration=self.best_iteration_, pred_contrib=True
                )
            )
            per_model = shap[:, : 3 * m].reshape(len(x), m, 3).sum(axis=2)  # (p, m)
            blend_part = shap[:, 3 * m]
            w = self._weights(pool)
            share = w[None, :] * filled(pool, "minmax")[:, cells[:, 0], cells[:, 1]].T  # (p, m)
            total = share.sum(axis=1, keepdims=True)
            even = np.full_like(share, 1.0 / m)
            share = np.divide(share, total, out=even, where=total > 0)
            per_model += share * blend_part[:, None]
            r, col = cells[:, 0], cells[:, 1]
            parts[:m, r, col] = per_model.T
            parts[m, r, col] = shap[:, 3 * m + 1 : -1].sum(axis=1)
            parts[m + 1, r, col] = shap[:, -1]
        return [*pool.model_names, *EXTRA_PARTS], parts


def ltr_untrained(
    pool: CandidatePool, w: np.ndarray, normalization: str, params: dict
) -> np.ndarray:
    """What learning to rank does without a trained model: refuse in plain words."""
    raise ConfigError(
        "learning to rank needs a trained model: it learns on the validation split of a run."
    )


# ---------------------------------------------------------------------- helpers
def _safe(name: str) -> str:
    """A feature-name-safe form of a model name (LightGBM refuses JSON special characters)."""
    return re.sub(r"[^A-Za-z0-9_]", "_", name)


def _gather(values: np.ndarray | None, idx: np.ndarray) -> np.ndarray:
    if values is None:
        return np.full(len(idx), np.nan, np.float32)
    return np.asarray(values, np.float32)[idx]


def _gather_log1p(values: np.ndarray | None, idx: np.ndarray) -> np.ndarray:
    return np.log1p(np.maximum(_gather(values, idx), 0.0))


def _affinity(
    share: sp.csr_matrix | None,
    label: np.ndarray | None,
    users: np.ndarray,
    rows: np.ndarray,
    items: np.ndarray,
) -> np.ndarray:
    """Share of user ``users[rows]``'s history in the label of ``items`` (NaN: label unknown).

    Only the rows of ``users`` (the pool's) are searched, not the whole user-by-label matrix.
    """
    if share is None or label is None:
        return np.full(len(rows), np.nan, np.float32)
    codes = np.asarray(label, np.int64)[items]
    _, values = lookup(sp.csr_matrix(share)[users], rows, codes)
    return np.where(codes >= 0, values, np.nan).astype(np.float32)


def _grades(values: np.ndarray, positive: np.ndarray) -> np.ndarray:
    """(n, C) int32 relevance grades 0..3 from graded truth values (0 = not relevant).

    Equal values (binary truth) give grade 1. Otherwise positives are graded 1..3 by the
    tertiles of their values (heavier events or higher ratings rank above).
    """
    grade = np.zeros(values.shape, np.int32)
    v = values[positive]
    if len(v) == 0:
        return grade
    if np.allclose(v, v[0]):
        grade[positive] = 1
        return grade
    edges = np.quantile(v, [1 / 3, 2 / 3])
    grade[positive] = 1 + np.searchsorted(edges, v, side="right").clip(0, 2)
    return grade
