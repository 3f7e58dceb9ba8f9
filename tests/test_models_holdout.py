"""The inner holdout models use to choose hyper-parameters inside ``fit``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recsys.data.dataset import Dataset
from recsys.models.holdout import Holdout, holdout_ndcg, inner_holdout
from tests.fixtures_data import make_dataset


def test_inner_holdout_keeps_a_pair_per_user_and_is_seeded():
    ds = make_dataset(n_users=30, n_items=20, n_cold_items=0)
    h = inner_holdout(ds, fraction=0.25, seed=0)
    assert (h.train.user_activity() >= 1).all()
    both = h.train.matrix("ones") + h.truth
    np.testing.assert_array_equal(both.toarray(), ds.matrix("ones").toarray())
    np.testing.assert_array_equal(h.users, np.flatnonzero(np.diff(h.truth.indptr)))
    again = inner_holdout(ds, fraction=0.25, seed=0)
    assert (again.truth != h.truth).nnz == 0


def test_holdout_ndcg_by_hand():
    events = pd.DataFrame({"user_id": ["u0", "u1"], "item_id": ["c0", "c4"], "weight": 1.0})
    train = Dataset.construct(events, pd.DataFrame({"item_id": [f"c{i}" for i in range(5)]}))
    col = train.item_ids.to_internal([f"c{i}" for i in range(5)])  # external c_i -> column
    # held out: user 0 -> c1, c3; user 1 -> c2
    truth = sp.csr_matrix(
        ([1.0, 1.0, 1.0], ([0, 0, 1], col[[1, 3, 2]])), shape=(2, 5), dtype=np.float32
    )
    h = Holdout(train, truth, np.array([0, 1], np.int32))
    by_item = np.array([[9, 2, 3, 4, 1], [5, 1, 4, 0, 9]], np.float32)  # scores of c0..c4
    scores = np.zeros_like(by_item)
    scores[:, col] = by_item
    # seen items excluded -> user 0 ranks c3, c2, ...; user 1 ranks c0, c2, ...
    # k = 2: user 0 hits at rank 0 of 2 relevant: 1 / (1 + 1/log2 3); user 1 at rank 1 of 1
    d = 1 / np.log2(3)
    expected = (1 / (1 + d) + d) / 2
    assert np.isclose(holdout_ndcg(lambda u: scores[u], h, k=2), expected)
