"""EASE, the embarrassingly shallow autoencoder (Steck 2019, arXiv:1905.03375)."""

from __future__ import annotations

import threading
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp
from scipy.linalg import blas, lapack
from threadpoolctl import threadpool_limits

from recsys.data.dataset import Dataset
from recsys.errors import ConfigError
from recsys.models.base import (
    SEED_RANGE,
    ParamRange,
    ProgressCallback,
    Recommender,
    history_row,
    pair_values,
)
from recsys.models.holdout import holdout_ndcg, inner_holdout
from recsys.models.sparse_kernels import csr_dense
from recsys.ranking.row_product import PanelMatrix, RowProduct

#: Largest number of items *with interactions* EASE accepts (dense n x n solve, see EASE).
MAX_ITEMS = 20_000
#: Candidate λ as multiples of the Gram's mean diagonal (the mean item popularity for binary
#: data), in increasing order; ``l2="auto"`` walks from ``L2_FACTORS[_START]`` towards the
#: better neighbour, stops at the first step that does not improve the holdout NDCG@10, then
#: tries once halfway (log scale) between the best and its better neighbour.
L2_FACTORS: tuple[float, ...] = (0.25, 1.0, 4.0, 16.0, 64.0, 256.0)
_START = 2
#: Users scored per λ trial (a seeded sample beyond this; each costs ``2 n²`` flops).
MAX_HOLDOUT_USERS = 5_000
#: Dense cells per Gram block when the sparse product is made dense.
_BLOCK_CELLS = 16_000_000
#: Held while a model's panel copy of ``B`` is built (once; blocks score on several threads).
_PANELS_LOCK = threading.Lock()


def fit_memory_bytes(n_items: int) -> int:
    """Peak bytes of one fit over ``n_items`` items with interactions: ``12 n²``.

    The float64 Gram inverted in place plus the float32 ``B``; the λ search peaks at ``8 n²``.
    """
    return 12 * n_items * n_items


class EASE(Recommender):
    r"""Item-item linear model with a closed form.

    With ``X`` the (n_users, n_items) user-item matrix (binary by default) and
    ``P = (XᵀX + λI)⁻¹``, the weights are

    .. math:: B = I - P \, \mathrm{diagMat}(1 / \mathrm{diag}(P)), \qquad \mathrm{diag}(B) = 0,

    the minimiser of ``‖X - XB‖² + λ‖B‖²`` under ``diag(B) = 0``. Scores: ``x_u @ B``, which
    also scores an ad-hoc history (cold or what-if users). Only items with interactions enter
    the solve; the others have zero rows and columns in ``B`` (exactly what the full solve
    gives them) and score 0.

    ``l2="auto"`` picks ``λ = f · mean(diag(XᵀX))`` with ``f`` from ``L2_FACTORS`` by NDCG@10
    on a per-user holdout carved from the given data (``recsys.models.holdout``): one Gram,
    one float32 Cholesky inverse per tried ``f`` (usually 4-5: the walk plus one refinement;
    float32 gave the same holdout NDCG as float64 to 5 decimals on MovieLens), then the
    float64 refit on all the data with the chosen ``f``, so λ keeps its size relative to
    the data. ``l2_trials_`` keeps ``{f: NDCG@10}``, ``l2_`` the λ used.

    Memory and time: with ``n`` items that have interactions, a fit peaks at about
    ``12 · n²`` bytes (float64 Gram inverted in place, plus ``B``) and the fitted model keeps
    ``B`` as float32, ``4 · n²`` bytes: 4.8 GB and 1.6 GB at ``MAX_ITEMS`` = 20,000. Batch
    top-k (``recommend``) adds a panel copy of ``B``, another ``4 · n²``.
    More items raise ``ConfigError`` (use ``rp3beta`` or ``item_knn``). Time grows as ``n³``.

    Parameters
    ----------
    l2 : ``λ`` (> 0), or ``"auto"`` to choose it on the inner holdout.
    binary : fit on 1 per pair (Steck's setting) instead of ``log1p(weight)``.
    random_state : seeds the inner holdout's tie-breaking.
    """

    name: ClassVar[str] = "ease"

    @classmethod
    def fit_cost(cls, dataset: Dataset, params: dict | None = None) -> float:
        """Estimated fit seconds: the Gram inverse dominates.

        ~8e-9 s x items^3 (1 s at 500 items, measured), plus the λ search on a holdout (about
        as much again).
        """
        return 1.6e-8 * float(dataset.n_items) ** 3 + 1e-5 * len(dataset.interactions)

    label: ClassVar[str] = "EASE (item-item regression)"
    handles_cold_users: ClassVar[bool] = True
    #: ``_top_k`` makes no dense block and reads ``B`` once a block: blocks are large.
    top_k_block: ClassVar[int] = 2048
    param_ranges: ClassVar[dict[str, ParamRange]] = {
        "l2": ParamRange(1e-6, 1e9, words=("auto",)),
        "random_state": SEED_RANGE,
    }
    state_fields: ClassVar[dict[str, str]] = {
        "l2_trials_": "float_map",
        "item_weights_": "array",
        "active_items_": "array",
        "user_rows_": "csr",
        "l2_": "float",
    }

    def __init__(
        self, l2: float | str = "auto", binary: bool = True, random_state: int = 0
    ) -> None:
        self.l2 = l2
        self.binary = binary
        self.random_state = random_state

    @classmethod
    def memory_need(
        cls, n_users: int, n_items: int, n_pairs: int, params: dict | None = None
    ) -> tuple[int, int]:
        """``12 n²`` bytes at the fit's peak, ``4 n²`` (``B``) plus the user rows kept.

        ``recommend`` adds a panel copy of ``B`` (``4 n²``); the studio's pools and exports
        do not use it.
        """
        kept = 4 * n_items * n_items + 12 * n_pairs
        return fit_memory_bytes(n_items) + 12 * n_pairs, kept

    @classmethod
    def size_problem(cls, dataset: Dataset) -> str | None:
        """EASE's dense item-by-item solve: too many items with interactions is refused."""
        return size_problem(int((dataset.item_popularity() > 0).sum()))

    # ------------------------------------------------------------------ fit
    def _fit(self, dataset: Dataset, progress: ProgressCallback) -> None:
        auto = isinstance(self.l2, str)
        if auto and self.l2 != "auto":
            raise ConfigError(f"ease l2 must be a positive number or 'auto', not '{self.l2}'.")
        if not auto and not float(self.l2) > 0:
            raise ConfigError("ease l2 must be a positive number (or 'auto').")
        active = np.flatnonzero(dataset.item_popularity() > 0).astype(np.int32)
        check_size(len(active))
        self.l2_trials_: dict[float, float] = {}
        factor = self._search(dataset, progress) if auto else None  # before the full Gram
        x = pair_values(dataset.matrix("weight"), self.binary)[:, active]
        gram = _gram(x, np.float64)
        l2 = float(self.l2) if factor is None else factor * _mean_diagonal(gram)
        progress(0.9, f"solving {len(active):,} items with λ = {l2:.4g}")
        self.item_weights_ = _weights(_inverse_upper(gram, l2))
        self.active_items_ = active
        self.user_rows_ = x
        self.l2_ = l2
        progress(1.0, f"λ = {l2:.4g}")

    def _search(self, dataset: Dataset, progress: ProgressCallback) -> float:
        """The ``L2_FACTORS`` entry with the best holdout NDCG@10 (walk, see the class doc)."""
        holdout = inner_holdout(dataset, seed=int(self.random_state), max_users=MAX_HOLDOUT_USERS)
        active = np.flatnonzero(holdout.train.item_popularity() > 0)
        if len(holdout.users) == 0 or len(active) == 0:
            return L2_FACTORS[_START]
        x = pair_values(holdout.train.matrix("weight"), self.binary)[:, active]
        gram = _gram(x, np.float32)
        scale = _mean_diagonal(gram)

        def score(users: np.ndarray, p: np.ndarray) -> np.ndarray:
            out = np.zeros((len(users), dataset.n_items), np.float32)
            out[:, active] = _scores_upper(x[users], p)
            return out

        def trial(f: float) -> float:
            if f not in self.l2_trials_:
                p = _inverse_upper(gram.copy(order="F"), f * scale)
                self.l2_trials_[f] = holdout_ndcg(lambda u: score(u, p), holdout)
                progress(
                    min(0.8, 0.15 * len(self.l2_trials_)),
                    f"λ = {f:.3g} × mean popularity: NDCG@10 {self.l2_trials_[f]:.4f}",
                )
            return self.l2_trials_[f]

        grid = L2_FACTORS
        best = _START
        for step in (1, -1):
            i = best
            while 0 <= i + step < len(grid) and trial(grid[i + step]) > trial(grid[i]):
                i += step
            if i != best:
                best = i
                break
        tried = [
            j for j in (best - 1, best + 1) if 0 <= j < len(grid) and grid[j] in self.l2_trials_
        ]
        if tried:  # one refinement: halfway (log scale) towards the better neighbour
            other = max(tried, key=lambda j: self.l2_trials_[grid[j]])
            trial(float(np.sqrt(grid[best] * grid[other])))
        return max(self.l2_trials_, key=self.l2_trials_.__getitem__)

    # ------------------------------------------------------------------ scoring
    def _expand(self, active_scores: np.ndarray) -> np.ndarray:
        """(b, n_active) -> (b, n_items) float32, zeros for items without interactions."""
        if len(self.active_items_) == self.n_items_:
            return np.asarray(active_scores, np.float32)
        out = np.zeros((active_scores.shape[0], self.n_items_), np.float32)
        out[:, self.active_items_] = active_scores
        return out

    def _score_items(self, user_idx: np.ndarray) -> np.ndarray:
        return self._expand(csr_dense(self.user_rows_[user_idx], self.item_weights_))

    def _top_k(
        self, block: np.ndarray, k: int, exclude_rows: sp.csr_matrix | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The top-k of the block's rows times ``B`` without its dense scores (``RowProduct``).

        The first call builds ``B``'s panel copy (another ``4 n²`` bytes, kept while the model
        is). Lists and scores are those of ``score_items`` then ``top_k_indices``.
        """
        return RowProduct(self.user_rows_[block], self._panels()).top(k, exclude_rows)

    def _panels(self) -> PanelMatrix:
        with _PANELS_LOCK:
            known = getattr(self, "_panel_cache", None)
            if known is None or known[0] is not self.item_weights_:
                panels = PanelMatrix.of(self.item_weights_, self.active_items_, self.n_items_)
                known = self._panel_cache = (self.item_weights_, panels)
        return known[1]

    def __getstate__(self) -> dict[str, Any]:
        """The pickled state, without the panel copy (rebuilt on first use)."""
        state = dict(super().__getstate__())
        state.pop("_panel_cache", None)
        return state

    def _score_history(self, item_idx: np.ndarray, weights: np.ndarray) -> np.ndarray:
        row = pair_values(history_row(item_idx, weights, self.n_items_), self.binary)
        return self._expand(csr_dense(row[:, self.active_items_], self.item_weights_))[0]


def check_size(n_items: int) -> None:
    """Raise ``ConfigError`` with a plain message when ``n_items`` exceeds ``MAX_ITEMS``."""
    problem = size_problem(n_items)
    if problem is not None:
        raise ConfigError(problem)


def size_problem(n_items: int) -> str | None:
    """The plain reason EASE cannot take ``n_items`` items with interactions, or None."""
    if n_items > MAX_ITEMS:
        return (
            f"EASE needs a dense item-by-item matrix: {n_items:,} items with interactions would "
            f"take about {fit_memory_bytes(n_items) / 1e9:.1f} GB of memory to fit, over the "
            f"limit of {MAX_ITEMS:,} items ({fit_memory_bytes(MAX_ITEMS) / 1e9:.1f} GB). Use "
            "rp3beta or item_knn for a catalogue this large."
        )
    return None


# ---------------------------------------------------------------------- linear algebra
def _gram(x: sp.csr_matrix, dtype: type) -> np.ndarray:
    """(n_items, n_items) ``XᵀX`` of ``dtype``, Fortran-ordered, built by blocks of rows."""
    x = sp.csr_matrix(x, dtype=dtype)
    xt = x.T.tocsr()
    n = x.shape[1]
    g = np.empty((n, n), dtype)
    block = max(1, _BLOCK_CELLS // max(n, 1))
    for start in range(0, n, block):
        g[start : start + block] = (xt[start : start + block] @ x).toarray()
    return g.T  # symmetric: the transposed view is the same matrix, Fortran-ordered


def _mean_diagonal(gram: np.ndarray) -> float:
    mean = float(np.diagonal(gram).mean()) if gram.size else 0.0
    return mean if mean > 0 else 1.0


def _inverse_upper(g: np.ndarray, l2: float) -> np.ndarray:
    """``(G + l2·I)⁻¹`` in place on Fortran-ordered ``g`` (n, n).

    Cholesky (potrf + potri) in the precision of ``g``. Only the upper triangle of the result
    is valid.
    """
    potrf, potri = lapack.get_lapack_funcs(("potrf", "potri"), (g,))
    g[np.diag_indices_from(g)] += l2
    # One BLAS thread: OpenBLAS's threaded potrf/potri ran 6-40x slower than one thread on
    # the 2-core development machine (1,682 to 7,000 items, float32 and float64).
    with threadpool_limits(limits=1, user_api="blas"):
        c, info = potrf(g, lower=0, overwrite_a=1, clean=0)
        if info == 0:
            c, info = potri(c, lower=0, overwrite_c=1)
    if info != 0:
        raise ConfigError(f"EASE could not invert the item matrix (LAPACK info {info}).")
    return c


def _scores_upper(x_rows: sp.csr_matrix, p: np.ndarray) -> np.ndarray:
    """(b, n_items) float32 ``X B`` from the upper triangle of ``P``, ``B`` never formed.

    ``X B = X - (X P) / diag(P)``.
    """
    xd = np.asfortranarray(x_rows.toarray(), dtype=p.dtype)
    xp = blas.get_blas_funcs("symm", (p,))(1.0, p, xd, side=1, lower=0)
    xp /= np.diagonal(p)[None, :]
    return (xd - xp).astype(np.float32)


def _weights(p: np.ndarray, block: int = 1024) -> np.ndarray:
    """(n, n) float32 ``B = I - P diagMat(1/diag(P))`` (zero diagonal).

    Built from the upper triangle of ``P``; ``P`` is overwritten.
    """
    n = p.shape[0]
    for start in range(0, n, block):  # copy the upper triangle onto the lower one
        stop = min(start + block, n)
        d = p[start:stop, start:stop]
        d[...] = np.triu(d) + np.triu(d, 1).T
        p[stop:, start:stop] = p[start:stop, stop:].T
    diag = np.diagonal(p).copy()
    p /= -diag[None, :]
    p[np.diag_indices_from(p)] = 0.0
    return np.ascontiguousarray(p, dtype=np.float32)


__all__ = ["EASE", "L2_FACTORS", "MAX_ITEMS", "check_size", "fit_memory_bytes"]
