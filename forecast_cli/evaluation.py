"""Scores of forecasts and the baselines they are scored beside, at the same origins.

Every command scores a network the same way: ``scores`` on the validation windows
(``train``, ``compare``), ``fold_table`` over rolling origins (``backtest``), each next to
``baselines`` computed from the same rows before the same origins.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecast_cli.baselines import naive, seasonal_naive
from forecast_cli.metrics import mae, mase, rmse, smape

NAIVE, SEASONAL = "naive", "seasonal naive"


def scores(prepared, predicted: np.ndarray) -> dict:
    """Validation MAE, RMSE and sMAPE of ``predicted`` against ``prepared``'s validation
    targets, overall, per target and, with several series, per series."""
    actual = prepared.val_actual

    def measure(a: np.ndarray, p: np.ndarray) -> dict:
        return {"val_mae": mae(a, p), "val_rmse": rmse(a, p), "val_smape": smape(a, p)}

    per_target = {
        name: measure(actual[..., i], predicted[..., i]) for i, name in enumerate(prepared.targets)
    }
    result = {**measure(actual, predicted), "per_target": per_target}
    if len(prepared.parts) > 1:
        ends = np.cumsum([len(part.val_actual) for part in prepared.parts])[:-1]
        result["per_series"] = {
            part.series.name: measure(a, p)
            for part, a, p in zip(
                prepared.parts, np.split(actual, ends), np.split(predicted, ends), strict=True
            )
        }
    return result


def baselines(
    history: list[np.ndarray], origins: list[np.ndarray], steps: int, season: int | None
) -> dict[str, list[np.ndarray]]:
    """Naive and (with a season) seasonal naive forecasts ``(origins, steps, targets)``
    of each series, from its ``history`` (rows, targets) before each of its origins."""
    methods = {NAIVE: naive}
    if season is not None:
        methods[SEASONAL] = lambda values, at, steps: seasonal_naive(values, at, steps, season)
    return {
        name: [method(h, o, steps) for h, o in zip(history, origins, strict=True)]
        for name, method in methods.items()
    }


def fold_table(folds: list, season: int, levels: tuple[int, ...], model: str) -> pd.DataFrame:
    """Scores per fold and method, then over all folds (MASE: the mean of the folds' and
    series'), with the coverage of ``model``'s intervals."""
    rows = []
    groups = [(str(f.number), [f], f.cutoff + 1) for f in folds] + [("all", folds, None)]
    for label, group, cutoff in groups:
        for method in folds[0].forecasts:
            actual = np.concatenate([fold.actual for fold in group])
            predicted = np.concatenate([fold.forecasts[method] for fold in group])
            scaled = [
                mase(a, p, h, season)
                for f in group
                for a, p, h in zip(f.actual, f.forecasts[method], f.history, strict=True)
            ]
            coverage = _coverage(group, model, levels)
            rows.append(
                {
                    "fold": label,
                    "cutoff": cutoff,
                    "method": method,
                    "mae": mae(actual, predicted),
                    "rmse": rmse(actual, predicted),
                    "smape": smape(actual, predicted),
                    "mase": float(np.mean(scaled)),
                    **{
                        key: share if method == model else float("nan")
                        for key, share in coverage.items()
                    },
                }
            )
    return pd.DataFrame(rows).astype({"cutoff": "Int64"})


def _coverage(folds: list, model: str, levels: tuple[int, ...]) -> dict[str, float]:
    """Share (percent) of the true values inside ``model``'s intervals, per level, over
    the folds whose validation tail was long enough to calibrate them (NaN if none was)."""
    coverage = {}
    for level in levels:
        inside = [
            np.abs(f.actual - f.forecasts[model]) <= f.widths[level]
            for f in folds
            if level in f.widths
        ]
        coverage[f"coverage_{level}"] = (
            100 * float(np.mean(np.concatenate(inside))) if inside else float("nan")
        )
    return coverage
