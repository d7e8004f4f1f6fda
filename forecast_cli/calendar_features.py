"""Calendar inputs (``--calendar``): where each time falls in its day, week and year.

Each cycle is encoded as the sine and cosine of the time's position in it, so that 23:00
is as close to 00:00 as 22:00 is. A cycle is used only when the series' step is shorter
than it (hourly data gets the day, week and year; monthly data the year alone). Being
known for any future time, these inputs are computed for the steps a forecast feeds back
and need no ``--future-data``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

DAY = pd.Timedelta(days=1)
_CYCLES = (("day", DAY), ("week", 7 * DAY), ("year", 365 * DAY))


def calendar_names(times: pd.DatetimeIndex) -> tuple[str, ...]:
    """The columns ``calendar_values`` makes for a series sampled like ``times``."""
    step = pd.Timedelta(int(np.median(np.diff(times.asi8))), unit=times.unit)
    return tuple(
        f"{cycle}_{part}" for cycle, length in _CYCLES if step < length for part in ("sin", "cos")
    )


def calendar_values(times: pd.DatetimeIndex, names: tuple[str, ...]) -> np.ndarray:
    """``(len(times), len(names))`` float32: the named encodings of each time."""
    of_day = (times.hour * 3600 + times.minute * 60 + times.second).to_numpy() / 86400
    position = {
        "day": of_day,
        "week": (times.day_of_week.to_numpy() + of_day) / 7,
        "year": (times.day_of_year.to_numpy() - 1 + of_day)
        / np.where(times.is_leap_year, 366, 365),
    }
    columns = []
    for name in names:
        cycle, part = name.split("_")
        angle = 2 * np.pi * position[cycle]
        columns.append(np.sin(angle) if part == "sin" else np.cos(angle))
    return np.stack(columns, axis=1).astype(np.float32)


def future_times(times: pd.DatetimeIndex, freq: str, count: int) -> pd.DatetimeIndex:
    """The ``count`` times after ``times`` at the series' frequency."""
    return pd.date_range(times[-1], periods=count + 1, freq=freq)[1:]


def future_calendar(
    times: pd.DatetimeIndex, freq: str, names: tuple[str, ...], count: int
) -> np.ndarray:
    """``(count, len(names))``: the calendar inputs of the ``count`` steps after ``times``."""
    return calendar_values(future_times(times, freq, count), names)
