"""Offline A/B comparison of two configurations evaluated on the same held-out users.

For every metric: A, B, the difference ``B - A`` and the relative difference. For per-user
metrics, two paired tests over the users both reports evaluated (NaN pairs dropped):

- paired t-test (``scipy.stats.ttest_rel``, two-sided);
- paired randomisation test (sign-flip permutation; Fisher 1935, Smucker et al. 2007):
  under H0 each user's difference ``d_u`` is as likely to be ``-d_u``; the statistic is
  ``|mean(s_u d_u)|`` over random signs ``s in {-1, +1}``, p = (1 + #{|T*| >= |T|}) / (1 + P).
  Vectorised as a ``(P, n)`` sign matrix times the differences, in chunks.

``significant`` = ``p_perm < alpha`` (the randomisation test assumes nothing about the
distribution of per-user values, which are often 0/1 or skewed). Catalogue-level metrics
(coverage, Gini, ...) have one value per configuration and no p-value.

List overlap: Jaccard@k per user, ``|A_u ∩ B_u| / |A_u ∪ B_u|`` over non-padding items (1 when
both lists are empty), its histogram and the users whose lists changed most.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from recsys.evaluation.metrics import MetricReport
from recsys.ranking.topk import TopK


@dataclass
class ABResult:
    """Outcome of ``compare``.

    Attributes
    ----------
    table : columns ``metric, a, b, diff, rel_diff, n_users, p_ttest, p_perm, significant``.
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
    p_perms = {}
    if paired:
        matrix = np.column_stack(list(paired.values()))
        p_all = np.atleast_1d(paired_permutation_test(matrix, n_permutations, seed))
        p_perms = dict(zip(paired, p_all, strict=True))
    for key in keys:
        va, vb = report_a.values.get(key), report_b.values.get(key)
        a = np.nan if va is None else float(va)
        b = np.nan if vb is None else float(vb)
        diff = b - a
        rel = diff / abs(a) if np.isfinite(a) and a != 0 else np.nan
        p_t = p_perm = n_users = np.nan
        if key in paired:
            d = paired[key]
            ok = np.isfinite(d)
            pa = np.asarray(report_a.per_user[key], dtype=np.float64)[ia][ok]
            n_users = float(ok.sum())
            p_t = _ttest(d[ok], pa, pa + d[ok])
            p_perm = float(p_perms[key])
        rows.append(
            {
                "metric": key,
                "a": a,
                "b": b,
                "diff": diff,
                "rel_diff": rel,
                "n_users": n_users,
                "p_ttest": p_t,
                "p_perm": p_perm,
                "significant": bool(np.isfinite(p_perm) and p_perm < alpha),
            }
        )
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
