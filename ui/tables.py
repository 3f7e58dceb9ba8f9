"""Tables: translated column configs, which columns are worth showing, localised titles."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from recsys.data.prices import format_price, price_column_format, price_decimals
from ui import state
from ui.i18n import lang_is_zh, t

#: Session key of the active dataset's (dataset id, currency, decimals).
_PRICE_STYLE = "_price_style"


def price_style() -> tuple[str, int]:
    """(currency symbol, decimals) of the active dataset's prices, the same on every page.

    The currency is the dataset's setting (``meta["currency"]``; the demo store: ¥); the
    decimals follow its catalog (two as soon as one price has cents or pence).
    """
    ss = st.session_state
    ds_id = ss.get("dataset_id")
    cached = ss.get(_PRICE_STYLE)
    if cached is not None and cached[0] == ds_id:
        return cached[1], cached[2]
    meta = state.dataset_meta(ds_id) if ds_id else {}
    currency = meta.get("currency", "¥" if meta.get("source") == "demo" else "")
    ds = state.get_dataset() if ds_id else None
    catalog = getattr(ds, "catalog", None)
    decimals = price_decimals(catalog["price"]) if catalog is not None and "price" in catalog else 2
    ss[_PRICE_STYLE] = (ds_id, str(currency or ""), decimals)
    return str(currency or ""), decimals


def forget_price_style() -> None:
    """Read the currency again (after the setting changed)."""
    st.session_state.pop(_PRICE_STYLE, None)


def price_text(value) -> str:
    """A price as the active dataset shows it: ``£0.85``, ``¥1,299``; ``""`` when unknown."""
    currency, decimals = price_style()
    return format_price(value, currency, decimals)


def price_column(**kwargs) -> st.column_config.NumberColumn:
    """A table's price column in the dataset's currency and decimals."""
    currency, decimals = price_style()
    return st.column_config.NumberColumn(
        t("common.price"), format=price_column_format(currency, decimals), **kwargs
    )


def item_columns(**extra) -> dict:
    """Translated ``column_config`` for the usual item / user columns, plus ``extra``."""
    cc = st.column_config
    return {
        "user_id": cc.TextColumn(t("common.user")),
        "item_id": cc.TextColumn(t("common.item")),
        "rank": cc.NumberColumn(t("common.rank"), width="small"),
        "position": cc.NumberColumn(t("common.rank"), width="small"),
        "title": cc.TextColumn(t("common.title"), width="large"),
        "category": cc.TextColumn(t("common.category")),
        "brand": cc.TextColumn(t("common.brand")),
        "price": price_column(),
        "price_band": cc.TextColumn(t("common.price_band")),
        "segment": cc.TextColumn(t("common.segment")),
        **extra,
    }


def shown_columns(frame: pd.DataFrame, columns: list[str], dataset=None) -> list[str]:
    """The ``columns`` of ``frame`` worth showing: present and not empty for this data.

    A column whose values are all missing (no brand, no price in the catalog) is dropped; so
    are the per-pair flags that say nothing for the dataset as a whole: ``purchased`` when the
    data has no purchases (ratings, views only), ``n_events`` when every pair is one event,
    ``rating`` when the data has no ratings.
    """
    inter = getattr(dataset, "interactions", None)
    out = []
    for c in columns:
        if c not in frame.columns:
            continue
        if inter is not None and c == "purchased":
            if "purchased" not in inter.columns or not inter["purchased"].any():
                continue
        elif inter is not None and c == "n_events":
            if "n_events" not in inter.columns or not (inter["n_events"] > 1).any():
                continue
        elif c == "rating" and dataset is not None and not getattr(dataset, "has_ratings", True):
            continue
        values = frame[c]
        if len(values) and not values.notna().any():
            continue
        if (
            len(values)
            and values.dtype == object
            and not values.astype(str).str.strip().ne("").any()
        ):
            continue
        out.append(c)
    return out


def localized_titles(
    frame: pd.DataFrame, dataset, item_col: str = "item_id", title_col: str = "title"
) -> pd.DataFrame:
    """In Chinese mode, show the catalog's ``title_zh`` (when it has one) instead of ``title``."""
    cat = dataset.catalog
    if not lang_is_zh() or "title_zh" not in cat.columns or item_col not in frame.columns:
        return frame
    zh = pd.Series(cat["title_zh"].to_numpy(), index=cat["item_id"].astype(str).to_numpy())
    mapped = frame[item_col].astype(str).map(zh)
    out = frame.copy()
    if title_col in out.columns:
        out[title_col] = mapped.where(mapped.notna() & (mapped.astype(str) != ""), out[title_col])
    return out


def item_titles(dataset) -> dict[str, str]:
    """``item id -> title`` (localised; the id itself when the catalog has no title)."""
    cat = dataset.catalog
    shown = localized_titles(
        cat[["item_id", "title"]] if "title" in cat.columns else cat[["item_id"]], dataset
    )
    titles = shown["title"] if "title" in shown.columns else shown["item_id"]
    return dict(zip(shown["item_id"].astype(str), titles.astype(str), strict=True))
