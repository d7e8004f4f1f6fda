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
