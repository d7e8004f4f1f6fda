"""Forecast error measures, in the data's own units."""

from __future__ import annotations

import numpy as np


def mae(actual: np.ndarray, predicted: np.ndarray) -> float:
    return float(np.mean(np.abs(actual - predicted)))


def rmse(actual: np.ndarray, predicted: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(actual - predicted))))


def smape(actual: np.ndarray, predicted: np.ndarray) -> float:
    """Symmetric mean absolute percentage error, in percent (0 where both are 0)."""
    denominator = np.abs(actual) + np.abs(predicted)
    ratio = np.divide(
        2 * np.abs(actual - predicted),
        denominator,
        out=np.zeros_like(denominator, dtype=float),
        where=denominator > 0,
    )
    return float(100 * np.mean(ratio))


def mase(actual: np.ndarray, predicted: np.ndarray, history: np.ndarray, season: int) -> float:
    """Mean absolute scaled error: MAE over the in-sample MAE of the seasonal naive forecast
    (``season`` steps back) on ``history``, the data the forecaster saw. Below 1 beats it."""
    scale = float(np.mean(np.abs(history[season:] - history[:-season])))
    return mae(actual, predicted) / scale if scale > 0 else float("nan")
