"""Offline A/B comparison of two configurations evaluated on the same held-out users.

For every metric: A, B, the difference ``B - A`` and the relative difference. For per-user
metrics, two paired tests over the users both reports evaluated (NaN pairs dropped):

- paired t-test (``scipy.stats.ttest_rel``, two-sided);
- paired randomisation test (sign-flip permutation; Fisher 1935, Smucker et al. 2007):
  under H0 each user's difference ``d_u`` is as likely to be ``-d_u``; the statistic is
  ``|mean(s_u d_u)|`` over random signs ``s in {-1, +1}``, p = (1 + #{|T*| >= |T|}) / (1 + P).
  Vectorised as a ``(P, n)`` sign matrix times the differences, in chunks.

Catalogue-level metrics (coverage, distributional coverage, Gini, personalisation: one value
per configuration, computed from the lists of all users) get the same randomisation test at the
list level: under H0 each user's two lists are exchangeable, so each permutation swaps A's and
B's list for a random half of the users and recomputes the metric of both sides from the
swapped exposure counts. One user whose list alone moves coverage is not significant; a change
spread over many users is.

Every metric also gets a 95 % interval for ``B - A`` from a **paired bootstrap over users**
(Efron & Tibshirani 1993): the users are resampled with replacement ``n_boot`` times, the same
draw for A and B, and the difference is recomputed on each resample (per-user metrics: the mean
difference; catalogue metrics: from the resampled exposure counts). The interval is the
observed difference plus the 2.5 and 97.5 percentiles of the centred resampled differences: a
resample holds fewer distinct users, which lowers coverage on both sides; centring removes
that bias. ``significant`` = ``p_perm < alpha`` for every metric.

List overlap: Jaccard@k per user, ``|A_u ∩ B_u| / |A_u ∪ B_u|`` over non-padding items (1 when
both lists are empty), its histogram and the users whose lists changed most.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy import stats

from recsys.evaluation.metrics import MetricReport, catalog_metrics
from recsys.ranking.topk import TopK

#: Bootstrap resamples of the users (intervals and the catalogue metrics' test).
N_BOOT = 1000
#: Interval level.
CONFIDENCE = 0.95


@dataclass
class ABResult:
    """Outcome of ``compare``.

    Attributes
    ----------
    table : columns ``metric, a, b, diff, rel_diff, ci_low, ci_high, n_users, p_ttest, p_perm,
        significant``; ``ci_low``/``ci_high`` bound ``diff`` (95 %, paired bootstrap);
        ``p_ttest`` only for per-user metrics; one row per metric with a value in A or B.
    users : (n,) int32 users present in both lists.
    jaccard : (n,) Jaccard@k of the two lists per user, aligned with ``users``.
    jaccard_hist : columns ``bin_low, bin_high, n_users`` (10 bins over [0, 1]).
    changed : the users whose lists changed most: ``user_idx, jaccard, items_a, items_b``.
    alpha : significance level.
    """

    table: pd.DataFrame
    users: np.ndarray
    jaccard: np.ndarray
    jaccard_hist: pd.DataFrame
    changed: pd.DataFrame
    alpha: float = 0.05

    @property
    def mean_jaccard(self) -> float:
        """Mean Jaccard@k of the two lists over ``users`` (NaN when none)."""
        return float(self.jaccard.mean()) if len(self.jaccard) else float("nan")


def jaccard_at_k(items_a: np.ndarray, items_b: np.ndarray) -> np.ndarray:
    """(n,) Jaccard of row-aligned lists ``(n, k_a)`` and ``(n, k_b)``; ``-1`` is padding.

    Lists are assumed to hold no repeated item. Both empty -> 1.
    """
    a = np.asarray(items_a)
    b = np.asarray(items_b)
    va, vb = a >= 0, b >= 0
    inter = ((a[:, :, None] == b[:, None, :]) & va[:, :, None] & vb[:, None, :]).sum(axis=(1, 2))
    union = va.sum(axis=1) + vb.sum(axis=1) - inter
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(union > 0, inter / union, 1.0)


def paired_permutation_test(
    diffs: np.ndarray, n_permutations: int = 2000, seed: int = 0, max_cells: int = 5_000_000
) -> float | np.ndarray:
    """Two-sided sign-flip randomisation test of mean(d) = 0.

    Parameters
    ----------
    diffs : (n,) or (n, m) paired differences (one column per metric); NaN = user left out.
    n_permutations : random sign vectors, shared by every column.
    max_cells : the ``(P, n)`` sign matrix is drawn in chunks of at most this many cells.

    Returns
    -------
    p = (1 + #{|mean(s * d)| >= |mean(d)|}) / (1 + n_permutations), a float for 1-D input or
    (m,) for 2-D; 1.0 where every difference is 0, NaN where no difference is finite.
    A NaN difference is set to 0: a zero contributes nothing under any sign, which is the same
    as leaving that user out (the mean divides by the number of finite differences).
    """
    d = np.asarray(diffs, dtype=np.float64)
    one_d = d.ndim == 1
    d = d.reshape(len(d), 1) if one_d else d
    finite = np.isfinite(d)
    n_ok = finite.sum(axis=0)
    d = np.where(finite, d, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        observed = np.abs(d.sum(axis=0) / n_ok)
    n = len(d)
    count = np.zeros(d.shape[1], dtype=np.int64)
    active = (n_ok > 0) & np.any(d != 0, axis=0)
    if n > 0 and active.any():
        rng = np.random.default_rng(seed)
        da = d[:, active]
        tol = 1e-12 * np.maximum(1.0, np.abs(da).max(axis=0))
        chunk = max(1, min(n_permutations, max_cells // max(n, 1)))
        done = 0
        while done < n_permutations:
            p = min(chunk, n_permutations - done)
            signs = (rng.random((p, n)) < 0.5) * 2.0 - 1.0
            means = np.abs(signs @ da) / n_ok[active]
            count[active] += (means >= observed[active] - tol).sum(axis=0)
            done += p
    out = (1 + count) / (1 + n_permutations)
    out = np.where(active, out, np.where(n_ok > 0, 1.0, np.nan))
    return float(out[0]) if one_d else out


def bootstrap_counts(
    n: int, n_boot: int, seed: int = 0, max_cells: int = 4_000_000
) -> Iterator[np.ndarray]:
    """Resamples of ``n`` users with replacement, in chunks of ``(r, n)`` draw counts.

    Row j says how often each user is drawn in resample j (each row sums to ``n``); chunks hold
    at most ``max_cells`` cells, ``n_boot`` rows in all.
    """
    rng = np.random.default_rng(seed)
    chunk = max(1, min(n_boot, max_cells // max(n, 1)))
    done = 0
    while done < n_boot:
        r = min(chunk, n_boot - done)
        draws = rng.integers(0, max(n, 1), size=(r, n))
        flat = (np.arange(r)[:, None] * n + draws).ravel()
        yield np.bincount(flat, minlength=r * n).reshape(r, n).astype(np.float64)
        done += r


def _membership(items: np.ndarray, n_items: int) -> sp.csr_matrix:
    """(n, n_items) 0/1 CSR: row u holds the items of list u (``-1`` padding dropped)."""
    valid = items >= 0
    rows = np.repeat(np.arange(len(items)), valid.sum(axis=1))
    data = np.ones(len(rows), dtype=np.float64)
    return sp.csr_matrix((data, (rows, items[valid])), shape=(len(items), n_items))


def bootstrap_diffs(
    paired: dict[str, np.ndarray],
    items_a: np.ndarray,
    items_b: np.ndarray,
    *,
    k: int,
    n_items: int,
    n_boot: int = N_BOOT,
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """Paired bootstrap of B - A over users: metric key -> (n_boot,) resampled differences.

    Parameters
    ----------
    paired : key -> (n,) per-user differences B - A (NaN: user left out), aligned with the
        rows of ``items_a`` / ``items_b``; resampled as the mean over the drawn users.
    items_a, items_b : (n, k_a), (n, k_b) the two configurations' lists of the same users;
        the catalogue metrics (``catalog_metrics``) are recomputed from the drawn users' lists.
    k : cut-off of the catalogue metrics.
    n_items : catalogue size.
    """
    n = len(items_a)
    keys = list(paired)
    diffs = np.column_stack([paired[key] for key in keys]) if keys else np.zeros((n, 0))
    ok = np.isfinite(diffs)
    diffs = np.where(ok, diffs, 0.0)
    a, b = np.asarray(items_a)[:, :k], np.asarray(items_b)[:, :k]
    xa, xb = _membership(a, n_items).T.tocsr(), _membership(b, n_items).T.tocsr()
    listed_a, listed_b = (a >= 0).any(axis=1), (b >= 0).any(axis=1)
    metrics = catalog_metrics(k)
    out = {key: np.empty(n_boot) for key in [*keys, *(m.key for m in metrics)]}
    pos = 0
    for w in bootstrap_counts(n, n_boot, seed):
        rows = slice(pos, pos + len(w))
        with np.errstate(divide="ignore", invalid="ignore"):
            means = (w @ diffs) / (w @ ok)
        for j, key in enumerate(keys):
            out[key][rows] = means[:, j]
        counts_a, counts_b = np.asarray(xa @ w.T).T, np.asarray(xb @ w.T).T  # (r, n_items)
        lists_a, lists_b = w @ listed_a, w @ listed_b
        for metric in metrics:
            out[metric.key][rows] = metric.from_exposure(counts_b, lists_b) - metric.from_exposure(
                counts_a, lists_a
            )
        pos += len(w)
    return out


def catalog_permutation_test(
    items_a: np.ndarray,
    items_b: np.ndarray,
    *,
    k: int,
    n_items: int,
    n_permutations: int = 2000,
    seed: int = 0,
    max_cells: int = 4_000_000,
) -> dict[str, float]:
    """Paired randomisation test of every catalogue metric: key -> two-sided p.

    ``items_a``, ``items_b`` (n, k_a), (n, k_b) are the two configurations' lists of the same
    users. Each permutation swaps the two lists of a random half of the users; p = (1 +
    #{|d*| >= |d|}) / (1 + n_permutations), 1.0 when the observed difference is 0.
    """
    a, b = np.asarray(items_a)[:, :k], np.asarray(items_b)[:, :k]
    n = len(a)
    xa, xb = _membership(a, n_items), _membership(b, n_items)
    delta = (xb - xa).T.tocsr()  # (n_items, n): what a swap moves from B to A
    la, lb = (a >= 0).any(axis=1).astype(np.float64), (b >= 0).any(axis=1).astype(np.float64)
    ca, cb = np.asarray(xa.sum(axis=0)).ravel(), np.asarray(xb.sum(axis=0)).ravel()
    metrics = catalog_metrics(k)
    observed = {
        m.key: float(
            m.from_exposure(cb[None], np.array([lb.sum()]))[0]
            - m.from_exposure(ca[None], np.array([la.sum()]))[0]
        )
        for m in metrics
    }
    count = dict.fromkeys(observed, 0)
    rng = np.random.default_rng(seed)
    chunk = max(1, min(n_permutations, max_cells // max(n, 1)))
    done = 0
    while done < n_permutations and n > 0:
        r = min(chunk, n_permutations - done)
        swap = (rng.random((r, n)) < 0.5).astype(np.float64)
        moved = np.asarray(delta @ swap.T).T  # (r, n_items)
        lists_moved = swap @ (lb - la)
        perm_a, perm_b = ca[None] + moved, cb[None] - moved
        na, nb = la.sum() + lists_moved, lb.sum() - lists_moved
        for m in metrics:
            d = m.from_exposure(perm_b, nb) - m.from_exposure(perm_a, na)
            tol = 1e-12 * max(1.0, abs(observed[m.key]))
            count[m.key] += int((np.abs(d) >= abs(observed[m.key]) - tol).sum())
        done += r
    out = {}
    for key, value in observed.items():
        if not np.isfinite(value):
            out[key] = float("nan")
        elif abs(value) <= 1e-12 or n == 0:
            out[key] = 1.0
        else:
            out[key] = (1 + count[key]) / (1 + n_permutations)
    return out


def bootstrap_interval(
    observed: float, boot: np.ndarray, confidence: float = CONFIDENCE
) -> tuple[float, float]:
    """(low, high) interval of a difference from its bootstrap resamples ``boot`` (R,).

    ``observed`` plus the percentiles of the centred resamples (the resampling bias removed);
    NaN when ``observed`` is not finite or fewer than two resamples are.
    """
    boot = np.asarray(boot, dtype=np.float64)
    boot = boot[np.isfinite(boot)]
    if not np.isfinite(observed) or len(boot) < 2:
        return float("nan"), float("nan")
    tail = (1.0 - confidence) / 2
    low, high = np.quantile(boot - boot.mean(), [tail, 1.0 - tail])
    return float(observed + low), float(observed + high)


def _rows_of(topk: TopK, users: np.ndarray) -> np.ndarray:
    """(len(users), k) the lists of ``users`` in ``topk`` (a row of ``-1`` for a user it lacks)."""
    listed = np.asarray(topk.users)
    items = np.asarray(topk.items)
    out = np.full((len(users), items.shape[1]), -1, dtype=items.dtype)
    if len(listed) == 0 or len(users) == 0:
        return out
    order = np.argsort(listed, kind="stable")
    pos = np.minimum(np.searchsorted(listed[order], users), len(listed) - 1)
    found = listed[order][pos] == users
    out[found] = items[order[pos[found]]]
    return out


def _row(
    key: str,
    report_a: MetricReport,
    report_b: MetricReport,
    diffs: np.ndarray | None,
    ia: np.ndarray,
    p_perms: dict[str, float],
    boot: dict[str, np.ndarray],
    alpha: float,
) -> dict | None:
    """One row of ``ABResult.table``; None when neither side has a value."""
    va, vb = report_a.values.get(key), report_b.values.get(key)
    a = np.nan if va is None else float(va)
    b = np.nan if vb is None else float(vb)
    if not (np.isfinite(a) or np.isfinite(b)):
        return None  # nothing to compare (e.g. RMSE of lists without rating predictions)
    diff = b - a
    p_t = n_users = np.nan
    if diffs is not None:
        ok = np.isfinite(diffs)
        pa = np.asarray(report_a.per_user[key], dtype=np.float64)[ia][ok]
        n_users = float(ok.sum())
        p_t = _ttest(diffs[ok], pa, pa + diffs[ok])
    elif key in boot:
        n_users = float(len(ia))
    low, high = bootstrap_interval(diff, boot[key]) if key in boot else (np.nan, np.nan)
    p_perm = float(p_perms.get(key, np.nan))
    return {
        "metric": key,
        "a": a,
        "b": b,
        "diff": diff,
        "rel_diff": diff / abs(a) if np.isfinite(a) and a != 0 else np.nan,
        "ci_low": low,
        "ci_high": high,
        "n_users": n_users,
        "p_ttest": p_t,
        "p_perm": p_perm,
        "significant": bool(np.isfinite(p_perm) and p_perm < alpha),
    }


def _ttest(diffs: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    if len(diffs) < 2:
        return float("nan")
    if np.all(diffs == 0):
        return 1.0
    if np.allclose(diffs, diffs[0]):
        return 0.0  # a constant non-zero shift: the t statistic is infinite
    return float(stats.ttest_rel(b, a).pvalue)


def compare(
    report_a: MetricReport,
    report_b: MetricReport,
    topk_a: TopK,
    topk_b: TopK,
    *,
    n_permutations: int = 2000,
    seed: int = 0,
    alpha: float = 0.05,
    n_changed: int = 20,
    n_items: int | None = None,
    n_boot: int = N_BOOT,
) -> ABResult:
    """Compare configuration A with configuration B (diff = B - A).

    Parameters
    ----------
    report_a, report_b : ``evaluate_lists`` reports on the same test users.
    topk_a, topk_b : the lists behind the reports (for overlap).
    n_permutations : sign-flip draws of the randomisation test.
    seed : seeds the randomisation test.
    alpha : significance level.
    n_changed : how many most-changed users to list.
    n_items : catalogue size (coverage); default: the largest listed item + 1.
    n_boot : bootstrap resamples of the users (intervals, catalogue metrics' test).

    Returns
    -------
    ABResult.
    """
    rows = []
    keys = list(dict.fromkeys([*report_a.values, *report_b.values]))
    ua, ub = np.asarray(report_a.users), np.asarray(report_b.users)
    _, ia, ib = np.intersect1d(ua, ub, assume_unique=True, return_indices=True)
    paired: dict[str, np.ndarray] = {}
    for key in keys:
        if key in report_a.per_user and key in report_b.per_user:
            pa = np.asarray(report_a.per_user[key], dtype=np.float64)[ia]
            pb = np.asarray(report_b.per_user[key], dtype=np.float64)[ib]
            paired[key] = np.where(np.isfinite(pa) & np.isfinite(pb), pb - pa, np.nan)
    p_perms: dict[str, float] = {}
    if paired:
        matrix = np.column_stack(list(paired.values()))
        p_all = np.atleast_1d(paired_permutation_test(matrix, n_permutations, seed))
        p_perms = dict(zip(paired, p_all, strict=True))
    items_a, items_b = _rows_of(topk_a, ua[ia]), _rows_of(topk_b, ub[ib])
    if n_items is None:
        n_items = int(max(items_a.max(initial=-1), items_b.max(initial=-1))) + 1
    boot = bootstrap_diffs(
        paired, items_a, items_b, k=report_a.k, n_items=n_items, n_boot=n_boot, seed=seed
    )
    p_perms.update(
        catalog_permutation_test(
            items_a,
            items_b,
            k=report_a.k,
            n_items=n_items,
            n_permutations=n_permutations,
            seed=seed,
        )
    )
    for key in keys:
        row = _row(key, report_a, report_b, paired.get(key), ia, p_perms, boot, alpha)
        if row is not None:
            rows.append(row)
    table = pd.DataFrame(rows)

    # list overlap on the users both configurations have lists for
    la_users, lb_users = np.asarray(topk_a.users), np.asarray(topk_b.users)
    lcommon, la, lb = np.intersect1d(la_users, lb_users, assume_unique=True, return_indices=True)
    items_a, items_b = np.asarray(topk_a.items)[la], np.asarray(topk_b.items)[lb]
    jac = jaccard_at_k(items_a, items_b)
    counts, edges = np.histogram(jac, bins=10, range=(0.0, 1.0))
    hist = pd.DataFrame({"bin_low": edges[:-1], "bin_high": edges[1:], "n_users": counts})
    order = np.argsort(jac, kind="stable")[:n_changed]
    changed = pd.DataFrame(
        {
            "user_idx": lcommon[order].astype(np.int32),
            "jaccard": jac[order],
            "items_a": [row[row >= 0].tolist() for row in items_a[order]],
            "items_b": [row[row >= 0].tolist() for row in items_b[order]],
        }
    )
    return ABResult(
        table=table,
        users=lcommon.astype(np.int32),
        jaccard=jac,
        jaccard_hist=hist,
        changed=changed,
        alpha=alpha,
    )
