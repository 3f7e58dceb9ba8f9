import itertools
import math

import numpy as np
import pytest
import scipy.sparse as sp

from recsys.evaluation.metrics import (
    MAE,
    MAP,
    MRR,
    NDCG,
    RMSE,
    BrandDiversity,
    CategoryDiversity,
    Coverage,
    Diversity,
    EvalContext,
    Gini,
    HitRate,
    Personalization,
    Precision,
    Recall,
    Serendipity,
    evaluate_lists,
)
from recsys.evaluation.metrics.glossary import is_metric
from recsys.ranking.topk import TopK

N_ITEMS = 6


def _topk(rows, users=None):
    items = np.array(rows, dtype=np.int32)
    users = np.arange(len(rows), dtype=np.int32) if users is None else np.asarray(users, np.int32)
    return TopK(users, items, np.zeros(items.shape, np.float32))


def _csr(pairs, n_users=4, n_items=N_ITEMS):
    r, c = zip(*pairs, strict=True) if pairs else ((), ())
    return sp.csr_matrix((np.ones(len(r)), (r, c)), shape=(n_users, n_items))


@pytest.fixture
def case():
    # user 0: [0 1 2] truth {0, 2}; user 1: [3 - -] truth {} ; user 2: [1 2 0] truth {5}
    # user 3: [4 5 -] truth {4}
    topk = _topk([[0, 1, 2], [3, -1, -1], [1, 2, 0], [4, 5, -1]])
    truth = _csr([(0, 0), (0, 2), (2, 5), (3, 4)])
    train = _csr([(0, 3), (1, 0), (2, 1), (3, 1), (3, 2)])
    return topk, truth, train


def test_accuracy_hand_computed(case):
    topk, truth, train = case
    ctx = EvalContext(topk, truth, 3, train)
    np.testing.assert_array_equal(ctx.hits, [[1, 0, 1], [0, 0, 0], [0, 0, 0], [1, 0, 0]])
    p = Precision(3).calc_per_user(ctx)
    np.testing.assert_allclose(p, [2 / 3, np.nan, 0, 1 / 3])
    np.testing.assert_allclose(Recall(3).calc_per_user(ctx), [1, np.nan, 0, 1])
    ndcg0 = (1 + 1 / math.log2(4)) / (1 + 1 / math.log2(3))
    np.testing.assert_allclose(NDCG(3).calc_per_user(ctx), [ndcg0, np.nan, 0, 1])
    np.testing.assert_allclose(MAP(3).calc_per_user(ctx), [(1 + 2 / 3) / 2, np.nan, 0, 1])
    np.testing.assert_allclose(MRR(3).calc_per_user(ctx), [1, np.nan, 0, 1])
    assert HitRate(3).calc(ctx) == pytest.approx(2 / 3)
    # user 1 has no truth: excluded from the mean
    assert Precision(3).calc(ctx) == pytest.approx((2 / 3 + 0 + 1 / 3) / 3)


def test_ndcg_and_map_second_position():
    topk = _topk([[5, 0, 1]])
    truth = _csr([(0, 0)], n_users=1)
    ctx = EvalContext(topk, truth, 3, _csr([], n_users=1))
    assert NDCG(3).calc(ctx) == pytest.approx(1 / math.log2(3))
    assert MAP(3).calc(ctx) == pytest.approx(0.5)
    assert MRR(3).calc(ctx) == pytest.approx(0.5)


def test_map_normalised_by_min_truth_k():
    # 4 relevant items, k = 2, both slots hit -> AP = 1 (normaliser min(4, 2) = 2)
    topk = _topk([[0, 1]])
    truth = _csr([(0, 0), (0, 1), (0, 2), (0, 3)], n_users=1)
    ctx = EvalContext(topk, truth, 2, _csr([], n_users=1))
    assert MAP(2).calc(ctx) == pytest.approx(1.0)
    assert NDCG(2).calc(ctx) == pytest.approx(1.0)
    assert Recall(2).calc(ctx) == pytest.approx(0.5)


def test_k_larger_than_list_pads():
    topk = _topk([[0, 1]])
    truth = _csr([(0, 1)], n_users=1)
    ctx = EvalContext(topk, truth, 5, _csr([], n_users=1))
    assert ctx.items.shape == (1, 5)
    assert Precision(5).calc(ctx) == pytest.approx(1 / 5)


def test_beyond_accuracy_hand_computed(case):
    topk, truth, train = case
    ctx = EvalContext(topk, truth, 3, train, item_category=np.array(list("aabbcc")))
    # exposure: item0:2 item1:2 item2:2 item3:1 item4:1 item5:1 -> all 6 items shown
    assert Coverage(3).calc(ctx) == 1.0
    assert Gini(3).calc(ctx) == pytest.approx(1 / 6)
    # sum c(c-1) = 6, n = 4 users, k = 3 -> 1 - 6 / (3 * 4 * 3)
    assert Personalization(3).calc(ctx) == pytest.approx(1 - 6 / 36)
    # category diversity: user 0 -> a a b: 1 - 2/6; user 3 -> c c: 0
    np.testing.assert_allclose(CategoryDiversity(3).calc_per_user(ctx), [2 / 3, np.nan, 2 / 3, 0])
    # content diversity needs content vectors: without them it is unknown, not the category one
    assert np.isnan(Diversity(3).calc_per_user(ctx)).all()


def test_personalization_matches_brute_force():
    rng = np.random.default_rng(0)
    items = np.array([rng.choice(20, 5, replace=False) for _ in range(30)])
    items[3, 2:] = -1
    topk = _topk(items)
    ctx = EvalContext(topk, sp.csr_matrix((30, 20)), 5, sp.csr_matrix((30, 20)))
    overlaps = [
        len(set(a[a >= 0]) & set(b[b >= 0])) / 5 for a, b in itertools.combinations(items, 2)
    ]
    assert Personalization(5).calc(ctx) == pytest.approx(1 - np.mean(overlaps))


def test_diversity_vectors_match_pairwise_cosine():
    rng = np.random.default_rng(1)
    vecs = rng.normal(size=(12, 4))
    vecs[7] = 0.0  # an item without content: distance 1 to everything
    items = np.array([rng.choice(12, 4, replace=False) for _ in range(10)])
    items[0, 3] = -1
    items[1] = [7, 1, 2, -1]
    ctx = EvalContext(_topk(items), sp.csr_matrix((10, 12)), 4, sp.csr_matrix((10, 12)), vecs)
    unit = vecs / np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-12)
    expected = []
    for row in items:
        row = row[row >= 0]
        d = [1 - unit[a] @ unit[b] for a, b in itertools.combinations(row, 2)]
        expected.append(np.mean(d))
    np.testing.assert_allclose(Diversity(4).calc_per_user(ctx), expected, rtol=1e-5)


def test_serendipity_excludes_popular_hits():
    # popularity in train: item 0 (3 users) > item 1 (2) > item 2 (1) > others 0
    train = _csr([(1, 0), (2, 0), (3, 0), (1, 1), (2, 1), (3, 2)], n_users=4)
    # user 0 has seen nothing: PM_0 (k=2) = {0, 1}; hits 0 and 3 -> only 3 is serendipitous
    # user 1 has seen 0, 1: PM_1 = {2, 3}; hit 4 is serendipitous, hit 2 is not
    topk = _topk([[0, 3], [2, 4]], users=[0, 1])
    truth = _csr([(0, 0), (0, 3), (1, 2), (1, 4)], n_users=4)
    ctx = EvalContext(topk, truth, 2, train)
    np.testing.assert_allclose(Serendipity(2).calc_per_user(ctx), [0.5, 0.5])


def test_novelty_and_popularity(case):
    topk, truth, train = case
    rep = evaluate_lists(topk, truth, k=3, train=train)
    # 4 train users; pop = [1, 2, 1, 1, 0, 0]; info = -log2(max(pop,1)/4) = [2, 1, 2, 2, 2, 2]
    np.testing.assert_allclose(rep.per_user["novelty"], [5 / 3, 2, 5 / 3, 2])
    np.testing.assert_allclose(rep.per_user["avg_popularity"], [4 / 3, 1, 4 / 3, 0])


def test_report_keys_and_edge_cases(case):
    topk, truth, train = case
    rep = evaluate_lists(topk, truth, k=3, train=train, item_category=np.array(list("aabbcc")))
    expected = {f"{m}@3" for m in ("precision", "recall", "f1", "ndcg", "map", "mrr", "hit_rate")}
    expected |= {
        "coverage", "distributional_coverage", "gini", "novelty", "diversity",
        "category_diversity", "brand_diversity", "personalization", "avg_popularity",
        "serendipity", "rmse", "mae",
    }  # fmt: skip
    assert set(rep.values) == expected
    assert all(is_metric(key) for key in rep.values)  # every reported key is in the glossary
    assert math.isnan(rep.values["brand_diversity"])  # no brand column: unknown, not 0
    assert rep.values["rmse"] is None
    for v in rep.per_user.values():
        assert len(v) == len(topk.users)
    assert set(rep.segments["segment"]) == {"all", "cold", "regular", "heavy"}
    assert rep.extra["new_items"] == 2  # items 4, 5 have no train pair
    assert rep.extra["new_item_hits"] == 1  # user 3 hits item 4
    # an all-empty list set: no crash, NaN accuracy
    empty = _topk([[-1, -1, -1]] * 4)
    rep2 = evaluate_lists(empty, truth, k=3, train=train)
    assert rep2.values["coverage"] == 0.0
    assert rep2.values["precision@3"] == 0.0
    assert math.isnan(rep2.values["personalization"])


def test_user_subset_and_ratings(case):
    topk, truth, train = case
    rep = evaluate_lists(
        topk, truth, k=3, train=train, user_ids=[0, 3], predictions=[1, 2, 4], targets=[2, 2, 2]
    )
    assert rep.users.tolist() == [0, 3]
    assert rep.values["precision@3"] == pytest.approx(0.5)
    assert rep.values["rmse"] == pytest.approx(math.sqrt(5 / 3))
    assert rep.values["mae"] == pytest.approx(1.0)
    assert RMSE().calc([1, np.nan], [1, 3]) == 0.0
    assert MAE().calc([3], [1]) == 2.0


def test_coverage_and_lists_on_2k_users():
    """A 2,000-user report: coverage is the share of items in some list (speed: the bench)."""
    rng = np.random.default_rng(0)
    n_users, n_items, k = 2000, 500, 10
    items = np.argsort(rng.random((n_users, n_items)), axis=1)[:, :k].astype(np.int32)
    items[:, :] = items % 300  # items 300..499 are never recommended
    topk = _topk(items)
    truth = sp.random(n_users, n_items, density=0.01, format="csr", random_state=1)
    train = sp.random(n_users, n_items, density=0.05, format="csr", random_state=2)
    vecs = rng.normal(size=(n_items, 32)).astype(np.float32)
    cats = rng.integers(0, 12, n_items)
    rep = evaluate_lists(topk, truth, k=k, train=train, item_vectors=vecs, item_category=cats)
    assert rep.values["coverage"] == pytest.approx(len(np.unique(items)) / n_items)
    assert rep.values["coverage"] <= 300 / n_items
    assert len(rep.per_user["ndcg@10"]) == n_users


def test_integer_category_codes_and_item_table(case):
    from types import SimpleNamespace

    topk, truth, train = case
    table = SimpleNamespace(
        vectors=None, category=np.array([0, 0, 1, 1, -1, -1]), category_names=("phones", "cases")
    )
    rep = evaluate_lists(topk, truth, k=3, train=train, item_table=table)
    # user 3 -> items 4, 5 both unknown: counted as one category -> diversity 0
    np.testing.assert_allclose(rep.per_user["category_diversity"], [2 / 3, np.nan, 2 / 3, 0])


def test_gini_equals_one_minus_twice_the_lorenz_area():
    from recsys.evaluation.metrics import gini_index, lorenz_curve

    counts = np.array([0, 1, 1, 3, 10], float)
    x, y = lorenz_curve(counts)
    assert y[0] == 0 and y[-1] == 1 and len(x) == 6
    assert gini_index(counts) == pytest.approx(1 - 2 * np.trapezoid(y, x))
    # hand-computed: sorted c = 0,1,1,3,10, n=5, sum=15: sum (2i-6) c = -4*0-2*1+0*1+2*3+4*10 = 44
    assert gini_index(counts) == pytest.approx(44 / 75)
    assert np.isnan(gini_index(np.zeros(3)))


def test_brand_and_category_diversity_are_separate(case):
    topk, truth, train = case
    # items 0..5: categories a a b b c c, brands all "x" except item 5
    ctx = EvalContext(
        topk,
        truth,
        3,
        train,
        item_category=np.array(list("aabbcc")),
        item_brand=np.array(list("xxxxxy")),
    )
    brand = BrandDiversity(3).calc_per_user(ctx)
    category = CategoryDiversity(3).calc_per_user(ctx)
    assert np.isfinite(category[0]) and category[0] > 0
    # a single-brand list is not diverse in brand, whatever its categories
    lists = topk.items[:, :3]
    one_brand = [(row >= 0).sum() >= 2 and 5 not in row for row in lists]
    np.testing.assert_allclose(brand[one_brand], 0.0)
