"""Online A/B tests: assignment (deterministic, balanced, stratified), the statistics against
hand-computed and scipy figures, a planted 5 % lift detected at the stated power, outcome
files, the CLI."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from recsys.cli import main as cli_main
from recsys.errors import ConfigError, DataValidationError
from recsys.evaluation import abstats
from recsys.evaluation.abtest import (
    analyse,
    assign,
    hash_buckets,
    plan_sample_size,
    simulate_outcomes,
)
from recsys.evaluation.outcomes import prepare_outcomes, read_outcomes

USERS = pd.Series([f"U{i:06d}" for i in range(100_000)])


# ---------------------------------------------------------------------------- assignment
def test_assignment_is_deterministic_and_independent_of_the_other_users():
    a = assign(USERS[:5000], salt="exp-1").set_index("user_id")["variant"]
    shuffled = USERS[:5000].sample(frac=1.0, random_state=1)
    b = assign(pd.concat([shuffled, USERS[5000:6000]]), salt="exp-1")
    b = b.set_index("user_id")["variant"]
    assert b.loc[a.index].equals(a)
    other = assign(USERS[:5000], salt="exp-2").set_index("user_id")["variant"]
    changed = (other != a).mean()
    assert 0.45 < changed < 0.55  # a new salt reshuffles about half the users of a 50/50 split


def test_hash_is_uniform():
    u = hash_buckets(USERS)
    assert ((u >= 0) & (u < 1)).all()
    assert stats.kstest(u, "uniform").pvalue > 0.001


@pytest.mark.parametrize(
    ("variants", "shares"), [(("A", "B"), None), (("A", "B", "C"), (20, 30, 50))]
)
def test_assignment_is_balanced_within_the_binomial_tolerance(variants, shares):
    out = assign(USERS, variants, shares, salt="balance")
    n = len(USERS)
    p = np.full(len(variants), 1 / len(variants)) if shares is None else np.asarray(shares) / 100
    counts = out["variant"].value_counts().reindex(list(variants)).to_numpy()
    sd = np.sqrt(n * p * (1 - p))
    assert (np.abs(counts - n * p) < 4 * sd).all(), (counts, n * p)
    assert abstats.srm_test(counts, p)[1] > abstats.SRM_ALPHA


def test_stratified_assignment_splits_every_segment_exactly():
    seg = np.where(np.arange(9001) % 10 == 0, "vip", np.where(np.arange(9001) % 3, "b", "c"))
    out = assign(USERS[:9001], ("A", "B", "C"), (1, 1, 2), salt="s", segments=seg)
    table = pd.crosstab(out["segment"], out["variant"])
    expected = np.outer(table.sum(axis=1), [0.25, 0.25, 0.5])
    assert (np.abs(table.to_numpy() - expected) <= 1).all(), table
    again = assign(USERS[:9001], ("A", "B", "C"), (1, 1, 2), salt="s", segments=seg)
    assert again.equals(out)


def test_bad_shares_are_plain_errors():
    with pytest.raises(ConfigError, match="one positive share per variant"):
        assign(USERS[:10], ("A", "B"), (50,))
    with pytest.raises(ConfigError, match="at least two variants"):
        assign(USERS[:10], ("A",))


# ---------------------------------------------------------------------------- statistics
def test_two_proportion_ztest_by_hand_and_scipy():
    z, p, diff, lo, hi = abstats.two_proportion_ztest(200, 2000, 250, 2000)
    # by hand: pooled 450/4000 = 0.1125, se = sqrt(0.1125 * 0.8875 * 2/2000) = 0.0099922
    assert float(z) == pytest.approx(0.025 / 0.0099922, rel=1e-4)
    assert float(z) == pytest.approx(2.50196, abs=1e-4)
    assert float(p) == pytest.approx(0.012351, abs=1e-5)
    chi2, p_scipy, *_ = stats.chi2_contingency([[200, 1800], [250, 1750]], correction=False)
    assert float(z) ** 2 == pytest.approx(chi2) and float(p) == pytest.approx(p_scipy)
    se = np.sqrt(0.1 * 0.9 / 2000 + 0.125 * 0.875 / 2000)
    assert (float(lo), float(hi)) == pytest.approx((0.025 - 1.959964 * se, 0.025 + 1.959964 * se))


def test_welch_ttest_matches_scipy():
    rng = np.random.default_rng(0)
    a, b = rng.exponential(10, 400), rng.exponential(12, 300)
    ours = abstats.welch_ttest(a, b)
    ref = stats.ttest_ind(b, a, equal_var=False)
    assert ours.statistic == pytest.approx(ref.statistic) and ours.p_value == pytest.approx(
        ref.pvalue
    )
    ci = ref.confidence_interval(0.95)
    assert (ours.low, ours.high) == pytest.approx((ci.low, ci.high))


def test_bootstrap_interval_matches_scipy_and_the_observed_difference():
    rng = np.random.default_rng(1)
    a, b = rng.lognormal(3, 1, 500), rng.lognormal(3.2, 1, 500)
    ours = abstats.bootstrap_diff(a, b, draws=4000, seed=2)
    ref = stats.bootstrap(
        (b, a),
        lambda x, y, axis: x.mean(axis=axis) - y.mean(axis=axis),
        method="percentile",
        n_resamples=4000,
        random_state=3,
    ).confidence_interval
    assert ours.diff == pytest.approx(b.mean() - a.mean())
    width = ref.high - ref.low
    assert abs(ours.low - ref.low) < 0.08 * width and abs(ours.high - ref.high) < 0.08 * width
    assert ours.p_value < 0.05 and ours.low > 0  # a real difference
    same = abstats.bootstrap_diff(a, a.copy(), draws=1000)
    assert same.p_value > 0.5


def test_srm_by_hand():
    chi2, p = abstats.srm_test([5100, 4900], [1, 1])
    assert chi2 == pytest.approx(4.0) and p == pytest.approx(stats.chi2.sf(4.0, 1))
    assert abstats.srm_test([5300, 4700], [1, 1])[1] < abstats.SRM_ALPHA
    # unequal plan: 20/80 with 2,000 / 8,000 is exactly on plan
    assert abstats.srm_test([2000, 8000], [20, 80]) == pytest.approx((0.0, 1.0))


def test_sample_size_and_mde_by_hand():
    # Fleiss: p_a = 0.10, p_b = 0.12 (lift 20 %), alpha 0.05, power 0.8 -> 3,841 per arm
    assert abstats.sample_size_proportion(0.10, 0.20) == 3841
    plan = plan_sample_size(0.10, 0.20, variants=3)
    assert plan["per_arm"] == 3841 and plan["total"] == 3 * 3841
    n = abstats.sample_size_proportion(0.10, 0.05)
    assert abstats.power_proportion(0.10, 0.105, n) == pytest.approx(0.8, abs=1e-3)
    mde = float(abstats.mde_proportion(0.10, n, n))
    assert mde / 0.10 == pytest.approx(0.05, rel=0.03)
    # means: n = 2 (z_a + z_b)^2 sd^2 / delta^2 = 2 * 7.849 * 400 / 4 = 1,570
    assert abstats.sample_size_mean(50.0, 20.0, 0.04) == 1570
    with pytest.raises(ConfigError):
        abstats.sample_size_proportion(0.9, 0.2)


def test_a_planted_5_percent_lift_is_detected_at_the_stated_power():
    n = abstats.sample_size_proportion(0.10, 0.05, power=0.8)
    rng = np.random.default_rng(7)
    runs = 1000
    x_a, x_b = rng.binomial(n, 0.10, runs), rng.binomial(n, 0.105, runs)
    _, p, *_ = abstats.two_proportion_ztest(x_a, n, x_b, n)
    detected = float((p < 0.05).mean())
    assert detected == pytest.approx(0.80, abs=0.04)  # SE of 1,000 runs ~ 0.013
    x_b0 = rng.binomial(n, 0.10, runs)  # no lift: false positives at alpha
    _, p0, *_ = abstats.two_proportion_ztest(x_a, n, x_b0, n)
    assert float((p0 < 0.05).mean()) == pytest.approx(0.05, abs=0.02)


def test_analyse_finds_a_planted_lift_in_generated_outcomes():
    n = abstats.sample_size_proportion(0.10, 0.05, power=0.99)
    users = pd.Series([f"S{i}" for i in range(2 * n)])
    plan = assign(users, salt="planted")
    outcomes = simulate_outcomes(plan, lift={"B": 0.05}, conversion=0.10, seed=11)
    result = analyse(outcomes, bootstrap_draws=200)
    conv = result.comparisons.set_index(["metric", "test"]).loc[
        ("conversion", "two-proportion z-test")
    ]
    assert conv["significant"] and conv["lift_low"] < 0.05 < conv["lift_high"]
    assert not result.srm["mismatch"]
    assert conv["mde_relative"] < 0.05  # the sample was planned for 99 % power


def test_analyse_by_hand():
    rows = {
        "user_id": [f"u{i}" for i in range(8)],
        "variant": ["A"] * 4 + ["B"] * 4,
        "impressions": [10, 10, 10, 10, 10, 10, 10, 10],
        "clicks": [1, 0, 1, 0, 2, 1, 1, 0],
        "orders": [1, 0, 0, 0, 1, 1, 0, 0],
        "revenue": [40.0, 0, 0, 0, 30.0, 50.0, 0, 0],
    }
    result = analyse(pd.DataFrame(rows), bootstrap_draws=100)
    v = result.variants.set_index("variant")
    assert v.loc["A", "ctr"] == pytest.approx(2 / 40) and v.loc["B", "ctr"] == pytest.approx(4 / 40)
    assert v.loc["A", "conversion"] == 0.25 and v.loc["B", "conversion"] == 0.5
    assert v.loc["A", "revenue_per_user"] == 10.0 and v.loc["B", "revenue_per_user"] == 20.0
    half = stats.t.ppf(0.975, 3) * np.std([40, 0, 0, 0], ddof=1) / 2
    assert v.loc["A", "revenue_per_user_high"] == pytest.approx(10 + half)
    c = result.comparisons.set_index(["metric", "test"])
    assert c.loc[("ctr", "two-proportion z-test"), "lift"] == pytest.approx(1.0)
    assert c.loc[("conversion", "two-proportion z-test"), "lift"] == pytest.approx(1.0)
    welch = c.loc[("revenue_per_user", "Welch t-test")]
    ref = stats.ttest_ind([30, 50, 0, 0], [40, 0, 0, 0], equal_var=False)
    assert welch["p_value"] == pytest.approx(ref.pvalue)
    assert result.srm["counts"] == {"A": 4, "B": 4} and result.srm["p_value"] == 1.0
    assert json.dumps(result.to_dict())  # plain JSON


# ---------------------------------------------------------------------------- outcome files
def test_outcome_files_name_the_bad_cells():
    good = "customer_id,group,clicks,impressions,revenue\nc1,A,1,5,$12.50\nc2,B,0,3,\n"
    frame = read_outcomes(good.encode(), file_name="out.csv")
    assert frame.set_index("user_id").loc["c1", "revenue"] == 12.5
    assert frame.set_index("user_id").loc["c2", "revenue"] == 0.0
    bad = "user_id,variant,clicks\nc1,A,1\nc2,B,lots\n"
    with pytest.raises(DataValidationError, match=r"out\.csv.*'clicks'.*line 3"):
        read_outcomes(bad.encode(), file_name="out.csv")
    more = "user_id,variant,clicks,impressions\nc1,A,9,5\n"
    with pytest.raises(DataValidationError, match="more clicks than impressions"):
        read_outcomes(more.encode())
    twice = "user_id,variant,orders\nc1,A,1\nc1,B,0\n"
    with pytest.raises(
        DataValidationError, match="lines 2, 3: 1 user id.s. appear in more than one variant"
    ):
        read_outcomes(twice.encode())
    with pytest.raises(DataValidationError, match="no outcome column"):
        read_outcomes(b"user_id,variant\nc1,A\n")


def test_assigned_users_without_outcomes_count_as_zeros():
    plan = pd.DataFrame({"user_id": ["a", "b", "c", "d"], "variant": ["A", "B", "A", "B"]})
    frame = pd.DataFrame({"user": ["a", "b"], "orders": ["1", "2"]})
    out = prepare_outcomes(frame, "user", assignment=plan).set_index("user_id")
    assert out.loc[["a", "b", "c", "d"], "orders"].tolist() == [1, 2, 0, 0]
    assert out.loc["d", "variant"] == "B"
    stray = pd.DataFrame({"user": ["zz"], "orders": ["1"]})
    with pytest.raises(DataValidationError, match="assignment file does not have"):
        prepare_outcomes(stray, "user", assignment=plan)


# ---------------------------------------------------------------------------- CLI
def test_cli_assign_analyse_and_size(tmp_path, capsys):
    users = tmp_path / "users.csv"
    pd.DataFrame({"user_id": USERS[:4000], "tier": np.arange(4000) % 3}).to_csv(users, index=False)
    plan = tmp_path / "plan.csv"
    code = cli_main(
        [
            "abtest", "assign", "--users", str(users), "--variants", "A,B",
            "--shares", "50,50", "--salt", "t1", "--stratify", "tier", "--out", str(plan),
        ]
    )  # fmt: skip
    assert code == 0 and "wrote 4,000 users" in capsys.readouterr().out
    assigned = pd.read_csv(plan, dtype=str)
    per_tier = pd.crosstab(assigned["segment"], assigned["variant"])
    assert (np.abs(per_tier["A"] - per_tier["B"]) <= 1).all()  # every tier split evenly
    outcomes = simulate_outcomes(assigned, lift={"B": 0.5}, seed=3)
    path = tmp_path / "outcomes.csv"
    outcomes.to_csv(path, index=False)
    report = tmp_path / "report.json"
    code = cli_main(
        ["abtest", "analyse", "--outcomes", str(path), "--assignment", str(plan),
         "--json", str(report), "--bootstrap", "200"]
    )  # fmt: skip
    text = capsys.readouterr().out
    assert code == 0 and "conversion" in text and "sample ratio" in text
    data = json.loads(report.read_text(encoding="utf-8"))
    assert data["control"] == "A"
    assert data["srm"]["counts"] == assigned["variant"].value_counts().to_dict()
    code = cli_main(["abtest", "size", "--baseline", "0.1", "--lift", "0.2"])
    assert code == 0 and "3,841" in capsys.readouterr().out
    bad = tmp_path / "bad.csv"
    bad.write_text("user_id,variant,orders\nx,A,-1\n", encoding="utf-8")
    code = cli_main(["abtest", "analyse", "--outcomes", str(bad)])
    err = capsys.readouterr().err
    assert code == 2 and "line 2" in err and "Traceback" not in err
