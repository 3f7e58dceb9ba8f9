"""Personalised search for one shopper: BM25 text relevance blended with the shopper's taste.

``search_for_user(run, user_id, query, weight)`` ranks the catalog items that match ``query``
(``recsys.ranking.search.SearchIndex``, built once per dataset) in plain text order and in the
personalised order (``recsys.ranking.search.blend_search``). The shopper's affinity for every
item is the blend of the run's models fitted on all data: each model's scores of all items for
the shopper, min-max normalised, weighted by the fusion weights (the weighted-sum fusion with
min-max normalisation over the whole catalogue). Models that cannot score the shopper sit out.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from recsys.data.schema import Col
from recsys.errors import RecsysError
from recsys.ranking.fusion import FusionConfig
from recsys.ranking.search import SearchIndex, blend_search, minmax
from recsys.service.run import Run

_INDEX_KEY = "search.index"
_SHOWN = (Col.TITLE, "title_zh", Col.CATEGORY, Col.BRAND, Col.PRICE)


def search_index(run: Run) -> SearchIndex:
    """The run's dataset's search index (built on first use, then cached on the dataset)."""
    cache = run.dataset._cache
    if _INDEX_KEY not in cache:
        cache[_INDEX_KEY] = SearchIndex.build(run.dataset)
    return cache[_INDEX_KEY]


def user_affinity(run: Run, user_id: str, fusion: FusionConfig | None = None) -> np.ndarray:
    """(n_items,) the shopper's blended, normalised model scores of every item (module doc)."""
    try:
        u = int(run.dataset.user_ids.to_internal([str(user_id)])[0])
    except KeyError:
        raise RecsysError(f"user '{user_id}' is not in the dataset.") from None
    weights = (fusion or run.preset.fusion).weights
    total = np.zeros(run.dataset.n_items)
    mass = 0.0
    for name, model in run.stages["full"].models.items():
        w = float(weights.get(name, 1.0))
        if w <= 0:
            continue
        s = np.asarray(model.score_items(np.array([u], np.int32))[0], np.float64)
        ok = np.isfinite(s)
        if not ok.any():
            continue
        s = np.where(ok, s, np.nanmin(np.where(ok, s, np.nan)))
        total += w * minmax(s)
        mass += w
    return total / mass if mass > 0 else total


def search_for_user(
    run: Run,
    user_id: str,
    query: str,
    weight: float = 0.5,
    *,
    k: int = 20,
    fusion: FusionConfig | None = None,
) -> pd.DataFrame:
    """Plain and personalised results for ``query`` (``blend_search`` rows with item info)."""
    text = search_index(run).scores(query)
    table = blend_search(text, user_affinity(run, user_id, fusion), weight, k)
    items = table["item"].to_numpy(np.int64)
    out = pd.DataFrame({"item_id": run.dataset.item_ids.to_external(items)})
    cat = run.dataset.catalog
    for column in _SHOWN:
        if column in cat.columns:
            out[column] = cat[column].to_numpy()[items]
    return pd.concat([out, table.drop(columns="item")], axis=1)


__all__ = ["search_for_user", "search_index", "user_affinity"]
