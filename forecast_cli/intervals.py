"""Prediction intervals by split conformal calibration, per step ahead.

The network forecasts ``steps`` ahead from every origin in the validation tail (rows the
network was not fitted to), exactly as it will forecast the future: recursively, from the
windows before each origin. For each step ahead ``h`` and target, the absolute errors of
those forecasts give the interval's half-width at level ``q``: their
``ceil((n + 1) q) / n`` empirical quantile over the ``n`` origins, the split-conformal
rule that covers a new point with probability at least ``q`` when errors are exchangeable.
"""

from __future__ import annotations

import math

import numpy as np

from forecast_cli.config import Head
from forecast_cli.errors import ForecastError
from forecast_cli.forecasting import roll
from forecast_cli.scaling import Scaler
from forecast_cli.windows import make_windows

MIN_ORIGINS = 10


def parse_levels(text: str) -> tuple[int, ...]:
    """``--intervals 80,95`` -> (80, 95)."""
    try:
        levels = tuple(sorted({int(part) for part in text.split(",") if part.strip()}))
    except ValueError:
        levels = ()
    if not levels or not all(0 < level < 100 for level in levels):
        raise ForecastError(
            f"--intervals: expected coverage levels in percent between 1 and 99, "
            f"comma-separated (e.g. 80,95), got {text!r}."
        )
    return levels


def calibrate(
    model,
    head: Head,
    scaler: Scaler,
    values: np.ndarray,
    calibration_start: int,
    lookback: int,
    steps: int,
    n_targets: int,
    levels: tuple[int, ...],
) -> dict[int, np.ndarray]:
    """Half-widths ``{level: (steps, targets)}`` from origins at or after row
    ``calibration_start`` of ``values`` (rows, columns) in data units."""
    first = max(calibration_start - lookback, 0)  # the window whose first target is that row
    origins = len(values) - lookback - steps + 1 - first
    if origins < MIN_ORIGINS:
        raise ForecastError(
            f"--intervals needs at least {MIN_ORIGINS} validation origins with {steps} steps of "
            f"truth after them; this series has {max(origins, 0)}. Use fewer --steps."
        )
    scaled = scaler.transform(values)
    inputs, _ = make_windows(scaled, lookback, steps, n_targets)
    _, actual = make_windows(values, lookback, steps, n_targets)
    extra = values.shape[1] - n_targets
    _, known_features = make_windows(scaled[:, n_targets:], lookback, steps, extra)
    forecasts = scaler.inverse(
        roll(
            model,
            np.ascontiguousarray(inputs[first:]),
            steps,
            head,
            np.ascontiguousarray(known_features[first:]),
        )
    )
    errors = np.sort(np.abs(actual[first:] - forecasts), axis=0)  # (origins, steps, targets)
    widths = {}
    for level in levels:
        rank = min(math.ceil((origins + 1) * level / 100), origins)  # 1-based order statistic
        widths[level] = errors[rank - 1]
    return widths
