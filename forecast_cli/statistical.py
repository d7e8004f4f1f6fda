"""The statistical models a forecaster knows: AutoETS, AutoTheta and AutoARIMA.

They come from statsforecast, the reference implementations of Hyndman's automatic
models in Python. Each is fitted on a series' rows before the first origin (for a
validation tail: the training rows, all the network learnt from) and then run forward
to each origin with its parameters kept and its states updated on the rows before that
origin: the same information the network has when it forecasts from there. Fitting
takes time in proportion to the rows, so at most the last ``FITTED_ROWS`` rows before
the first origin are used (dozens of seasons of most series).

A command often needs the same model fitted on the same rows more than once (a
backtest fold's baseline, the forecast averaged with the network, and the intervals'
floor all fit on the rows before the cut-off), so the last fits are kept in memory
(``_fitted``): fitting is deterministic, and a fitted model is only read afterwards.
"""

from __future__ import annotations

import functools
import warnings

import numpy as np

from forecast_cli.config import Baseline

FITTED_ROWS = 2000
# What a model that cannot be fitted raises (statsforecast's ETS raises NotImplementedError
# on "tiny datasets" of 4 rows; ``statistical`` raises ValueError on a forecast that is
# not finite).
FIT_ERRORS = (ValueError, NotImplementedError, ArithmeticError, np.linalg.LinAlgError)


def statistical(
    name: Baseline, values: np.ndarray, origins: np.ndarray, steps: int, season: int | None
) -> np.ndarray:
    """``(len(origins), steps, columns)``: model ``name`` (ETS, THETA or ARIMA) fitted on
    each column of ``values`` before the first origin, forecasting ``steps`` steps from
    every origin. Raises one of ``FIT_ERRORS`` when it cannot be fitted."""
    origins = np.asarray(origins)
    first = int(origins.min())
    start = max(0, first - FITTED_ROWS)
    columns = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence chatter of the optimisers
        for column in np.asarray(values, dtype=np.float64).T:
            model = _fitted(name, season or 1, column[start:first])
            columns.append(
                np.stack([model.forward(y=column[start:at], h=steps)["mean"] for at in origins])
            )
    forecasts = np.stack(columns, axis=-1)
    if not np.isfinite(forecasts).all():
        raise ValueError(f"{name} gave a forecast that is not finite")
    return forecasts.astype(np.float32)


def interval_widths(
    name: Baseline, values: np.ndarray, steps: int, season: int | None, levels: tuple[int, ...]
) -> dict[int, np.ndarray]:
    """``{level: (steps, columns)}``: half the width of model ``name``'s own prediction
    intervals at each level for the ``steps`` after the end of ``values``, fitted on each
    column's last ``FITTED_ROWS`` rows. Raises one of ``FIT_ERRORS`` when it cannot be
    fitted."""
    columns = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for column in np.asarray(values, dtype=np.float64).T:
            model = _fitted(name, season or 1, column[-FITTED_ROWS:])
            bounds = model.predict(h=steps, level=list(levels))
            columns.append([(bounds[f"hi-{q}"] - bounds[f"lo-{q}"]) / 2 for q in levels])
    widths = np.asarray(columns).transpose(1, 2, 0)  # (levels, steps, columns)
    if not np.isfinite(widths).all():
        raise ValueError(f"{name} gave intervals that are not finite")
    return {level: width.astype(np.float32) for level, width in zip(levels, widths, strict=True)}


def _fitted(name: Baseline, season: int, rows: np.ndarray):
    """Model ``name`` fitted on ``rows``; the same object for the same rows again."""
    return _fit(name, season, np.ascontiguousarray(rows, dtype=np.float64).tobytes())


@functools.lru_cache(maxsize=64)
def _fit(name: Baseline, season: int, rows: bytes):
    return _model(name, season).fit(np.frombuffer(rows))


def _model(name: Baseline, season: int):
    from statsforecast.models import AutoARIMA, AutoETS, AutoTheta

    models = {Baseline.ETS: AutoETS, Baseline.THETA: AutoTheta, Baseline.ARIMA: AutoARIMA}
    return models[name](season_length=season)
