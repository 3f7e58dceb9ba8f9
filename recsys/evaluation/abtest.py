"""Online A/B tests: assign shoppers to variants, then analyse the outcomes the store logged.

**Assignment.** A user's bucket is a keyed hash of the user id, ``u = h / 2^64`` with
``h = SipHash-2-4(key, utf8(user_id))`` and ``key`` the first 16 hex digits of
``sha256(salt)`` (pandas' ``hash_array``, vectorised). Shares cut ``[0, 1)`` into intervals,
so a user always gets the same variant for the same salt and shares, independently of the
other users, and a new salt reshuffles everyone. With *stratification* by a segment column,
the users of each segment are ordered by their hash and cut by the shares, so every segment is
split exactly (up to one user) in the planned proportions; a user's variant then depends on
who else is in the segment, so assign once and keep the file.

**Analysis.** ``analyse`` takes one row per user (several rows of a user are summed), the
variant and any subset of ``impressions``, ``clicks``, ``orders``, ``revenue``. Per variant:
CTR (clicks / impressions), conversion (share of users with an order), revenue per user, each
with its interval; per variant against the control: the relative lift with its interval, the
test (two-proportion z-test for CTR and conversion, Welch's t-test and a bootstrap for revenue)
and the minimum detectable effect of the sample; a sample-ratio-mismatch check of the arm
sizes. The formulas are in :mod:`recsys.evaluation.abstats`. CTR's z-test treats impressions
as independent, which overstates the evidence when some users see many; conversion and revenue
per user are per-user and do not have that problem.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from recsys.errors import ConfigError
from recsys.evaluation import abstats

#: Analysed metrics: key -> the outcome columns it needs.
METRIC_NEEDS: dict[str, tuple[str, ...]] = {
    "ctr": ("impressions", "clicks"),
    "conversion": ("orders",),
    "revenue_per_user": ("revenue",),
}
DEFAULT_SALT = "fusion-studio"


# ---------------------------------------------------------------------------- assignment
def parse_shares(variants: Sequence[str], shares: Sequence[float] | None) -> np.ndarray:
    """Shares of the variants as fractions summing to 1 (equal when not given)."""
    if len(variants) < 2 or len(set(variants)) != len(variants):
        raise ConfigError("give at least two variants with distinct names, e.g. A,B.")
    if shares is None or len(shares) == 0:
        return np.full(len(variants), 1.0 / len(variants))
    s = np.asarray(shares, np.float64)
    if len(s) != len(variants) or not np.isfinite(s).all() or (s <= 0).any():
        raise ConfigError(
            f"give one positive share per variant ({len(variants)} variants, {len(s)} shares)."
        )
    return s / s.sum()


def hash_buckets(user_ids: Sequence[str] | pd.Series, salt: str = DEFAULT_SALT) -> np.ndarray:
    """(n,) float64 in ``[0, 1)``: each user's position from the salted hash (module doc)."""
    key = hashlib.sha256(salt.encode("utf-8")).hexdigest()[:16]
    ids = pd.Series(user_ids, dtype=object).astype(str).to_numpy(dtype=object)
    h = pd.util.hash_array(ids, hash_key=key, categorize=False)
    return (h >> np.uint64(11)).astype(np.float64) / float(2**53)


def assign(
    user_ids: Sequence[str] | pd.Series,
    variants: Sequence[str] = ("A", "B"),
    shares: Sequence[float] | None = None,
    *,
    salt: str = DEFAULT_SALT,
    segments: Sequence[str] | pd.Series | None = None,
) -> pd.DataFrame:
    """Variant of each user: ``user_id, variant`` (and ``segment`` when stratified).

    Parameters
    ----------
    user_ids : (n,) user ids; duplicates are assigned once.
    variants, shares : variant names and their shares (any positive numbers; equal if None).
    salt : the experiment's salt; the same salt gives the same assignment.
    segments : (n,) segment of each user for a stratified split, or None.
    """
    names = [str(v) for v in variants]
    cuts = np.cumsum(parse_shares(names, shares))[:-1]
    frame = pd.DataFrame({"user_id": pd.Series(user_ids, dtype=object).astype(str)})
    if segments is not None:
        frame["segment"] = pd.Series(segments, dtype=object).fillna("").astype(str).to_numpy()
    frame = frame.drop_duplicates("user_id", keep="first").reset_index(drop=True)
    u = hash_buckets(frame["user_id"], salt)
    if segments is not None:  # within a segment: the hash order cut by the shares
        rank = pd.Series(u).groupby(frame["segment"].to_numpy()).rank(method="first")
        size = frame.groupby("segment")["segment"].transform("size").to_numpy()
        u = (rank.to_numpy() - 0.5) / size
    frame["variant"] = np.asarray(names, dtype=object)[np.searchsorted(cuts, u, side="right")]
    return frame[["user_id", "variant", *(["segment"] if segments is not None else [])]]


# ---------------------------------------------------------------------------- analysis
@dataclass
class ABTestAnalysis:
    """The analysis of one experiment.

    Attributes
    ----------
    variants : one row per variant: ``users`` and, per metric found, its totals, value and
        interval (``ctr, ctr_low, ctr_high``; ``conversion ...``; ``revenue_per_user ...``).
    comparisons : one row per (variant, metric) against the control: ``control_value, value,
        lift, lift_low, lift_high, test, statistic, p_value, significant, mde, mde_relative``
        (revenue has a second row with the bootstrap).
    srm : ``counts, expected_shares, chi2, p_value, mismatch``.
    control, alpha, power : as asked.
    """

    variants: pd.DataFrame
    comparisons: pd.DataFrame
    srm: dict[str, Any]
    control: str
    alpha: float
    power: float
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON values."""
        from recsys.jsonable import jsonable

        return jsonable(
            {
                "control": self.control,
                "alpha": self.alpha,
                "power": self.power,
                "variants": self.variants.to_dict(orient="records"),
                "comparisons": self.comparisons.to_dict(orient="records"),
                "srm": self.srm,
                "notes": self.notes,
            }
        )


def analyse(
    outcomes: pd.DataFrame,
    *,
    control: str | None = None,
    shares: Mapping[str, float] | None = None,
    alpha: float = 0.05,
    power: float = 0.8,
    bootstrap_draws: int = abstats.BOOTSTRAP_DRAWS,
    seed: int = 0,
) -> ABTestAnalysis:
    """Analyse per-user outcomes (``recsys.evaluation.outcomes.prepare_outcomes``); module doc.

    ``control`` defaults to the first variant in sorted order (``A``); ``shares`` (variant ->
    planned share) default to equal shares for the sample-ratio check.
    """
    if not (0 < alpha < 0.5 and 0.5 <= power < 1):
        raise ConfigError("alpha must lie in (0, 0.5) and power in [0.5, 1).")
    names = sorted(outcomes["variant"].astype(str).unique())
    if len(names) < 2:
        raise ConfigError("the outcomes have one variant only; an A/B test needs two or more.")
    control = names[0] if control is None else str(control)
    if control not in names:
        raise ConfigError(f"the control '{control}' is not among the variants {names}.")
    groups = {v: outcomes.loc[outcomes["variant"].astype(str) == v] for v in names}
    table = pd.DataFrame([_variant_row(v, g, alpha) for v, g in groups.items()]).set_index(
        "variant"
    )
    rows = []
    for v in names:
        if v != control:
            rows += _compare(groups[control], groups[v], v, alpha, power, bootstrap_draws, seed)
    planned = np.asarray([float((shares or {}).get(v, 1.0)) for v in names])
    chi2, p = abstats.srm_test(table["users"].to_numpy(), planned)
    srm = {
        "counts": {v: int(table.loc[v, "users"]) for v in names},
        "expected_shares": dict(zip(names, (planned / planned.sum()).tolist(), strict=True)),
        "chi2": chi2,
        "p_value": p,
        "mismatch": bool(p < abstats.SRM_ALPHA),
    }
    notes = []
    if len(names) > 2:
        notes.append(
            f"{len(names) - 1} variants are compared with the control: with several "
            f"comparisons, a p-value below {alpha / (len(names) - 1):.3g} (Bonferroni) "
            "keeps the overall false-positive rate at alpha."
        )
    return ABTestAnalysis(
        table.reset_index(), pd.DataFrame(rows), srm, control, alpha, power, notes
    )


def _variant_row(variant: str, g: pd.DataFrame, alpha: float) -> dict[str, Any]:
    row: dict[str, Any] = {"variant": variant, "users": len(g)}
    if {"impressions", "clicks"} <= set(g.columns):
        imp, clk = float(g["impressions"].sum()), float(g["clicks"].sum())
        p, lo, hi = (float(v) for v in abstats.proportion_interval(clk, imp, alpha))
        row |= {"impressions": imp, "clicks": clk, "ctr": p, "ctr_low": lo, "ctr_high": hi}
    if "orders" in g.columns:
        buyers = float((g["orders"] > 0).sum())
        p, lo, hi = (float(v) for v in abstats.proportion_interval(buyers, len(g), alpha))
        row |= {"orders": float(g["orders"].sum()), "buyers": buyers}
        row |= {"conversion": p, "conversion_low": lo, "conversion_high": hi}
    if "revenue" in g.columns:
        x = g["revenue"].to_numpy(np.float64)
        mean = float(x.mean()) if len(x) else float("nan")
        half = (
            float(stats.t.ppf(1 - alpha / 2, len(x) - 1)) * x.std(ddof=1) / np.sqrt(len(x))
            if len(x) > 1
            else float("nan")
        )
        row |= {"revenue": float(x.sum()), "revenue_per_user": mean}
        row |= {"revenue_per_user_low": mean - half, "revenue_per_user_high": mean + half}
    return row


def _compare(
    a: pd.DataFrame,
    b: pd.DataFrame,
    variant: str,
    alpha: float,
    power: float,
    draws: int,
    seed: int,
) -> list[dict[str, Any]]:
    """Rows of ``variant`` (``b``) against the control (``a``), one per metric and test."""
    out = []
    cols = set(a.columns)

    def row(metric, test, va, vb, var_a, var_b, stat, p, mde) -> dict[str, Any]:
        lift, lo, hi = abstats.ratio_lift(va, var_a, vb, var_b, alpha)
        return {
            "variant": variant,
            "metric": metric,
            "control_value": va,
            "value": vb,
            "lift": lift,
            "lift_low": lo,
            "lift_high": hi,
            "test": test,
            "statistic": float(stat),
            "p_value": float(p),
            "significant": bool(p < alpha),
            "mde": float(mde),
            "mde_relative": float(mde / va) if va else float("nan"),
        }

    if {"impressions", "clicks"} <= cols:
        n_a, n_b = a["impressions"].sum(), b["impressions"].sum()
        x_a, x_b = a["clicks"].sum(), b["clicks"].sum()
        if n_a > 0 and n_b > 0:
            z, p, *_ = abstats.two_proportion_ztest(x_a, n_a, x_b, n_b, alpha)
            pa, pb = x_a / n_a, x_b / n_b
            mde = abstats.mde_proportion(pa, n_a, n_b, alpha, power)
            var_a, var_b = pa * (1 - pa) / n_a, pb * (1 - pb) / n_b
            out.append(row("ctr", "two-proportion z-test", pa, pb, var_a, var_b, z, p, mde))
    if "orders" in cols:
        n_a, n_b = len(a), len(b)
        x_a, x_b = float((a["orders"] > 0).sum()), float((b["orders"] > 0).sum())
        z, p, *_ = abstats.two_proportion_ztest(x_a, n_a, x_b, n_b, alpha)
        pa, pb = x_a / n_a, x_b / n_b
        mde = abstats.mde_proportion(pa, n_a, n_b, alpha, power)
        var_a, var_b = pa * (1 - pa) / n_a, pb * (1 - pb) / n_b
        out.append(row("conversion", "two-proportion z-test", pa, pb, var_a, var_b, z, p, mde))
    if "revenue" in cols and len(a) > 1 and len(b) > 1:
        ra, rb = a["revenue"].to_numpy(np.float64), b["revenue"].to_numpy(np.float64)
        va, vb = float(ra.mean()), float(rb.mean())
        var_a, var_b = ra.var(ddof=1) / len(ra), rb.var(ddof=1) / len(rb)
        sd_a, sd_b = ra.std(ddof=1), rb.std(ddof=1)
        mde = abstats.mde_mean(sd_a, sd_b, len(ra), len(rb), alpha, power)
        w = abstats.welch_ttest(ra, rb, alpha)
        out.append(
            row(
                "revenue_per_user",
                "Welch t-test",
                va,
                vb,
                var_a,
                var_b,
                w.statistic,
                w.p_value,
                mde,
            )
        )
        bs = abstats.bootstrap_diff(ra, rb, alpha, draws, seed)
        boot = row("revenue_per_user", "bootstrap", va, vb, var_a, var_b, bs.diff, bs.p_value, mde)
        if va:  # the bootstrap's own percentile interval of the difference, as a lift
            boot["lift_low"], boot["lift_high"] = bs.low / va, bs.high / va
        out.append(boot)
    return out


# ---------------------------------------------------------------------------- planning
def plan_sample_size(
    baseline: float,
    lift: float,
    *,
    metric: str = "conversion",
    sd: float | None = None,
    alpha: float = 0.05,
    power: float = 0.8,
    variants: int = 2,
) -> dict[str, Any]:
    """Users needed before the test: per arm and in total, for a relative ``lift``.

    ``baseline`` is the control's rate (conversion, CTR) or mean (revenue per user, then
    ``sd`` is its standard deviation).
    """
    if metric == "revenue_per_user":
        if sd is None:
            raise ConfigError("the sample size of a mean needs its standard deviation (--sd).")
        per_arm = abstats.sample_size_mean(baseline, sd, lift, alpha, power)
    else:
        per_arm = abstats.sample_size_proportion(baseline, lift, alpha, power)
    return {
        "metric": metric,
        "baseline": baseline,
        "lift": lift,
        "alpha": alpha,
        "power": power,
        "per_arm": per_arm,
        "total": per_arm * variants,
    }


# ---------------------------------------------------------------------------- simulation
def simulate_outcomes(
    assignment: pd.DataFrame,
    *,
    lift: Mapping[str, float] | None = None,
    conversion: float = 0.1,
    ctr: float = 0.05,
    impressions: float = 20.0,
    order_value: float = 50.0,
    seed: int = 0,
) -> pd.DataFrame:
    """Generated outcomes of an assignment, with a planted relative ``lift`` per variant.

    Per user: impressions ~ Poisson, clicks ~ Binomial(impressions, ctr·(1+lift)), a buyer
    with probability conversion·(1+lift) places 1 + Poisson(0.3) orders of log-normal value
    (mean ``order_value``). For tests, demos and checking the power of a plan.
    """
    rng = np.random.default_rng(seed)
    n = len(assignment)
    up = assignment["variant"].map(lambda v: 1.0 + float((lift or {}).get(v, 0.0))).to_numpy()
    imp = rng.poisson(impressions, n)
    clicks = rng.binomial(imp, np.clip(ctr * up, 0, 1))
    buyer = rng.random(n) < np.clip(conversion * up, 0, 1)
    orders = np.where(buyer, 1 + rng.poisson(0.3, n), 0)
    sigma = 0.8
    value = rng.lognormal(np.log(order_value) - sigma**2 / 2, sigma, n)
    return pd.DataFrame(
        {
            "user_id": assignment["user_id"].to_numpy(),
            "variant": assignment["variant"].to_numpy(),
            "impressions": imp,
            "clicks": clicks,
            "orders": orders,
            "revenue": np.round(orders * value, 2),
        }
    )


__all__ = [
    "DEFAULT_SALT",
    "METRIC_NEEDS",
    "ABTestAnalysis",
    "analyse",
    "assign",
    "hash_buckets",
    "parse_shares",
    "plan_sample_size",
    "simulate_outcomes",
]
