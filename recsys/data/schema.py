"""Canonical column names, in one place.

External ids (strings, exactly as uploaded) appear only at the edges: ingest and export.
Everything in between uses internal indices ``0..n-1`` (``USER_IDX``/``ITEM_IDX``).
"""

from __future__ import annotations


class Col:
    """Column names of the clean frames that ingest produces and the library consumes."""

    USER = "user_id"  # external user id (str)
    ITEM = "item_id"  # external item id (str)
    USER_IDX = "user_idx"  # internal user index (int32)
    ITEM_IDX = "item_idx"  # internal item index (int32)

    WEIGHT = "weight"  # implicit strength of one event / aggregated pair (float32 > 0)
    RATING = "rating"  # explicit rating (float32, NaN when none)
    EVENT = "event"  # normalised event type: view | cart | favorite | purchase | other
    QUANTITY = "quantity"
    # datetime64[ns] in clean event frames; unix seconds (float64) in Dataset
    TIMESTAMP = "timestamp"
    N_EVENTS = "n_events"  # events aggregated into one user-item pair
    PURCHASED = "purchased"  # the pair contains a purchase event

    TITLE = "title"
    DESCRIPTION = "description"
    CATEGORY = "category"
    BRAND = "brand"
    PRICE = "price"
    PRICE_BAND = "price_band"
    GENRES = "genres"  # every value of a multi-valued category ("Comedy|Romance"), "|"-separated


#: Catalog columns shown beside an item wherever a page or an export lists items.
ITEM_INFO: tuple[str, ...] = (Col.TITLE, Col.CATEGORY, Col.BRAND, Col.PRICE, Col.PRICE_BAND)

#: Roles an interaction log can carry; ``user`` and ``item`` are required.
INTERACTION_ROLES: tuple[str, ...] = ("user", "item", "rating", "event", "quantity", "timestamp")
#: Roles a catalog can carry; ``item`` is required; any other column is kept as an attribute.
CATALOG_ROLES: tuple[str, ...] = ("item", "title", "description", "category", "brand", "price")

#: Role -> canonical column name.
ROLE_COLUMN: dict[str, str] = {
    "user": Col.USER,
    "item": Col.ITEM,
    "rating": Col.RATING,
    "event": Col.EVENT,
    "quantity": Col.QUANTITY,
    "timestamp": Col.TIMESTAMP,
    "title": Col.TITLE,
    "description": Col.DESCRIPTION,
    "category": Col.CATEGORY,
    "brand": Col.BRAND,
    "price": Col.PRICE,
}

#: Default implicit weight of each normalised event type (configurable per upload).
DEFAULT_EVENT_WEIGHTS: dict[str, float] = {
    "view": 1.0,
    "cart": 3.0,
    "favorite": 3.0,
    "purchase": 5.0,
    "other": 1.0,
}

#: Text columns of the catalog that feed content features.
TEXT_COLUMNS: tuple[str, ...] = (Col.TITLE, Col.DESCRIPTION)
#: Categorical catalog columns that feed one-hot features.
CATEGORICAL_COLUMNS: tuple[str, ...] = (Col.CATEGORY, Col.BRAND, Col.PRICE_BAND)
