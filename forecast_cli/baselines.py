"""The forecasts a network has to beat: naive (last value) and seasonal naive.

Both are computed from the series itself at given *origins*: the row index of the first
value to forecast. Only rows before the origin are read.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# Season length by the base of a pandas frequency alias: hourly data repeats daily, etc.
# ("H" and "A" are the hourly and yearly aliases of pandas before 2.2.)
_SEASONS = {"h": 24, "H": 24, "D": 7, "B": 5, "W": 52, "M": 12, "Q": 4, "Y": 1, "A": 1}
# Choosing a period from the data: the longest one looked for (a year of days), and the
# thresholds of ``likely_period`` and ``season_fits``.
LONGEST_SEASON = 400
_MAX_ORIGINS = 2000
_MARGIN = 0.1
_SEASONAL_GAIN = 0.8
_ROUNDING = 1e-6  # errors below this (in standard deviations) are float32 rounding
_WRONG_SEASON = 1.5


def naive(values: np.ndarray, origins: np.ndarray, steps: int) -> np.ndarray:
    """``(len(origins), steps, columns)``: the last value before each origin, repeated."""
    last = values[np.asarray(origins) - 1]
    return np.repeat(last[:, None], steps, axis=1)


def seasonal_naive(values: np.ndarray, origins: np.ndarray, steps: int, season: int) -> np.ndarray:
    """``(len(origins), steps, columns)``: each step takes the value one season earlier,
    from the last season observed before the origin."""
    ahead = np.arange(steps)
    back = season * ((ahead + season) // season)  # whole seasons back to observed data
    rows = np.asarray(origins)[:, None] + ahead[None] - back[None]
    return values[rows]


def season_from_freq(freq: str | None) -> int | None:
    """The usual season length for a frequency ('h' -> 24, 'D' -> 7, 'ME' -> 12...)."""
    if not freq:
        return None
    offset = pd.tseries.frequencies.to_offset(freq)
    base = _SEASONS.get(offset.rule_code[:1])  # 'W-SUN' -> 'W', 'QE-DEC' -> 'Q'
    if base is None or base % offset.n:  # e.g. minutes, or every 7 hours
        return None
    return base // offset.n


def fitted_errors(values: np.ndarray, horizon: int, periods: list[int]) -> dict[int, float]:
    """How well repeating the value ``period`` steps back forecasts ``values`` itself.

    For each period (1 is the naive forecast) the mean absolute ``horizon``-step error over
    the same origins, at most the last ``_MAX_ORIGINS``, each column's error divided by that
    column's spread so that targets in different units count alike.
    """
    first = max(periods)
    origins = np.arange(
        max(first, len(values) - horizon + 1 - _MAX_ORIGINS), len(values) - horizon + 1
    )
    if len(origins) == 0:
        return {}
    spread = np.nanstd(values, axis=0)
    spread[~(spread > 0)] = 1.0
    truth = values[origins[:, None] + np.arange(horizon)[None]]
    return {
        period: float(
            np.mean(np.abs(seasonal_naive(values, origins, horizon, period) - truth) / spread)
        )
        for period in periods
    }


def likely_period(errors: dict[int, float]) -> int:
    """The period to repeat, from ``fitted_errors`` over 1, 2, ... periods; 1 if none fits.

    Errors measured on a few hundred noisy origins differ by chance by up to about 10%, so
    a season must beat the last value clearly (error at most ``_SEASONAL_GAIN`` times its
    error), and the shortest period within ``_MARGIN`` of the best is taken: not a multiple
    of the season, nor a lucky draw.
    """
    best = min(errors.values())
    if best > _SEASONAL_GAIN * errors[1]:
        return 1
    near = best * (1 + _MARGIN) + _ROUNDING
    return min(period for period, error in errors.items() if error <= near)


def season_fits(errors: dict[int, float], season: int) -> bool:
    """Whether repeating ``season`` fits within ``_WRONG_SEASON`` times the best period's
    error (a 40-step cycle sampled hourly does not fit a season of 24). A season too long
    to be measured does not: the series is too short to show it."""
    best = min(errors.values())
    return season in errors and errors[season] <= _WRONG_SEASON * best + _ROUNDING
