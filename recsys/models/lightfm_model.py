"""LightFM hybrid matrix factorisation (Kula 2015, arXiv:1507.08439) with catalog features.

Item features: an identity feature for every item that has interactions in the training data,
plus one-hot attributes (category, brand, price band, extra columns) and the most frequent title/
description tokens (``recsys.data.features``). Each item's feature row is normalised to sum 1, so
its representation is the mean of its feature embeddings (identity weight 1/2 for warm items,
the attributes sharing the other half). Items *without* interactions get no identity feature:
an identity embedding that only ever appears as a sampled negative would just learn "unpopular";
their representation is the mean of their attribute/token embeddings, which is what lets
LightFM score cold items. User features (``use_user_features``, when ``Dataset.users`` has
attribute columns) follow the same recipe: identity for users with training interactions plus
one-hot ``column=value`` attributes, rows normalised to sum 1, so a user's representation is
half own embedding, half the mean of their attribute embeddings, and a user with attributes but
no training interactions is represented by the attributes alone. Without attributes, users get
identity features only.

Scoring is vectorised: after training we keep ``user_emb_ (n_users, d)``, ``user_bias_``,
``item_emb_ (n_items, d)``, ``item_bias_`` and compute ``U[block] @ V.T + b_item + b_user``.
Users without training interactions (untrained random embeddings) get a zero embedding, so
they are ranked by the item biases. A user known only by a history (cold / what-if) is folded
in as the weighted mean of the interacted items' embeddings (no bias), scores
``mean(V[h]) @ V.T + b_item``: simple, stable and needs no optimisation.

Loss ``logistic`` needs negatives: we sample ``n_negatives`` random unseen items per positive,
afresh each epoch.
"""

from __future__ import annotations

from typing import ClassVar, Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recsys.data.dataset import Dataset
from recsys.data.features import item_attribute_matrix, item_token_matrix
from recsys.errors import ConfigError
from recsys.models.base import (
    LARGE_LOG_PAIRS,
    SEED_RANGE,
    ParamRange,
    ProgressCallback,
    Recommender,
)
from recsys.models.holdout import holdout_ndcg, inner_holdout


class LightFMRecommender(Recommender):
    """Base of the LightFM family; the subclasses fix the loss.

    Parameters
    ----------
    no_components : embedding size ``d``.
    loss : ``warp``, ``bpr``, ``logistic`` or ``warp-kos`` (fixed by each subclass).
    learning_rate, epochs, item_alpha, user_alpha, max_sampled, k : as in ``lightfm.LightFM``
        (``k``: the k-th positive for ``warp-kos``).
    use_item_features : add catalog features to the identity features (enables cold items).
    use_user_features : add one-hot user attributes (``Dataset.users``) to the user identity
        features when the dataset has any.
    user_feature_share : share of the attributes in the feature row of a user with training
        interactions (identity gets the rest); users without interactions use attributes only.
    max_text_features : number of text tokens used as item features (0: none).
    max_token_share : text tokens found in more than this share of the items are not features
        (words most titles share say little and cost a lot). 0.05 by default: on the validation
        stage NDCG@10 rose from 0.0914 / 0.0688 / 0.1019 (all tokens) to 0.0976 / 0.0718 /
        0.1032 on a 943 x 1,682 generated store, the demo store and MovieLens, and the fit took
        a third of the CPU (18.5 s -> 5.7 s on the generated store).
    interaction_weight : ``"log1p"`` (sample weight ``log1p(weight)``) or ``"binary"``;
        ``warp-kos`` ignores sample weights.
    n_negatives : sampled negatives per positive for the logistic loss.
    early_stopping : choose the number of epochs on a per-user holdout carved from the given
        data (``recsys.models.holdout``): train there epoch by epoch up to ``epochs``, score
        NDCG@10 after each, stop once ``patience`` epochs pass without a new best (never
        before ``min_epochs``), then train on all the data for the best epoch count. Off by
        default: on the validation stage of MovieLens latest-small, the demo store and a
        943 x 1,682 generated store it was no better than a fixed 30 epochs (within noise,
        worse on the generated store) for 1.3-2.2x the CPU. It guards against a too-large
        ``epochs``: on the demo store NDCG@10 was 0.0612 after 50 fixed epochs, 0.0687 with
        early stopping (at most 50), 0.0702 at the best fixed count (20).
    epochs : the number of epochs, or with ``early_stopping`` the most that are tried. 20 by
        default: on the validation stage (liked = rating >= 4 on MovieLens) NDCG@10 was 0.0688
        on the demo store and 0.1019 on MovieLens latest-small, against 0.0654 and 0.0992 with
        30 epochs, for 40 % less CPU (docs: ``bench --quality``).
    patience : epochs without a new best before early stopping gives up.
    min_epochs : epochs always tried first (BPR and logistic can sit on a plateau for
        several epochs before they learn).
    num_threads : LightFM's OpenMP threads. LightFM updates the shared embeddings without
        locks (Hogwild), so with more than one thread the result depends on thread timing and
        is not bitwise reproducible, even with the same ``random_state``; early stopping may
        then also pick a different epoch. Keep 1 (the default) when runs must repeat exactly.
    random_state : seed.
    """

    name: ClassVar[str] = "lightfm"
    fit_seconds_per_kpair: ClassVar[float] = 0.5
    cost_params: ClassVar[tuple[str, ...]] = ("epochs",)
    label: ClassVar[str] = "LightFM"
    handles_cold_users: ClassVar[bool] = True
    handles_cold_items: ClassVar[bool] = True
    loss_name: ClassVar[str] = "warp"
    param_ranges: ClassVar[dict[str, ParamRange]] = {
        "no_components": ParamRange(1, 512, integer=True),
        "learning_rate": ParamRange(1e-6, 10),
        "epochs": ParamRange(1, 1000, integer=True),
        "item_alpha": ParamRange(0, 10),
        "user_alpha": ParamRange(0, 10),
        "user_feature_share": ParamRange(0.001, 0.999),
        "max_text_features": ParamRange(0, 10_000, integer=True),
        "max_token_share": ParamRange(0.001, 1),
        "n_negatives": ParamRange(0, 100, integer=True),
        "num_threads": ParamRange(1, 256, integer=True),
        "max_sampled": ParamRange(1, 10_000, integer=True),
        "k": ParamRange(1, 1000, integer=True),
        "random_state": SEED_RANGE,
        "patience": ParamRange(1, 1000, integer=True),
        "min_epochs": ParamRange(1, 1000, integer=True),
    }
    state_fields: ClassVar[dict[str, str]] = {
        "best_epochs_": "int",
        "epoch_scores_": "float_list?",
        "feature_names_": "strs",
        "user_emb_": "array",
        "user_bias_": "array",
        "item_emb_": "array",
        "item_bias_": "array",
    }
    #: The LightFM object itself: kept after ``fit`` (the benchmark times its ``predict``),
    #: never stored; scoring reads the embeddings only.
    transient_fields: ClassVar[frozenset[str]] = frozenset({"model_"})
    factor_param: ClassVar[str | None] = "no_components"
    fit_bytes_per_pair: ClassVar[float] = 60.0

    def __init__(
        self,
        no_components: int = 32,
        loss: str | None = None,
        learning_rate: float = 0.05,
        epochs: int = 20,
        item_alpha: float = 0.0,
        user_alpha: float = 0.0,
        use_item_features: bool = True,
        use_user_features: bool = True,
        user_feature_share: float = 0.1,
        max_text_features: int = 300,
        max_token_share: float = 0.05,
        interaction_weight: Literal["log1p", "binary"] = "log1p",
        n_negatives: int = 1,
        num_threads: int = 1,
        max_sampled: int = 10,
        k: int = 5,
        random_state: int = 0,
        early_stopping: bool = False,
        patience: int = 5,
        min_epochs: int = 10,
    ) -> None:
        self.no_components = no_components
        self.loss = loss
        self.learning_rate = learning_rate
        self.epochs = epochs
        self.item_alpha = item_alpha
        self.user_alpha = user_alpha
        self.use_item_features = use_item_features
        self.use_user_features = use_user_features
        self.user_feature_share = user_feature_share
        self.max_text_features = max_text_features
        self.max_token_share = max_token_share
        self.interaction_weight = interaction_weight
        self.n_negatives = n_negatives
        self.num_threads = num_threads
        self.max_sampled = max_sampled
        self.k = k
        self.random_state = random_state
        self.early_stopping = early_stopping
        self.patience = patience
        self.min_epochs = min_epochs

    # ------------------------------------------------------------------ features
    def _item_features(self, dataset: Dataset) -> tuple[sp.csr_matrix | None, list[str]]:
        """(n_items, n_features) row-stochastic item features, or None for identity only."""
        if not self.use_item_features:
            return None, []
        warm = dataset.item_popularity() > 0
        ident = sp.diags(warm.astype(np.float32), format="csr")
        attrs, a_names = item_attribute_matrix(dataset)
        tokens, t_names = item_token_matrix(
            dataset, max_features=int(self.max_text_features), max_share=float(self.max_token_share)
        )
        side = sp.hstack([attrs, tokens], format="csr", dtype=np.float32)
        side_sum = np.asarray(side.sum(axis=1)).ravel()
        side = (
            sp.diags(np.divide(1.0, side_sum, out=np.zeros_like(side_sum), where=side_sum > 0))
            @ side
        )
        # warm items: identity 1 + side features summing to 1 (if any), then rows sum to 1
        feats = sp.hstack([ident, side], format="csr", dtype=np.float32)
        total = np.asarray(feats.sum(axis=1)).ravel()
        feats = sp.diags(np.divide(1.0, total, out=np.zeros_like(total), where=total > 0)) @ feats
        names = [f"item={i}" for i in dataset.item_ids.external_ids] + a_names + t_names
        return sp.csr_matrix(feats, dtype=np.float32), names

    def _user_features(self, dataset: Dataset) -> sp.csr_matrix | None:
        """(n_users, n_users + n_attribute_values) row-stochastic user features, or None.

        None (LightFM's identity) when ``use_user_features`` is off or the dataset has no user
        attributes. Identity columns are set only for users with training interactions.
        """
        if not getattr(self, "use_user_features", True):
            return None
        attrs = user_attribute_matrix(dataset)
        if attrs.shape[1] == 0 or attrs.nnz == 0:
            return None
        share = float(getattr(self, "user_feature_share", 0.1))
        if not 0.0 < share < 1.0:
            raise ConfigError("user_feature_share must be between 0 and 1 (exclusive).")
        warm = dataset.user_activity() > 0
        ident = sp.diags(warm.astype(np.float32) * np.float32(1.0 - share), format="csr")
        side_sum = np.asarray(attrs.sum(axis=1)).ravel()
        # attributes sum to `share` (to 1 after the final normalisation for cold users)
        scale = np.divide(share, side_sum, out=np.zeros_like(side_sum), where=side_sum > 0)
        side = sp.diags(scale) @ attrs
        feats = sp.hstack([ident, side], format="csr", dtype=np.float32)
        total = np.asarray(feats.sum(axis=1)).ravel()
        feats = sp.diags(np.divide(1.0, total, out=np.zeros_like(total), where=total > 0)) @ feats
        return sp.csr_matrix(feats, dtype=np.float32)

    def _interactions(self, dataset: Dataset) -> tuple[sp.coo_matrix, sp.coo_matrix | None]:
        """Binary positives and aligned sample weights (None for warp-kos)."""
        x = dataset.matrix("weight").tocoo()
        pos = sp.coo_matrix((np.ones(x.nnz, np.float32), (x.row, x.col)), shape=x.shape)
        if self._loss() == "warp-kos":
            return pos, None
        if self.interaction_weight == "binary":
            w = np.ones(x.nnz, np.float32)
        elif self.interaction_weight == "log1p":
            w = np.log1p(x.data).astype(np.float32)
        else:
            raise ConfigError(
                f"interaction_weight must be 'log1p' or 'binary', not '{self.interaction_weight}'."
            )
        return pos, sp.coo_matrix((w, (x.row, x.col)), shape=x.shape)

    def _loss(self) -> str:
        loss = self.loss or self.loss_name
        if loss not in ("warp", "bpr", "logistic", "warp-kos"):
            raise ConfigError(f"unknown LightFM loss '{loss}'.")
        return loss

    # ------------------------------------------------------------------ fit
    @classmethod
    def scale_problem(cls, dataset: Dataset) -> str | None:
        """Above ``LARGE_LOG_PAIRS`` pairs the epochs take too long for the default preset."""
        if len(dataset.interactions) > LARGE_LOG_PAIRS:
            return (
                "one LightFM epoch over 9.2M pairs took 3 min of CPU (1M users x 100k items, "
                "2 cores): 20 epochs would take an hour per fit"
            )
        return super().scale_problem(dataset)

    def _fit(self, dataset: Dataset, progress: ProgressCallback) -> None:
        if self.epochs < 1:
            raise ConfigError("epochs must be at least 1.")
        epochs = int(self.epochs)
        share = 0.0
        if self.early_stopping:
            epochs = self._best_epochs(dataset, progress)
            share = 0.5
        self.best_epochs_ = epochs

        def report(epoch: int, _model, _features) -> bool:
            progress(share + (1 - share) * epoch / epochs, f"epoch {epoch}/{epochs}")
            return False

        model, (user_features, item_features, names) = self._train(dataset, epochs, report)
        user_emb, user_bias, item_emb, item_bias = _representations(
            model, dataset, user_features, item_features
        )
        if not np.isfinite(user_emb).all() or not np.isfinite(item_emb).all():
            raise ConfigError(
                "LightFM diverged (non-finite embeddings): lower the learning rate or add regularisation."
            )
        self.model_ = model
        self.feature_names_ = names
        self.user_emb_ = user_emb
        self.user_bias_ = user_bias
        self.item_emb_ = item_emb
        self.item_bias_ = item_bias

    def _best_epochs(self, dataset: Dataset, progress: ProgressCallback) -> int:
        """Epoch count with the best NDCG@10 on an inner holdout (see ``early_stopping``)."""
        holdout = inner_holdout(dataset, seed=int(self.random_state), max_users=5_000)
        if len(holdout.users) == 0:
            return int(self.epochs)
        patience = max(1, int(self.patience))
        scores: list[float] = []

        def validate(epoch: int, model, features) -> bool:
            u, ub, v, vb = _representations(model, holdout.train, features[0], features[1])
            scores.append(holdout_ndcg(lambda b: u[b] @ v.T + vb + ub[b, None], holdout))
            best = int(np.argmax(scores))
            progress(0.5 * epoch / int(self.epochs), f"epoch {epoch}: NDCG@10 {scores[-1]:.4f}")
            return epoch >= int(self.min_epochs) and epoch - (best + 1) >= patience

        self._train(holdout.train, int(self.epochs), validate)
        self.epoch_scores_ = scores
        return int(np.argmax(scores)) + 1

    def _train(self, dataset: Dataset, epochs: int, after_epoch):
        """LightFM trained epoch by epoch; ``after_epoch(epoch, model, features) -> stop``.

        Returns the model and ``(user_features, item_features, item feature names)``.
        """
        from lightfm import LightFM  # lazy: the registry lists models without importing it

        loss = self._loss()
        item_features, names = self._item_features(dataset)
        user_features = self._user_features(dataset)
        pos, weights = self._interactions(dataset)
        model = LightFM(
            no_components=int(self.no_components),
            k=int(self.k),
            loss=loss,
            learning_rate=float(self.learning_rate),
            item_alpha=float(self.item_alpha),
            user_alpha=float(self.user_alpha),
            max_sampled=int(self.max_sampled),
            random_state=np.random.RandomState(self.random_state),
        )
        rng = np.random.default_rng(self.random_state)
        features = (user_features, item_features, names)
        for epoch in range(1, epochs + 1):
            inter, sw = pos, weights
            if loss == "logistic":
                inter, sw = _with_negatives(pos, weights, int(self.n_negatives), rng)
            model.fit_partial(
                inter,
                user_features=user_features,
                item_features=item_features,
                sample_weight=sw,
                epochs=1,
                num_threads=int(self.num_threads),
            )
            if after_epoch(epoch, model, features):
                break
        return model, features

    # ------------------------------------------------------------------ scoring
    def _score_items(self, user_idx: np.ndarray) -> np.ndarray:
        scores = self.user_emb_[user_idx] @ self.item_emb_.T
        scores += self.item_bias_[None, :]
        scores += self.user_bias_[user_idx, None]
        return scores.astype(np.float32, copy=False)

    def _score_history(self, item_idx: np.ndarray, weights: np.ndarray) -> np.ndarray:
        if len(item_idx) == 0 or weights.sum() <= 0:
            return self.item_bias_.copy()
        profile = (weights @ self.item_emb_[item_idx]) / weights.sum()
        return (self.item_emb_ @ profile + self.item_bias_).astype(np.float32)


def _representations(
    model, dataset: Dataset, user_features: sp.csr_matrix | None, item_features
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(user_emb (n_users, d), user_bias (n_users,), item_emb (n_items, d), item_bias)``.

    All float32; users with neither training pairs nor attributes get zero embedding and bias.
    """
    item_bias, item_emb = model.get_item_representations(item_features)
    user_bias, user_emb = model.get_user_representations(user_features)
    user_emb = np.array(user_emb, np.float32)
    user_bias = np.array(user_bias, np.float32)
    inactive = dataset.user_activity() == 0
    if user_features is not None:  # users with attributes keep their attribute embedding
        inactive &= np.diff(user_features.indptr) == 0
    user_emb[inactive] = 0.0
    user_bias[inactive] = 0.0
    return (
        user_emb,
        user_bias,
        np.ascontiguousarray(item_emb, np.float32),
        np.asarray(item_bias, np.float32),
    )


def user_attribute_matrix(dataset: Dataset) -> sp.csr_matrix:
    """(n_users, n_values) binary one-hot matrix of the user attributes (``""`` = unknown).

    Columns are ``column=value`` pairs in column order, values in first-seen order.
    """
    blocks: list[sp.csr_matrix] = []
    rows = np.arange(dataset.n_users)
    for column in dataset.user_attribute_columns:
        values = dataset.users[column].astype(str).to_numpy()
        codes, uniques = pd.factorize(values)
        known = values != ""
        kept = np.flatnonzero(uniques != "")
        remap = np.full(len(uniques), -1, dtype=np.int64)
        remap[kept] = np.arange(len(kept))
        block = sp.csr_matrix(
            (np.ones(int(known.sum()), np.float32), (rows[known], remap[codes[known]])),
            shape=(dataset.n_users, len(kept)),
        )
        blocks.append(block)
    if not blocks:
        return sp.csr_matrix((dataset.n_users, 0), dtype=np.float32)
    return sp.hstack(blocks, format="csr", dtype=np.float32)


def _with_negatives(
    pos: sp.coo_matrix, weights: sp.coo_matrix | None, n_neg: int, rng: np.random.Generator
) -> tuple[sp.coo_matrix, sp.coo_matrix | None]:
    """Positives (+1) plus ``n_neg`` uniformly sampled unseen items per positive (-1)."""
    if n_neg < 1:
        return pos, weights
    n_users, n_items = pos.shape
    rows = np.repeat(pos.row, n_neg)
    cols = rng.integers(0, n_items, len(rows))
    seen = pos.tocsr()
    clash = np.asarray(seen[rows, cols]).ravel() > 0
    rows, cols = rows[~clash], cols[~clash]
    inter = sp.coo_matrix(
        (
            np.concatenate([pos.data, -np.ones(len(rows), np.float32)]),
            (np.concatenate([pos.row, rows]), np.concatenate([pos.col, cols])),
        ),
        shape=pos.shape,
    )
    inter.sum_duplicates()  # duplicated negatives collapse (value < 0 stays negative)
    if weights is None:
        return inter, None
    w = sp.coo_matrix(
        (
            np.concatenate([weights.data, np.ones(len(rows), np.float32)]),
            (np.concatenate([weights.row, rows]), np.concatenate([weights.col, cols])),
        ),
        shape=pos.shape,
    ).tocsr()
    sw = sp.coo_matrix(
        (np.asarray(w[inter.row, inter.col]).ravel(), (inter.row, inter.col)), shape=pos.shape
    )
    return inter, sw


class LightFMWarp(LightFMRecommender):
    """LightFM with the WARP loss (Weston et al. 2011): optimises the top of the ranking."""

    name: ClassVar[str] = "lightfm_warp"
    label: ClassVar[str] = "LightFM (WARP)"
    loss_name: ClassVar[str] = "warp"


class LightFMBPR(LightFMRecommender):
    """LightFM with Bayesian Personalised Ranking (Rendle et al. 2009): pairwise AUC."""

    name: ClassVar[str] = "lightfm_bpr"
    label: ClassVar[str] = "LightFM (BPR)"
    loss_name: ClassVar[str] = "bpr"


class LightFMLogistic(LightFMRecommender):
    """LightFM with the logistic loss on positives and sampled negatives."""

    name: ClassVar[str] = "lightfm_logistic"
    label: ClassVar[str] = "LightFM (logistic)"
    loss_name: ClassVar[str] = "logistic"


class LightFMWarpKOS(LightFMRecommender):
    """LightFM with k-OS WARP (Weston et al. 2013): ranks the user's k-th positive; no sample weights."""

    name: ClassVar[str] = "lightfm_warp_kos"
    label: ClassVar[str] = "LightFM (k-OS WARP)"
    loss_name: ClassVar[str] = "warp-kos"


__all__ = [
    "user_attribute_matrix",
    "LightFMBPR",
    "LightFMLogistic",
    "LightFMRecommender",
    "LightFMWarp",
    "LightFMWarpKOS",
]
