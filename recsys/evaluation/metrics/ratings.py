"""Rating error: RMSE and MAE of predicted against held-out ratings."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class RMSE:
    """sqrt(mean((prediction - truth)^2)) over aligned finite pairs."""

    key = "rmse"

    def calc(self, predictions: np.ndarray, targets: np.ndarray) -> float:
        """RMSE of (n,) ``predictions`` against (n,) ``targets``; NaN without finite pairs."""
        d = _rating_diff(predictions, targets)
        return float(np.sqrt(np.mean(d**2))) if len(d) else float("nan")


@dataclass(frozen=True)
class MAE:
    """mean(|prediction - truth|) over aligned finite pairs."""

    key = "mae"

    def calc(self, predictions: np.ndarray, targets: np.ndarray) -> float:
        """MAE of (n,) ``predictions`` against (n,) ``targets``; NaN without finite pairs."""
        d = _rating_diff(predictions, targets)
        return float(np.mean(np.abs(d))) if len(d) else float("nan")


def _rating_diff(predictions: np.ndarray, targets: np.ndarray) -> np.ndarray:
    p = np.asarray(predictions, dtype=np.float64).ravel()
    t = np.asarray(targets, dtype=np.float64).ravel()
    if p.shape != t.shape:
        raise ValueError("predictions and targets must have the same length")
    ok = np.isfinite(p) & np.isfinite(t)
    return p[ok] - t[ok]
