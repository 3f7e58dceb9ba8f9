import numpy as np
import pytest
import scipy.sparse as sp

from recsys.evaluation.metrics import evaluate_lists
from recsys.evaluation.offline_ab import compare, jaccard_at_k, paired_permutation_test
from recsys.ranking.topk import TopK


def _topk(items, users=None):
    items = np.asarray(items, dtype=np.int32)
    users = np.arange(len(items), dtype=np.int32) if users is None else np.asarray(users, np.int32)
    return TopK(users, items, np.zeros(items.shape, np.float32))


@pytest.fixture(scope="module")
def world():
    rng = np.random.default_rng(0)
    n_users, n_items = 300, 80
    truth = sp.random(n_users, n_items, density=0.06, format="csr", random_state=1)
    truth.data[:] = 1
    train = sp.random(n_users, n_items, density=0.1, format="csr", random_state=2)
    dense = truth.toarray()
    good = np.argsort(-(dense + 0.5 * rng.random(dense.shape)), axis=1)[:, :10]
    bad = np.argsort(-rng.random(dense.shape), axis=1)[:, :10]
    return truth, train, _topk(good), _topk(bad)


def test_identical_configs(world):
    truth, train, good, _ = world
    rep = evaluate_lists(good, truth, k=10, train=train)
    res = compare(rep, rep, good, good, n_permutations=200)
    t = res.table.set_index("metric")
    assert (t["diff"].dropna() == 0).all()
    assert t.loc["ndcg@10", "p_perm"] == 1.0
    assert t.loc["ndcg@10", "p_ttest"] == 1.0
    assert not t["significant"].any()
    assert t.loc["coverage", "p_perm"] == 1.0  # catalogue-level: tested too
    assert (res.jaccard == 1).all()
    assert res.jaccard_hist["n_users"].sum() == len(good)
    assert res.jaccard_hist["n_users"].iloc[-1] == len(good)


def test_clearly_better_is_significant(world):
    truth, train, good, bad = world
    ra = evaluate_lists(bad, truth, k=10, train=train)
    rb = evaluate_lists(good, truth, k=10, train=train)
    res = compare(ra, rb, bad, good, n_permutations=1000, seed=1)
    row = res.table.set_index("metric").loc["ndcg@10"]
    assert row["diff"] > 0.3
    assert row["b"] == pytest.approx(rb.values["ndcg@10"])
    assert row["p_ttest"] < 1e-6
    assert row["p_perm"] == pytest.approx(1 / 1001)
    assert row["significant"]
    assert row["rel_diff"] == pytest.approx(row["diff"] / row["a"])
    assert len(res.changed) == 20
    assert res.changed["jaccard"].is_monotonic_increasing
    assert res.mean_jaccard < 0.5


def test_jaccard_hand_computed():
    a = np.array([[1, 2, 3], [1, 2, -1], [-1, -1, -1], [4, 5, 6]])
    b = np.array([[3, 2, 9], [5, 6, -1], [-1, -1, -1], [4, -1, -1]])
    # {1,2,3} vs {3,2,9}: 2/4; {1,2} vs {5,6}: 0; both empty: 1; {4,5,6} vs {4}: 1/3
    np.testing.assert_allclose(jaccard_at_k(a, b), [0.5, 0.0, 1.0, 1 / 3])


def test_compare_aligns_users():
    truth = sp.csr_matrix(np.eye(4))
    train = sp.csr_matrix((4, 4))
    ta = _topk([[0, 1], [1, 0], [2, 3]], users=[0, 1, 2])
    tb = _topk([[3, 1], [2, 0], [0, 1]], users=[2, 1, 0])  # same users, other order
    ra = evaluate_lists(ta, truth, k=2, train=train)
    rb = evaluate_lists(tb, truth, k=2, train=train)
    res = compare(ra, rb, ta, tb, n_permutations=100)
    assert res.users.tolist() == [0, 1, 2]
    # user 0: {0,1} vs {0,1} -> 1; user 1: {1,0} vs {2,0} -> 1/3; user 2: {2,3} vs {3,1} -> 1/3
    np.testing.assert_allclose(res.jaccard, [1, 1 / 3, 1 / 3])
    hr = res.table.set_index("metric").loc["hit_rate@2"]
    # B hits only user 0 (list [0, 1], truth {0})
    assert hr["a"] == 1.0 and hr["b"] == pytest.approx(1 / 3)
    assert hr["n_users"] == 3


def test_permutation_test_properties():
    rng = np.random.default_rng(0)
    assert np.isnan(paired_permutation_test(np.array([])))
    assert paired_permutation_test(np.zeros(10)) == 1.0
    null = paired_permutation_test(rng.normal(size=400), 500, seed=0)
    assert null > 0.01
    shifted = paired_permutation_test(rng.normal(0.5, 1, size=400), 500, seed=0)
    assert shifted == pytest.approx(1 / 501)
    # chunked evaluation (bounded memory) agrees with one block up to Monte Carlo noise
    d = rng.normal(0.1, 1, size=300)
    chunked = paired_permutation_test(d, 2000, seed=3, max_cells=1000)
    whole = paired_permutation_test(d, 2000, seed=3)
    assert abs(chunked - whole) < 0.05


def test_permutation_test_matrix_columns():
    rng = np.random.default_rng(2)
    d = np.column_stack(
        [rng.normal(1.0, 1, 200), np.zeros(200), np.full(200, np.nan), rng.normal(size=200)]
    )
    d[:50, 0] = np.nan  # left-out users
    p = paired_permutation_test(d, 300, seed=0)
    assert p.shape == (4,)
    assert p[0] == pytest.approx(1 / 301)
    assert p[1] == 1.0
    assert np.isnan(p[2])
    assert p[3] > 0.01


# ---------------------------------------------------------------- intervals for every metric
def test_every_metric_has_an_interval_and_a_test(world):
    truth, train, good, bad = world
    ra = evaluate_lists(bad, truth, k=10, train=train)
    rb = evaluate_lists(good, truth, k=10, train=train)
    res = compare(ra, rb, bad, good, n_permutations=300, n_items=80, n_boot=400)
    t = res.table.set_index("metric")
    assert {"coverage", "personalization", "gini", "distributional_coverage"} <= set(t.index)
    assert "rmse" not in t.index  # no rating predictions: nothing to compare, no empty row
    assert t[["ci_low", "ci_high", "p_perm"]].notna().all().all()
    assert (t["ci_low"] <= t["diff"] + 1e-12).all() and (t["diff"] <= t["ci_high"] + 1e-12).all()
    assert ((t["ci_low"] < t["ci_high"]) | (t["diff"] == 0)).all()  # real intervals
    # the relevance-ordered lists are better by a clear margin: the interval excludes 0
    row = t.loc["ndcg@10"]
    assert row["ci_low"] > 0.2 and row["significant"]


def test_identical_configs_have_zero_intervals(world):
    truth, train, good, _ = world
    rep = evaluate_lists(good, truth, k=10, train=train)
    t = compare(rep, rep, good, good, n_permutations=100, n_boot=200).table.set_index("metric")
    assert (t["ci_low"] == 0).all() and (t["ci_high"] == 0).all()
    assert (t["p_perm"] == 1.0).all() and not t["significant"].any()


def test_a_large_coverage_drop_is_significant():
    n_users, n_items = 400, 120
    rng = np.random.default_rng(4)
    truth = sp.random(n_users, n_items, density=0.05, format="csr", random_state=3)
    train = sp.random(n_users, n_items, density=0.1, format="csr", random_state=5)
    varied = _topk(np.argsort(rng.random((n_users, n_items)), axis=1)[:, :10])
    narrow = _topk(np.tile(np.arange(10), (n_users, 1)) + (np.arange(n_users) % 2)[:, None] * 10)
    ra = evaluate_lists(varied, truth, k=10, train=train)
    rb = evaluate_lists(narrow, truth, k=10, train=train)
    t = compare(ra, rb, varied, narrow, n_items=n_items, n_boot=300).table.set_index("metric")
    for key in ("coverage", "personalization", "distributional_coverage"):
        assert t.loc[key, "diff"] < 0 and t.loc[key, "ci_high"] < 0, key
        assert t.loc[key, "significant"] and t.loc[key, "p_perm"] < 0.01, key
    assert t.loc["gini", "ci_low"] > 0 and t.loc["gini", "significant"]
    # one user alone with ten new items moves coverage by 10/120, but is no evidence
    nudged = _topk(np.where(np.arange(n_users)[:, None] == 0, narrow.items + 100, narrow.items))
    rn = evaluate_lists(nudged, truth, k=10, train=train)
    t2 = compare(rb, rn, narrow, nudged, n_items=n_items, n_boot=300).table.set_index("metric")
    assert t2.loc["coverage", "diff"] == pytest.approx(10 / n_items)
    assert t2.loc["coverage", "p_perm"] > 0.5 and not t2.loc["coverage", "significant"]


def test_bootstrap_catalog_metric_equals_the_metric_of_the_resampled_lists(world):
    from recsys.evaluation.offline_ab import bootstrap_counts, bootstrap_diffs

    truth, train, good, bad = world
    n = len(good.items)
    (w,) = list(bootstrap_counts(n, 1, seed=7))
    drawn = np.repeat(np.arange(n), w[0].astype(int))  # the resample as explicit rows
    boot = bootstrap_diffs({}, bad.items, good.items, k=10, n_items=80, n_boot=1, seed=7)
    rep = {
        name: evaluate_lists(
            _topk(lists.items[drawn]),
            sp.csr_matrix((len(drawn), 80)),
            k=10,
            train=sp.csr_matrix((len(drawn), 80)),
        ).values
        for name, lists in (("a", bad), ("b", good))
    }
    for key in ("coverage", "distributional_coverage", "gini", "personalization"):
        assert boot[key][0] == pytest.approx(rep["b"][key] - rep["a"][key]), key
