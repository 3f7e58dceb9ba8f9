"""Small summary tables of a dataset, for the Data page's charts (no Streamlit here)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from recsys.data.dataset import Dataset
from recsys.data.features import item_category_sets
from recsys.data.schema import Col

#: Placeholder for empty attribute values in the summary tables.
UNKNOWN = "\x00unknown"
#: Display order of the price bands (unknown last).
BAND_ORDER: dict[str, int] = {"budget": 0, "mid": 1, "premium": 2, "luxury": 3, UNKNOWN: 9}
#: Catalog attributes summarised as a mix of items and interactions.
MIX_COLUMNS: tuple[str, ...] = (Col.CATEGORY, Col.BRAND, Col.PRICE_BAND)


def attribute_mix(ds: Dataset, column: str) -> pd.DataFrame | None:
    """Items and user-item pairs per value of a catalog ``column``, most pairs first.

    Columns ``value, items, pairs, items_share, pairs_share``; empty values become ``UNKNOWN``.
    None when the catalog has no such column or it is empty. A multi-valued category
    (``Col.GENRES``, e.g. MovieLens's "Comedy|Romance") counts every value: an item and its
    pairs count once per genre, and the shares are of genre assignments.
    """
    cat = ds.catalog
    if column not in cat.columns or not cat[column].notna().any():
        return None
    source = column
    if column == Col.CATEGORY and Col.GENRES in cat.columns and cat[Col.GENRES].notna().any():
        source = Col.GENRES  # multi-valued categories: every genre of an item counts
    values = cat[source].fillna("").astype(str).str.strip()
    frame = pd.DataFrame({"value": values, "pairs": ds.item_popularity()})
    if source == Col.GENRES:
        frame["value"] = frame["value"].str.split("|")
        frame = frame.explode("value")
        frame["value"] = frame["value"].str.strip()
    frame["value"] = frame["value"].replace("", UNKNOWN)
    agg = frame.groupby("value").agg(items=("pairs", "size"), pairs=("pairs", "sum")).reset_index()
    agg["items_share"] = agg["items"] / max(agg["items"].sum(), 1)
    agg["pairs_share"] = agg["pairs"] / max(agg["pairs"].sum(), 1)
    return agg.sort_values("pairs", ascending=False)


def category_share(ds: Dataset, counts: np.ndarray, unknown: str = "—") -> pd.Series | None:
    """Share of ``counts`` (n_items,) per category, by label; None without categories.

    Multi-valued categories (``Col.GENRES``) count every value: an item's count is split over
    its k values (1/k each), so the shares still add up to one. Items without a category fall
    under ``unknown``.
    """
    if Col.CATEGORY not in ds.catalog.columns:
        return None
    counts = np.asarray(counts, dtype=np.float64)
    sets = item_category_sets(ds)
    if sets is None:
        names = ds.catalog[Col.CATEGORY].fillna(unknown).astype(str).to_numpy()
        share = pd.Series(counts, index=names).groupby(level=0).sum()
    else:
        matrix, labels = sets
        share = pd.Series(matrix.T @ counts, index=labels)
        none = np.asarray(matrix.sum(axis=1)).ravel() == 0
        if none.any():
            share[unknown] = counts[none].sum()
    return share / max(float(share.sum()), 1.0)


def summary_tables(ds: Dataset) -> dict[str, pd.DataFrame]:
    """The tables the Data page charts, by name.

    ``per_user`` / ``per_item`` (column ``n``: pairs per user / item); one ``attribute_mix``
    per column of ``MIX_COLUMNS`` the catalog has; ``ratings`` (``rating, pairs``) when the data
    has ratings; ``weekly`` (``week, pairs``: pairs first seen per week) when it has timestamps.
    """
    inter = ds.interactions
    out: dict[str, pd.DataFrame] = {
        "per_user": pd.DataFrame({"n": ds.user_activity()}),
        "per_item": pd.DataFrame({"n": ds.item_popularity()}),
    }
    for column in MIX_COLUMNS:
        mix = attribute_mix(ds, column)
        if mix is not None:
            out[column] = mix
    if Col.RATING in inter.columns and inter[Col.RATING].notna().any():
        ratings = inter[Col.RATING].dropna().round(2).value_counts().sort_index()
        out["ratings"] = pd.DataFrame({"rating": ratings.index, "pairs": ratings.to_numpy()})
    if ds.has_timestamps:
        ts = pd.to_datetime(inter[Col.TIMESTAMP].dropna(), unit="s")
        weekly = ts.dt.to_period("W").dt.start_time.value_counts().sort_index()
        out["weekly"] = pd.DataFrame({"week": weekly.index, "pairs": weekly.to_numpy()})
    return out
