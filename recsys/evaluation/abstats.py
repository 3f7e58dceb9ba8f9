r"""The statistics of an online A/B test: tests, intervals, power.

Every function takes numpy arrays (or scalars) and is vectorised, so a simulation of many
experiments is one call. Two-sided tests throughout; ``alpha`` is the significance level.

- proportions (conversion, CTR): the two-proportion z-test with the pooled standard error,
  ``z = (p_b - p_a) / sqrt(p(1-p)(1/n_a + 1/n_b))``, ``p = (x_a + x_b) / (n_a + n_b)``;
  Wald intervals ``p ± z_{1-α/2} sqrt(p(1-p)/n)``;
- means (revenue per user): Welch's t-test with the Welch-Satterthwaite degrees of freedom,
  and a percentile bootstrap of the difference of means (resampling users within each arm);
- relative lift ``b / a - 1`` with a delta-method interval,
  ``var(b/a) ≈ (b/a)^2 (var_b / b^2 + var_a / a^2)``;
- sample-ratio mismatch: Pearson's chi-square of the observed arm sizes against the planned
  shares (Kohavi et al., *Trustworthy Online Controlled Experiments*, 2020, ch. 21);
- power: the minimum detectable effect of a sample, and the users per arm a chosen relative
  lift needs, ``n = (z_{1-α/2} sqrt(2 p̄(1-p̄)) + z_{power} sqrt(p_a(1-p_a) + p_b(1-p_b)))^2
  / (p_b - p_a)^2`` (Fleiss, *Statistical Methods for Rates and Proportions*, 3rd ed., 4.14).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from recsys.errors import ConfigError

#: A sample-ratio mismatch is flagged below this p-value (a strict threshold: with many
#: experiments a looser one raises false alarms; Kohavi et al. use 0.001 too).
SRM_ALPHA = 0.001
#: Bootstrap resamples of the revenue difference, and cells resampled at once.
BOOTSTRAP_DRAWS = 2000
_BOOTSTRAP_CELLS = 4_000_000


@dataclass(frozen=True)
class TestResult:
    """A two-sided test of ``b - a``: statistic, p-value and the difference with its interval."""

    statistic: float
    p_value: float
    diff: float
    low: float
    high: float


def z_quantile(alpha: float) -> float:
    """``z_{1-α/2}``: the two-sided normal quantile (1.96 for ``alpha = 0.05``)."""
    return float(stats.norm.ppf(1.0 - alpha / 2.0))


def proportion_interval(x, n, alpha: float = 0.05) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Wald interval of ``x / n``: ``(p, low, high)`` clipped to [0, 1]; NaN where ``n = 0``."""
    x, n = np.asarray(x, np.float64), np.asarray(n, np.float64)
    p = np.divide(x, n, out=np.full(np.broadcast(x, n).shape, np.nan), where=n > 0)
    half = z_quantile(alpha) * np.sqrt(p * (1 - p) / np.where(n > 0, n, np.nan))
    return p, np.clip(p - half, 0, 1), np.clip(p + half, 0, 1)


def two_proportion_ztest(x_a, n_a, x_b, n_b, alpha: float = 0.05):
    """Pooled two-proportion z-test of ``x_b/n_b - x_a/n_a`` (arrays broadcast).

    Returns ``(z, p_value, diff, low, high)``: the interval is the unpooled Wald interval of
    the difference. Equal to ``scipy.stats.chi2_contingency(..., correction=False)``
    (``z^2 = chi2``, same p-value).
    """
    x_a, n_a, x_b, n_b = (np.asarray(v, np.float64) for v in (x_a, n_a, x_b, n_b))
    p_a, p_b = x_a / n_a, x_b / n_b
    pooled = (x_a + x_b) / (n_a + n_b)
    se0 = np.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))
    diff = p_b - p_a
    z = np.divide(diff, se0, out=np.zeros_like(diff), where=se0 > 0)
    p_value = 2 * stats.norm.sf(np.abs(z))
    se = np.sqrt(p_a * (1 - p_a) / n_a + p_b * (1 - p_b) / n_b)
    half = z_quantile(alpha) * se
    return z, p_value, diff, diff - half, diff + half


def welch_ttest(a: np.ndarray, b: np.ndarray, alpha: float = 0.05) -> TestResult:
    """Welch's t-test of ``mean(b) - mean(a)``, with the Welch interval of the difference."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    se = np.sqrt(va + vb)
    diff = float(b.mean() - a.mean())
    if se == 0:
        return TestResult(0.0, 1.0, diff, diff, diff)
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    t = diff / se
    half = float(stats.t.ppf(1 - alpha / 2, df)) * se
    return TestResult(float(t), float(2 * stats.t.sf(abs(t), df)), diff, diff - half, diff + half)


def bootstrap_diff(
    a: np.ndarray,
    b: np.ndarray,
    alpha: float = 0.05,
    draws: int = BOOTSTRAP_DRAWS,
    seed: int = 0,
) -> TestResult:
    """Percentile bootstrap of ``mean(b) - mean(a)``, users resampled within each arm.

    ``statistic`` is the observed difference; ``p_value`` is the two-sided bootstrap p-value,
    twice the smaller share of resampled differences on either side of 0.
    """
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    rng = np.random.default_rng(seed)
    diffs = _boot_means(b, draws, rng) - _boot_means(a, draws, rng)
    low, high = np.quantile(diffs, [alpha / 2, 1 - alpha / 2])
    share = min(float((diffs <= 0).mean()), float((diffs >= 0).mean()))
    diff = float(b.mean() - a.mean())
    return TestResult(diff, min(1.0, 2 * share), diff, float(low), float(high))


def _boot_means(x: np.ndarray, draws: int, rng: np.random.Generator) -> np.ndarray:
    """(draws,) means of resamples of ``x``, drawn in blocks of ``_BOOTSTRAP_CELLS`` cells."""
    out = np.empty(draws)
    step = max(1, _BOOTSTRAP_CELLS // max(len(x), 1))
    for lo in range(0, draws, step):
        hi = min(draws, lo + step)
        out[lo:hi] = x[rng.integers(0, len(x), (hi - lo, len(x)))].mean(axis=1)
    return out


def ratio_lift(a, var_a, b, var_b, alpha: float = 0.05) -> tuple[float, float, float]:
    """Relative lift ``b / a - 1`` and its delta-method interval; ``var_*`` of the estimates."""
    if not a:
        return float("nan"), float("nan"), float("nan")
    r = b / a
    se = abs(r) * np.sqrt(var_b / b**2 + var_a / a**2) if b else np.sqrt(var_b) / abs(a)
    half = z_quantile(alpha) * float(se)
    return float(r - 1), float(r - 1 - half), float(r - 1 + half)


def srm_test(counts, shares) -> tuple[float, float]:
    """Sample-ratio mismatch: chi-square of arm sizes ``counts`` against planned ``shares``.

    Returns ``(chi2, p_value)``; a p-value below ``SRM_ALPHA`` means the split is broken
    (assignment, logging or filtering dropped users unevenly), and no result can be trusted.
    """
    counts = np.asarray(counts, np.float64)
    shares = np.asarray(shares, np.float64)
    expected = counts.sum() * shares / shares.sum()
    chi2, p = stats.chisquare(counts, expected)
    return float(chi2), float(p)


def mde_proportion(p_a, n_a, n_b, alpha: float = 0.05, power: float = 0.8):
    """Smallest absolute difference of proportions detectable with ``n_a``, ``n_b`` users."""
    p_a = np.asarray(p_a, np.float64)
    z = z_quantile(alpha) + float(stats.norm.ppf(power))
    return z * np.sqrt(p_a * (1 - p_a) * (1 / np.asarray(n_a) + 1 / np.asarray(n_b)))


def mde_mean(sd_a, sd_b, n_a, n_b, alpha: float = 0.05, power: float = 0.8):
    """Smallest absolute difference of means detectable (normal approximation)."""
    z = z_quantile(alpha) + float(stats.norm.ppf(power))
    return z * np.sqrt(np.asarray(sd_a) ** 2 / n_a + np.asarray(sd_b) ** 2 / n_b)


def sample_size_proportion(p_a: float, lift: float, alpha: float = 0.05, power: float = 0.8) -> int:
    """Users per arm to detect a relative ``lift`` of a baseline rate ``p_a`` (module formula)."""
    p_b = p_a * (1 + lift)
    if not (0 < p_a < 1 and 0 < p_b < 1) or lift == 0:
        raise ConfigError("the baseline rate and the rate with the lift must lie in (0, 1).")
    p_bar = (p_a + p_b) / 2
    num = z_quantile(alpha) * np.sqrt(2 * p_bar * (1 - p_bar)) + float(
        stats.norm.ppf(power)
    ) * np.sqrt(p_a * (1 - p_a) + p_b * (1 - p_b))
    return int(np.ceil(num**2 / (p_b - p_a) ** 2))


def sample_size_mean(
    mean_a: float, sd: float, lift: float, alpha: float = 0.05, power: float = 0.8
) -> int:
    """Users per arm to detect a relative ``lift`` of a mean with standard deviation ``sd``."""
    delta = mean_a * lift
    if delta == 0 or sd <= 0:
        raise ConfigError("the mean, the lift and the standard deviation must be non-zero.")
    z = z_quantile(alpha) + float(stats.norm.ppf(power))
    return int(np.ceil(2 * (z * sd / delta) ** 2))


def power_proportion(p_a: float, p_b: float, n: int, alpha: float = 0.05) -> float:
    """Power of the pooled z-test with ``n`` users per arm when the true rates are ``p_a``, ``p_b``."""
    p_bar = (p_a + p_b) / 2
    se0 = np.sqrt(2 * p_bar * (1 - p_bar) / n)
    se1 = np.sqrt((p_a * (1 - p_a) + p_b * (1 - p_b)) / n)
    d = abs(p_b - p_a)
    return float(stats.norm.cdf((d - z_quantile(alpha) * se0) / se1))


__all__ = [
    "BOOTSTRAP_DRAWS",
    "SRM_ALPHA",
    "TestResult",
    "bootstrap_diff",
    "mde_mean",
    "mde_proportion",
    "power_proportion",
    "proportion_interval",
    "ratio_lift",
    "sample_size_mean",
    "sample_size_proportion",
    "srm_test",
    "two_proportion_ztest",
    "welch_ttest",
    "z_quantile",
]
