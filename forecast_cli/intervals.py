"""Prediction intervals by split conformal calibration, per step ahead.

The network forecasts ``steps`` ahead from every origin in the validation tail (rows the
network was not fitted to), exactly as it will forecast the future: recursively, from the
windows before each origin. For each step ahead ``h`` and target, the absolute errors of
those forecasts give the interval's half-width at level ``q``: their
``ceil((n + 1) q) / n`` empirical quantile over the ``n`` origins, the split-conformal
rule that covers a new point with probability at least ``q`` when errors are exchangeable.
A global network's series share one calibration, each series' errors in its own scale.

Two choices keep the intervals honest on short series (measured on the evaluation set,
``bench/eval_defaults.py``):

* The widths never shrink with the step ahead: a few dozen origins give each step a noisy
  quantile, and a forecast further ahead is no surer than a nearer one.
* They come from the network's own errors, also where the forecast averages it with
  statistical models (``combination``): the combination was chosen for having the
  lowest errors on these very windows, so its errors there understate those to come
  (on the real series its intervals covered 68% and 85% instead of 80% and 95%).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from forecast_cli.config import Head
from forecast_cli.errors import ForecastError
from forecast_cli.forecasting import Origins, forecast_from
from forecast_cli.scaling import Scaler
from forecast_cli.windows import rows_ahead

MIN_ORIGINS = 10


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
    used = [
        (one, first, count, scale)
        for one, first, count, scale in zip(series, firsts, counts, scales, strict=True)
        if count
    ]
    sources = [
        Origins(one.values, one.scaler, first + lookback + np.arange(count), one.known_ahead)
        for one, first, count, _ in used
    ]
    forecasts = forecast_from([(model, head)], sources, lookback, steps, n_targets)[0]
    errors = np.sort(
        np.concatenate(
            [
                np.abs(_truth(source.values, source.rows, steps, n_targets) - forecast) / scale
                for source, forecast, (*_, scale) in zip(sources, forecasts, used, strict=True)
            ]
        ),
        axis=0,
    )  # (origins, steps, targets), in each series' scale
    widths = {}
    for level in levels:
        rank = min(math.ceil((origins + 1) * level / 100), origins)  # 1-based order statistic
        widths[level] = np.maximum.accumulate(errors[rank - 1], axis=0)  # along the steps
    return [{level: width * scale for level, width in widths.items()} for scale in scales]


def _truth(values: np.ndarray, rows: np.ndarray, steps: int, n_targets: int) -> np.ndarray:
    """``(len(rows), steps, n_targets)``: the values forecast from each origin in ``rows``."""
    return values[rows[:, None] + np.arange(steps)[None], :n_targets]
