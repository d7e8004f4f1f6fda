"""Prediction intervals: split conformal calibration per step ahead, never narrower than
the statistical models' own intervals.

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

A validation tail of a few dozen origins holds few independent errors many steps ahead,
and none from a break: on the real series of the evaluation set the conformal widths
alone covered 72% and 88%, and AutoETS's own intervals 64% and 79%.
``floored`` makes each series' intervals at least as wide as AutoETS's and
AutoTheta's (``FLOOR``), fitted on its whole history (so they widen as its past
varied): 80% and 90% on the real series (92% and 98% on the synthetic ones, from 89% and
97%; ``bench/interval_study.py``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from forecast_cli.config import Baseline, Head
from forecast_cli.errors import ForecastError
from forecast_cli.evaluation import MOST_FITTED_SERIES
from forecast_cli.forecasting import Origins, forecast_from
from forecast_cli.scaling import Scaler
from forecast_cli.statistical import FIT_ERRORS, interval_widths
from forecast_cli.windows import rows_ahead

MIN_ORIGINS = 10
# The models whose own intervals the widths never fall below. AutoARIMA as well took the
# real series' coverage from 80% / 90% to 81% / 91%, but its fit costs about 0.23 s a
# series against 0.06 s for these two (92 daily rows): 10 s more for 36 series.
FLOOR = (Baseline.ETS, Baseline.THETA)


class TooFewOrigins(ForecastError):
    """The validation tail holds fewer than ``MIN_ORIGINS`` origins to calibrate on."""


@dataclass(frozen=True)
class Calibration:
    """One series to calibrate on: its rows in data units, its scaler, and the first row
    of its validation tail."""

    values: np.ndarray  # (rows, columns)
    scaler: Scaler
    start: int
    known_ahead: slice = field(default_factory=lambda: slice(0, 0))  # its future features


def floored(
    conformal: list[dict[int, np.ndarray]],
    histories: list[np.ndarray],
    steps: int,
    season: int | None,
) -> list[dict[int, np.ndarray]]:
    """Each series' ``conformal`` half-widths (``calibrate``) raised, step by step, to
    those of the ``FLOOR`` models' own intervals for the ``steps`` after its
    ``history`` (its targets, in data units), up to ``MOST_FITTED_SERIES`` series;
    beyond, the conformal ones, pooled over as many series, stand alone."""
    if len(conformal) > MOST_FITTED_SERIES:
        return conformal
    return [
        _at_least_statistical(each, history, steps, season)
        for each, history in zip(conformal, histories, strict=True)
    ]


def _at_least_statistical(
    conformal: dict[int, np.ndarray], values: np.ndarray, steps: int, season: int | None
) -> dict[int, np.ndarray]:
    """``conformal`` widened, step by step, to every ``FLOOR`` model's own half-widths on
    ``values``; a model that cannot be fitted there is left out."""
    widest = dict(conformal)
    for name in FLOOR:
        try:
            theirs = interval_widths(name, values, steps, season, tuple(conformal))
        except FIT_ERRORS:
            continue
        widest = {level: np.maximum(width, theirs[level]) for level, width in widest.items()}
    return widest


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
    errors, scales = calibration_errors(model, head, series, lookback, steps, n_targets)
    widths = half_widths(np.concatenate(errors), levels)
    return [{level: width * scale for level, width in widths.items()} for scale in scales]


def calibration_errors(
    model,
    head: Head,
    series: list[Calibration],
    lookback: int,
    steps: int,
    n_targets: int,
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Per series, the absolute errors ``(origins, steps, targets)`` of the forecasts from
    every origin of its validation tail, in time order and divided by its scale; and the
    scales ``(targets,)``. A series whose tail holds no origin has none."""
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
        raise TooFewOrigins(
            f"--intervals needs at least {MIN_ORIGINS} validation origins with {steps} steps of "
            f"truth after them; {'these series have' if len(series) > 1 else 'this series has'} "
            f"{origins}. Use fewer --steps."
        )
    sources = [
        Origins(one.values, one.scaler, first + lookback + np.arange(count), one.known_ahead)
        for one, first, count in zip(series, firsts, counts, strict=True)
    ]
    used = [source for source, count in zip(sources, counts, strict=True) if count]
    forecasts = iter(forecast_from([(model, head)], used, lookback, steps, n_targets)[0])
    errors = [
        np.abs(_truth(source.values, source.rows, steps, n_targets) - next(forecasts)) / scale
        if count
        else np.zeros((0, steps, n_targets), dtype=np.float32)
        for source, count, scale in zip(sources, counts, scales, strict=True)
    ]
    return errors, scales


def half_widths(errors: np.ndarray, levels: tuple[int, ...]) -> dict[int, np.ndarray]:
    """``{level: (steps, targets)}`` from the absolute errors ``(origins, steps,
    targets)``: their split-conformal quantile per step, never shrinking with the step."""
    origins = len(errors)
    errors = np.sort(errors, axis=0)
    widths = {}
    for level in levels:
        rank = min(math.ceil((origins + 1) * level / 100), origins)  # 1-based order statistic
        widths[level] = np.maximum.accumulate(errors[rank - 1], axis=0)  # along the steps
    return widths


def _truth(values: np.ndarray, rows: np.ndarray, steps: int, n_targets: int) -> np.ndarray:
    """``(len(rows), steps, n_targets)``: the values forecast from each origin in ``rows``."""
    return values[rows[:, None] + np.arange(steps)[None], :n_targets]
