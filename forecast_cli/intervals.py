"""Prediction intervals by split conformal calibration, per step ahead.

The network forecasts ``steps`` ahead from every origin in the validation tail (rows the
network was not fitted to), exactly as it will forecast the future: recursively, from the
windows before each origin. For each step ahead ``h`` and target, the absolute errors of
those forecasts give the interval's half-width at level ``q``: their
``ceil((n + 1) q) / n`` empirical quantile over the ``n`` origins, the split-conformal
rule that covers a new point with probability at least ``q`` when errors are exchangeable.
A global network's series share one calibration, each series' errors in its own scale.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from forecast_cli.config import Head
from forecast_cli.errors import ForecastError
from forecast_cli.forecasting import roll
from forecast_cli.scaling import Scaler
from forecast_cli.windows import lead, make_windows, rows_ahead

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


@dataclass(frozen=True)
class Calibration:
    """One series to calibrate on: its rows in data units, its scaler, and the first row
    of its validation tail."""

    values: np.ndarray  # (rows, columns)
    scaler: Scaler
    start: int
    known_ahead: slice = field(default_factory=lambda: slice(0, 0))  # its future features


def calibrate(
    model,
    head: Head,
    series: list[Calibration],
    lookback: int,
    steps: int,
    n_targets: int,
    levels: tuple[int, ...],
) -> list[dict[int, np.ndarray]]:
    """Half-widths ``{level: (steps, targets)}`` per series, from the forecasts of
    ``steps`` steps at every origin of each series' validation tail.

    With several series (one global network) the errors are pooled: each series' divided
    by its scale, so that series of any level count alike, and each series' half-widths
    are the pooled quantiles times its own scale. One series' are its errors' quantiles.
    """
    scales = [np.asarray(one.scaler.scale[:n_targets], dtype=np.float32) for one in series]
    horizon = model.output_shape[-2]
    firsts = [max(one.start - lookback, 0) for one in series]  # window of the tail's first row
    # origins with ``steps`` of truth after them, and their future features for as long
    # as the roll reads them
    reach = [
        rows_ahead(steps, horizon) if one.known_ahead.stop > one.known_ahead.start else steps
        for one in series
    ]
    counts = [
        max(len(one.values) - lookback - span + 1 - first, 0)
        for one, first, span in zip(series, firsts, reach, strict=True)
    ]
    origins = sum(counts)
    if origins < MIN_ORIGINS:
        raise ForecastError(
            f"--intervals needs at least {MIN_ORIGINS} validation origins with {steps} steps of "
            f"truth after them; {'these series have' if len(series) > 1 else 'this series has'} "
            f"{origins}. Use fewer --steps."
        )
    windows, known, actual = [], [], []
    for one, first, count, scale in zip(series, firsts, counts, scales, strict=True):
        if count == 0:
            continue
        scaled = lead(one.scaler.transform(one.values), one.known_ahead, horizon)
        inputs, _ = make_windows(scaled, lookback, steps, n_targets)
        _, truth = make_windows(one.values, lookback, steps, n_targets)
        extra = scaled.shape[1] - n_targets
        _, ahead = make_windows(scaled[:, n_targets:], lookback, steps, extra)
        origins_of = slice(first, first + count)
        windows.append(inputs[origins_of])
        known.append(ahead[origins_of])
        actual.append((truth[origins_of], one.scaler, scale))
    forecasts = roll(model, np.concatenate(windows), steps, head, np.concatenate(known))
    pieces = np.split(forecasts, np.cumsum([len(truth) for truth, _, _ in actual])[:-1])
    errors = np.sort(
        np.concatenate(
            [
                np.abs(truth - scaler.inverse(piece)) / scale
                for (truth, scaler, scale), piece in zip(actual, pieces, strict=True)
            ]
        ),
        axis=0,
    )  # (origins, steps, targets), in each series' scale
    widths = {}
    for level in levels:
        rank = min(math.ceil((origins + 1) * level / 100), origins)  # 1-based order statistic
        widths[level] = errors[rank - 1]
    return [{level: width * scale for level, width in widths.items()} for scale in scales]
