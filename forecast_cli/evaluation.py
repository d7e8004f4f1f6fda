"""Scores of forecasts and the baselines they are scored beside, at the same origins.

Every command scores a network the same way: ``scores`` on the validation windows
(``train``, ``compare``), ``fold_table`` over rolling origins (``backtest``), each next to
``baselines`` computed from the same rows before the same origins: naive, seasonal naive
and the statistical models of ``statistical`` (``--baselines``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecast_cli.baselines import naive, seasonal_naive
from forecast_cli.config import DEFAULT_BASELINES, Baseline
from forecast_cli.metrics import mae, mase, rmse, smape
from forecast_cli.statistical import FIT_ERRORS, statistical

NAIVE, SEASONAL = Baseline.NAIVE.title, Baseline.SNAIVE.title
# The statistical models are fitted per series and run forward per origin: beyond this
# many series, or origins in one series, they are left out.
MOST_FITTED_SERIES = 50
MOST_FITTED_ORIGINS = 2000


def scores(prepared, predicted: np.ndarray) -> dict:
    """Validation MAE, RMSE and sMAPE of ``predicted`` against ``prepared``'s validation
    targets, overall, per target and, with several series, per series."""
    actual = prepared.val_actual

    def measure(a: np.ndarray, p: np.ndarray) -> dict:
        return {"val_mae": mae(a, p), "val_rmse": rmse(a, p), "val_smape": smape(a, p)}

    per_target = {
        name: measure(actual[..., i], predicted[..., i]) for i, name in enumerate(prepared.targets)
    }
    result = {
        **measure(actual, predicted),
        "val_mase": _mase(prepared, predicted),
        "per_target": per_target,
    }
    if len(prepared.parts) > 1:
        ends = np.cumsum([len(part.val_actual) for part in prepared.parts])[:-1]
        result["per_series"] = {
            part.series.name: measure(a, p)
            for part, a, p in zip(
                prepared.parts, np.split(actual, ends), np.split(predicted, ends), strict=True
            )
        }
    return result


def _mase(prepared, predicted: np.ndarray) -> float:
    """Validation MASE, each series' scaled by its training rows' seasonal naive (the
    last value's when the season is unknown or longer than them), averaged over series."""
    n_targets, each, start = len(prepared.targets), [], 0
    for part in prepared.parts:
        rows, count = part.split.train_rows, len(part.val_actual)
        season = prepared.windows.season
        season = season if season is not None and season < rows else 1
        history = part.series.values[:rows, :n_targets]
        each.append(mase(part.val_actual, predicted[start : start + count], history, season))
        start += count
    return float(np.mean(each))


def validation_baselines(prepared) -> tuple[dict[str, np.ndarray], list[str]]:
    """``baselines`` at every validation window of ``prepared`` (each series' own history,
    fitted on its training rows), stacked over the series: ``(windows, horizon, targets)``.
    The statistical models are ``prepared``'s own fits (``Prepared.val_fitted``)."""
    season, _ = baseline_season(prepared)
    forecasts, notes = baselines(
        prepared.history,
        prepared.val_origins,
        prepared.windows.horizon,
        season,
        prepared.windows.baselines,
        fit=prepared.val_fitted,
    )
    return {name: np.concatenate(each) for name, each in forecasts.items()}, notes


def beaten(network: float, others: dict[str, float], whom: str) -> list[str]:
    """A note when a baseline's MASE is lower than the network's (``whom``, e.g. 'the
    network on the validation windows'): a table that shows it should also say it."""
    best = min(others, key=others.get, default=None)
    if best is None or not others[best] < network:
        return []
    return [f"{best} beats {whom} (MASE {others[best]:.3f} against {network:.3f})."]


def baseline_season(prepared) -> tuple[int | None, list[str]]:
    """The season of seasonal naive: the run's, unless it is unknown or too long."""
    season = prepared.windows.season
    if season is None:
        return None, [
            "No season length (no regular time column): pass --season N to add the "
            "seasonal naive baseline."
        ]
    if season >= min(part.split.train_rows for part in prepared.parts):
        return None, [f"Season {season} is longer than the training part: seasonal naive left out."]
    return season, []


def too_many_to_fit(origins: list[np.ndarray]) -> str | None:
    """Why the statistical models are not fitted to series with these origins (too many
    series, or origins in one), else None."""
    most = max(len(at) for at in origins)
    if len(origins) <= MOST_FITTED_SERIES and most <= MOST_FITTED_ORIGINS:
        return None
    return (
        f"fitted per series and run per origin, they would take long on {len(origins)} "
        f"series of up to {most} origins (at most {MOST_FITTED_SERIES} series and "
        f"{MOST_FITTED_ORIGINS} origins)"
    )


def fitted(
    method: Baseline,
    history: list[np.ndarray],
    origins: list[np.ndarray],
    steps: int,
    season: int | None,
) -> list[np.ndarray | None]:
    """The statistical model ``method`` fitted on each series' ``history`` before its first
    origin, forecasting ``(origins, steps, targets)`` from each; None for a series it
    cannot be fitted on."""
    each = []
    for values, at in zip(history, origins, strict=True):
        try:
            each.append(statistical(method, values, at, steps, season))
        except FIT_ERRORS:
            each.append(None)
    return each


def baselines(
    history: list[np.ndarray],
    origins: list[np.ndarray],
    steps: int,
    season: int | None,
    methods: tuple[Baseline, ...] = DEFAULT_BASELINES,
    fit=None,
) -> tuple[dict[str, list[np.ndarray]], list[str]]:
    """Each of ``methods``' forecasts ``(origins, steps, targets)`` of each series from its
    ``history`` (rows, targets) before each of its origins, by name in the tables; and
    notes.

    Seasonal naive needs a season. The statistical models are fitted on each series' rows
    before its first origin (``fitted``, or ``fit(method)`` where the caller has them
    already); where one cannot be fitted, the naive forecast stands in (as
    statsforecast's own fallback does) and a note says so.
    """
    forecasts, notes = {}, []
    statistical_ones = [m for m in methods if m not in (Baseline.NAIVE, Baseline.SNAIVE)]
    why_not = too_many_to_fit(origins)
    if statistical_ones and why_not:
        notes.append(f"{', '.join(m.title for m in statistical_ones)} left out: {why_not}.")
        methods = tuple(m for m in methods if m not in statistical_ones)
    fit = fit or (lambda method: fitted(method, history, origins, steps, season))
    pairs = list(zip(history, origins, strict=True))
    for method in methods:
        if method is Baseline.NAIVE:
            forecasts[method.title] = [naive(values, at, steps) for values, at in pairs]
        elif method is Baseline.SNAIVE and season is not None:
            forecasts[method.title] = [
                seasonal_naive(values, at, steps, season) for values, at in pairs
            ]
        elif method not in (Baseline.NAIVE, Baseline.SNAIVE):
            models = fit(method)
            failed = sum(forecast is None for forecast in models)
            if failed:
                notes.append(
                    f"{method.title} could not be fitted on {failed} of {len(history)} "
                    "series: the naive forecast stands in there."
                )
            forecasts[method.title] = [
                naive(values, at, steps) if forecast is None else forecast
                for (values, at), forecast in zip(pairs, models, strict=True)
            ]
    return forecasts, notes


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
