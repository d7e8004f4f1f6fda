"""Cut a series into overlapping (samples, lookback, features) windows and split them by time.

Window ``i`` reads rows ``i .. i+lookback-1``; its targets are rows
``i+lookback .. i+lookback+horizon-1``, so every target lies strictly after its window.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from forecast_cli.errors import ForecastError
from forecast_cli.scaling import Scaler


@dataclass(frozen=True)
class Split:
    """A time split: rows before ``train_rows`` train, the tail validates.

    Training windows have all their targets before ``train_rows``; validation windows
    have all their targets at or after it. The ``horizon - 1`` windows whose targets
    straddle the cut belong to neither, so no target is used by both parts.
    """

    rows: int
    lookback: int
    horizon: int
    train_rows: int

    @property
    def train_windows(self) -> int:
        return self.train_rows - self.lookback - self.horizon + 1

    @property
    def val_start(self) -> int:
        """Index of the first validation window (its first target is row ``train_rows``)."""
        return self.train_rows - self.lookback

    @property
    def val_windows(self) -> int:
        return self.rows - self.horizon - self.train_rows + 1


def split_series(rows: int, lookback: int, horizon: int, val_fraction: float) -> Split:
    """Split ``rows`` so the last ``val_fraction`` (at least one horizon) validates."""
    split = _split(rows, lookback, horizon, val_fraction)
    if split.train_windows < 1:
        lookbacks = _longest(lookback, lambda n: too_short(rows, n, horizon, val_fraction))
        horizons = _longest(horizon, lambda n: too_short(rows, lookback, n, val_fraction))
        shorter = [
            f"--{name} {most} or less"
            for name, most in (("lookback", lookbacks), ("horizon", horizons))
            if most
        ]
        raise ForecastError(
            f"The series has {rows} row{'s' * (rows != 1)}, too few for --lookback {lookback}, "
            f"--horizon {horizon} and --val-fraction {val_fraction}: they need at least "
            f"{rows_needed(lookback, horizon, val_fraction)} rows. Use "
            f"{', or '.join([*shorter, 'a longer series'])}."
        )
    return split


def rows_needed(lookback: int, horizon: int, val_fraction: float) -> int:
    """The fewest rows that leave a training window (``split_series``)."""
    return next(
        n
        for n in itertools.count(lookback + 2 * horizon)
        if not too_short(n, lookback, horizon, val_fraction)
    )


def _longest(below: int, fails: Callable[[int], bool]) -> int:
    """The largest length under ``below`` that does not ``fail``; 0 if none."""
    return next((n for n in range(below - 1, 0, -1) if not fails(n)), 0)


def training_rows(rows: int, horizon: int, val_fraction: float) -> int:
    """How many of ``rows`` train: all but the last ``val_fraction``, or at least a horizon."""
    return rows - max(horizon, math.ceil(val_fraction * rows))


def too_short(rows: int, lookback: int, horizon: int, val_fraction: float) -> bool:
    """Whether ``rows`` leave no training window (``split_series`` would refuse them)."""
    return _split(rows, lookback, horizon, val_fraction).train_windows < 1


def _split(rows: int, lookback: int, horizon: int, val_fraction: float) -> Split:
    return Split(rows, lookback, horizon, training_rows(rows, horizon, val_fraction))


def make_windows(
    values: np.ndarray, lookback: int, horizon: int, n_targets: int
) -> tuple[np.ndarray, np.ndarray]:
    """Inputs ``(samples, lookback, features)`` and targets ``(samples, horizon, n_targets)``.

    Both are read-only views of ``values``: no window is copied.
    """
    count = len(values) - lookback - horizon + 1
    inputs = sliding_window_view(values[: count + lookback - 1], lookback, axis=0)
    targets = sliding_window_view(values[lookback:, :n_targets], horizon, axis=0)
    return inputs.transpose(0, 2, 1), targets.transpose(0, 2, 1)


def lead(values: np.ndarray, columns: slice, horizon: int) -> np.ndarray:
    """``values`` with ``columns`` (inputs known ahead) moved ``horizon`` rows earlier.

    Row ``t`` then holds their values at ``t + horizon``, so a window ending at row ``t``
    also reads them for each of the ``horizon`` steps it forecasts (the decoder inputs of
    sequence-to-sequence models, without a second input). The last ``horizon`` rows,
    whose values lie past the end, are NaN: no window with all its targets inside
    ``values`` reads them.
    """
    if columns.start == columns.stop:
        return values
    led = np.array(values, dtype=np.float32)
    led[:, columns] = np.nan
    led[:-horizon, columns] = values[horizon:, columns]
    return led


def rows_ahead(steps: int, horizon: int) -> int:
    """Rows after a window's end whose known-ahead inputs a forecast of ``steps`` reads:
    the network emits ``horizon`` steps per call, reading each call's inputs whole."""
    return math.ceil(steps / horizon) * horizon


def forecast_inputs(
    values: np.ndarray,
    end: int,
    scaler: Scaler,
    known_ahead: slice,
    lookback: int,
    steps: int,
    horizon: int,
    n_targets: int,
) -> tuple[np.ndarray, np.ndarray | None]:
    """The scaled window that forecasts row ``end`` onwards, and the extra inputs of the
    rows a roll of ``steps`` appends to it (``None`` within one horizon).

    ``values`` (data units) holds, after ``end``, the inputs known there: the future
    features for ``rows_ahead`` rows, the calendar; the targets there are not read.
    """
    calls = math.ceil(steps / horizon)
    table = lead(
        scaler.transform(values[end - lookback : end + calls * horizon]), known_ahead, horizon
    )
    extras = table[lookback : lookback + (calls - 1) * horizon, n_targets:]
    return table[:lookback], extras if calls > 1 else None
