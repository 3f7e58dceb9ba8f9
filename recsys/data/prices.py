"""Prices: the one price-band rule (quartiles of the catalog's known prices) and how prices show.

A dataset's currency is a setting stored with it (``meta["currency"]``): ``""`` (none, the
catalog's own unit, the default for uploads), ``"¥"``, ``"£"``, ``"$"`` or ``"€"``; the demo
store's prices are in yuan. Decimals follow the catalog: whole-number prices show none, any
price with cents or pence shows two for every price (0.85 stays 0.85, never "1").
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: Band labels, cheapest first: <= Q1, <= Q2, <= Q3, above.
PRICE_BANDS: tuple[str, ...] = ("budget", "mid", "premium", "luxury")


def price_bands(price: pd.Series | np.ndarray) -> np.ndarray:
    """(n,) object array: the quartile band of each price, ``""`` where the price is unknown.

    Unknown = missing, unreadable, zero or negative. Quartiles are taken over the known prices:
    ``budget`` (<= Q1), ``mid`` (<= Q2), ``premium`` (<= Q3), ``luxury`` (above Q3).
    """
    p = pd.to_numeric(pd.Series(np.asarray(price)), errors="coerce").to_numpy(np.float64)
    known = np.isfinite(p) & (p > 0)
    band = np.full(len(p), "", dtype=object)
    if known.any():
        edges = np.quantile(p[known], [0.25, 0.5, 0.75])
        idx = np.searchsorted(edges, p[known], side="left")
        band[known] = np.asarray(PRICE_BANDS, dtype=object)[idx]
    return band


#: The currency choices, symbol -> ISO-ish name ("" = no currency shown).
CURRENCIES: dict[str, str] = {"": "none", "¥": "CNY", "£": "GBP", "$": "USD", "€": "EUR"}


def price_decimals(prices) -> int:
    """0 when every known price is a whole number, else 2 (shown the same way everywhere)."""
    p = np.asarray(prices, dtype=np.float64)
    p = p[np.isfinite(p)]
    return 0 if len(p) == 0 or bool(np.all(np.abs(p - np.round(p)) < 1e-9)) else 2


def format_price(value, currency: str = "", decimals: int = 2) -> str:
    """``£0.85``, ``¥1,299``, ``829.00``; ``""`` for an unknown price (None, NaN, <= 0)."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        return ""
    if not np.isfinite(v) or v <= 0:
        return ""
    return f"{currency}{v:,.{int(decimals)}f}"


def price_column_format(currency: str = "", decimals: int = 2) -> str:
    """A printf format for a table's price column: ``£%.2f``, ``%.0f``."""
    return f"{currency.replace('%', '%%')}%.{int(decimals)}f"
