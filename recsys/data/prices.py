"""The one price-band rule: quartiles of the catalog's known prices."""

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
