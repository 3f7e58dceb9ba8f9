"""Contract every registered model must meet (RecTools-style shared checks)."""

from __future__ import annotations

from importlib import import_module

import numpy as np
import pytest
from sklearn.base import clone

from recsys.errors import ColdStartError, ConfigError, NotFittedError
from recsys.models import MODEL_NAMES, make_model, model_class
from recsys.models.base import Recommender
from recsys.models.storage import load_model, save_model
from tests.fixtures_data import cold_items, make_dataset

#: Small hyper-parameters so the whole contract runs in seconds (only keys a model has are used).
FAST_PARAMS: dict[str, dict] = {
    "lightfm_warp": {"epochs": 3, "no_components": 8, "early_stopping": True, "min_epochs": 1},
    "lightfm_bpr": {"epochs": 3, "no_components": 8},
    "lightfm_logistic": {"epochs": 3, "no_components": 8},
    "lightfm_warp_kos": {"epochs": 3, "no_components": 8},
    "svd": {"n_epochs": 5, "n_factors": 8},
    "svdpp": {"n_epochs": 2, "n_factors": 8},
    "nmf": {"n_epochs": 5, "n_factors": 8},
    "coclustering": {"n_epochs": 3},
    "baseline_only": {"bsl_n_epochs": 3},
    "als": {"factors": 8, "iterations": 3},
    "bpr": {"factors": 8, "iterations": 10},
}


def _new(name: str) -> Recommender:
    return make_model(name, **FAST_PARAMS.get(name, {}))


@pytest.fixture(scope="module")
def data():
    return make_dataset(n_users=40, n_items=30, n_cold_items=3, seed=0)


@pytest.fixture(scope="module")
def other_data():
    return make_dataset(n_users=25, n_items=22, n_cold_items=2, seed=1)


_FITTED: dict[str, Recommender] = {}


@pytest.fixture
def fitted(request, data):
    name = request.param
    if name not in _FITTED:
        _FITTED[name] = _new(name).fit(data)
    return _FITTED[name]


ALL = pytest.mark.parametrize("name", MODEL_NAMES)
FITTED = pytest.mark.parametrize("fitted", MODEL_NAMES, indirect=True)


@ALL
def test_registry_path_imports(name):
    """A broken ``module:Class`` path fails here (it is never skipped)."""
    from recsys.models import _MODEL_PATHS

    module_name, _, class_name = _MODEL_PATHS[name].partition(":")
    cls = getattr(import_module(module_name), class_name)
    assert isinstance(cls, type) and issubclass(cls, Recommender)
    assert cls.__module__ == module_name
    assert model_class(name) is cls


def test_fast_params_name_registered_models_and_real_parameters():
    for name, params in FAST_PARAMS.items():
        assert name in MODEL_NAMES, name
        unknown = set(params) - set(model_class(name)().get_params())
        assert not unknown, f"{name}: {sorted(unknown)}"


@ALL
def test_flags_and_params(name):
    cls = model_class(name)
    assert cls.name == name
    assert isinstance(cls.label, str) and cls.label
    for flag in ("handles_cold_users", "handles_cold_items", "predicts_ratings", "slow"):
        assert isinstance(getattr(cls, flag), bool)
    model = _new(name)
    assert clone(model).get_params() == model.get_params()


@ALL
def test_fit_returns_self_and_progress_is_reported(name, data):
    model = _new(name)
    calls = []
    assert model.fit(data, progress=lambda f, m: calls.append((f, m))) is model
    assert calls, "progress callback never called"
    assert all(0.0 <= f <= 1.0 and isinstance(m, str) for f, m in calls)


@FITTED
def test_score_items_shape_dtype_finite(fitted, data):
    users = np.arange(data.n_users)
    s = fitted.score_items(users)
    assert s.shape == (data.n_users, data.n_items)
    assert s.dtype == np.float32
    assert np.isfinite(s).all()
    assert s[:, :-3].std() > 0, "scores are constant over warm items"


@ALL
def test_not_fitted_raises(name):
    model = _new(name)
    with pytest.raises(NotFittedError):
        model.score_items(np.array([0]))
    with pytest.raises(NotFittedError):
        model.recommend(np.array([0]), 5)


@ALL
def test_refit_forgets_previous_fit(name, data, other_data):
    model = _new(name).fit(data)
    before = model.score_items(np.arange(3))
    model.fit(other_data)
    after = model.score_items(np.arange(3))
    assert after.shape == (3, other_data.n_items) != before.shape
    assert model.n_items_ == other_data.n_items


@ALL
def test_same_seed_same_scores(name, data):
    a = _new(name).fit(data).score_items(np.arange(10))
    b = _new(name).fit(data).score_items(np.arange(10))
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


@FITTED
def test_save_load_round_trip(fitted, data, tmp_path):
    """Through ``.npz`` + JSON (no pickle): identical scores, histories and ratings."""
    save_model(fitted, tmp_path / "m")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.json", "m.npz"]
    with np.load(tmp_path / "m.npz", allow_pickle=False) as npz:  # data only
        assert all(npz[k].dtype.kind in "biuf" for k in npz.files)
    loaded = load_model(tmp_path / "m", fitted.name)
    assert type(loaded) is type(fitted)
    assert loaded.get_params() == fitted.get_params()
    assert not set(fitted.transient_fields) & set(vars(loaded))  # scoring needs none of them
    users = np.arange(data.n_users)
    np.testing.assert_array_equal(loaded.score_items(users), fitted.score_items(users))
    if fitted.handles_cold_users:
        items, weights = np.array([0, 4, 8], np.int32), np.array([1.0, 2.0, 1.0])
        np.testing.assert_array_equal(
            loaded.score_history(items, weights), fitted.score_history(items, weights)
        )
    if fitted.predicts_ratings:
        df = data.interactions.head(20)
        u, i = df["user_idx"].to_numpy(), df["item_idx"].to_numpy()
        np.testing.assert_array_equal(loaded.predict_ratings(u, i), fitted.predict_ratings(u, i))


@FITTED
def test_every_learned_attribute_is_declared(fitted):
    """``state_fields`` (or ``transient_fields``) names everything ``fit`` learned."""
    learned = {a for a in vars(fitted) if a.endswith("_") and not a.startswith("_")}
    declared = set(fitted.all_state_fields()) | set(fitted.transient_fields) | {"fitted_"}
    assert learned <= declared, sorted(learned - declared)
    required = {k for k, kind in fitted.all_state_fields().items() if not kind.endswith("?")}
    assert required <= learned, sorted(required - learned)


@FITTED
def test_stored_state_is_checked(fitted, tmp_path):
    save_model(fitted, tmp_path / "m")
    with pytest.raises(ConfigError):  # the registry name decides the class
        load_model(tmp_path / "m", "popularity" if fitted.name != "popularity" else "trending")
    arrays, meta = fitted.state_arrays(), fitted.state_meta()
    key = next(iter(arrays))
    with pytest.raises(ConfigError):  # a missing array
        type(fitted).from_state(
            fitted.get_params(), meta, {k: v for k, v in arrays.items() if k != key}
        )
    with pytest.raises(ConfigError):  # an unexpected entry
        type(fitted).from_state(fitted.get_params(), {**meta, "evil_": 1}, arrays)
    with pytest.raises(ConfigError):  # a wrong type
        type(fitted).from_state(fitted.get_params(), {**meta, "n_items_": "30"}, arrays)


@ALL
def test_numeric_parameters_have_ranges_holding_their_defaults(name):
    cls = model_class(name)
    for param, default in cls().get_params().items():
        if isinstance(default, int | float) and not isinstance(default, bool):
            assert param in cls.param_ranges, f"{name}.{param} has no range"
        if param in cls.param_ranges and default is not None and not isinstance(default, str):
            assert cls.param_ranges[param].problem(default) is None, (param, default)
    assert set(cls.param_ranges) <= set(cls().get_params())


@FITTED
def test_cold_users_as_declared(fitted, data):
    history = np.array([0, 4, 8], np.int32)  # three items of the same category
    if fitted.handles_cold_users:
        s = fitted.score_history(history, np.array([1.0, 2.0, 1.0]))
        assert s.shape == (data.n_items,) and s.dtype == np.float32
        assert np.isfinite(s).all()
        empty = fitted.score_history(np.array([], np.int32))
        assert empty.shape == (data.n_items,) and np.isfinite(empty).all()
    else:
        with pytest.raises(ColdStartError):
            fitted.score_history(history)


@FITTED
def test_cold_items_as_declared(fitted, data):
    cold = cold_items(data)
    assert len(cold) == 3
    if fitted.handles_cold_items:
        s = fitted.score_items(np.arange(data.n_users))[:, cold]
        assert np.isfinite(s).all()
        assert np.ptp(s, axis=1).max() > 1e-6, "cold items all get the same score"


@FITTED
def test_recommend_respects_exclusions(fitted, data):
    train = data.matrix("ones")
    users = np.arange(data.n_users, dtype=np.int32)
    top = fitted.recommend(users, k=10, exclude=train, block_size=16)
    assert top.items.shape == (data.n_users, 10)
    assert np.array_equal(top.users, users)
    rows, cols = np.nonzero(top.items >= 0)
    assert train[users[rows], top.items[rows, cols]].sum() == 0
    finite = np.where(np.isfinite(top.scores), top.scores, -np.inf)
    assert (np.diff(finite, axis=1) <= 1e-6).all(), "lists are not sorted by score"


@FITTED
def test_predict_ratings_iff_declared(fitted, data):
    df = data.interactions.head(20)
    users, items = df["user_idx"].to_numpy(), df["item_idx"].to_numpy()
    if fitted.predicts_ratings:
        r = fitted.predict_ratings(users, items)
        assert r.shape == (20,) and np.isfinite(r).all()
    else:
        with pytest.raises(NotImplementedError):
            fitted.predict_ratings(users, items)
