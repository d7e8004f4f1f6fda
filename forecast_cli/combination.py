"""The network's forecast averaged with the statistical models that help it.

Combinations win forecasting competitions: in M4, 12 of the 17 best methods combined
models, and the winner joined exponential smoothing and a recurrent network. Under
``--combine auto`` each series' forecast is the mean of the network's and of the subset
of ``pool`` (AutoETS, AutoTheta, and AutoARIMA on seasons short enough to fit in
seconds) whose mean with it forecast that series' validation windows best; the network
alone when no subset helps (``choose``). The statistical models are fitted as the
baselines are: on the rows before the first origin (the training rows, for validation;
all the data, for ``forecast predict``), then run forward to every origin.
"""

from __future__ import annotations

import itertools

import numpy as np

from forecast_cli.config import Baseline
from forecast_cli.forecasting import Origins
from forecast_cli.statistical import FIT_ERRORS, statistical

# AutoARIMA's fit takes seconds up to monthly seasons (measured on 2 cores: 144 monthly
# rows 1 s, 2,000 daily 3 s) and grows with the season (500 hourly rows, season 24: 6 s;
# 1,000 rows, season 40: 50 s): beyond monthly it is left out.
LONGEST_ARIMA_SEASON = 12
# Steps of each chosen model's forecast after the training data's end that the model card
# keeps: ``forecast predict`` of up to as many steps from that end reads them instead of
# importing statsforecast (a second) and fitting again.
AHEAD = 100

Chosen = tuple[Baseline, ...]  # the models one series' forecast is averaged with


def pool(season: int | None) -> Chosen:
    """The statistical models a forecast may be averaged with, for the run's ``season``."""
    arima = (Baseline.ARIMA,) if (season or 1) <= LONGEST_ARIMA_SEASON else ()
    return (Baseline.ETS, Baseline.THETA, *arima)


def choose(network: np.ndarray, others: dict[Baseline, np.ndarray], actual: np.ndarray) -> Chosen:
    """The subset of ``others`` whose mean with ``network`` has the lowest mean absolute
    error against ``actual`` (one series' validation forecasts, all the same shape, each
    target in units of its spread); the network alone (the empty subset) on a tie."""
    names = list(others)
    subsets = [
        subset for size in range(len(names) + 1) for subset in itertools.combinations(names, size)
    ]
    errors = [
        float(np.mean(np.abs(mean_with(network, [others[n] for n in subset]) - actual)))
        for subset in subsets
    ]
    return subsets[int(np.argmin(errors))]


def mean_with(network: np.ndarray, others: list[np.ndarray]) -> np.ndarray:
    """The mean of the network's forecast and the others' (the network's alone if none)."""
    return np.mean([network, *others], axis=0) if others else network


def combined(
    network: list[np.ndarray],
    sources: list[Origins],
    chosen: list[Chosen],
    steps: int,
    season: int | None,
    n_targets: int,
    fits: dict | None = None,
) -> tuple[list[np.ndarray], list[str]]:
    """Each series' network forecasts ``(origins, steps, targets)`` from ``sources``,
    averaged with those of its ``chosen`` models, fitted on its rows before its first
    origin; and notes on the models that could not be fitted (they are left out).

    ``fits`` keeps the models' forecasts by series and name for the next call on the same
    ``sources`` (the candidates of ``forecast compare``)."""
    fits = {} if fits is None else fits
    forecasts, failed = [], []
    for index, (forecast, source, names) in enumerate(zip(network, sources, chosen, strict=True)):
        for name in names:
            if (index, name) not in fits:
                fits[index, name] = _forecast(name, source, steps, season, n_targets)
        failed.extend(name for name in names if fits[index, name] is None)
        others = [fits[index, name] for name in names if fits[index, name] is not None]
        forecasts.append(mean_with(forecast, others))
    notes = [
        f"{name.title} could not be fitted on {failed.count(name)} series: their forecast "
        "is the network's without it."
        for name in dict.fromkeys(failed)
    ]
    return forecasts, notes


def fitted_ahead(
    values: np.ndarray, models: Chosen, season: int | None, n_targets: int
) -> dict[Baseline, tuple[tuple[float, ...], ...]]:
    """Each of ``models``' forecast of the ``AHEAD`` rows after ``values`` (a row of
    targets per step, as the model card keeps it), fitted on them as ``forecast predict``
    fits it; a model that cannot be fitted is left out (predict then tries, and says so)."""
    end = np.array([len(values)])
    kept = {}
    for name in models:
        try:
            forecast = statistical(name, values[:, :n_targets], end, AHEAD, season)[0]
        except FIT_ERRORS:
            continue
        kept[name] = tuple(map(tuple, forecast.tolist()))
    return kept


def _forecast(
    name: Baseline, source: Origins, steps: int, season: int | None, n_targets: int
) -> np.ndarray | None:
    try:
        return statistical(name, source.values[:, :n_targets], source.rows, steps, season)
    except FIT_ERRORS:
        return None


def describe(chosen: list[Chosen], models: Chosen) -> str:
    """A note on what each series' forecast averages with the network's, chosen from
    ``models``."""
    offered = _and(models, "or")
    if len(chosen) == 1:
        if not chosen[0]:
            return (
                f"Forecast: the network's alone; on the validation windows no mean of it with "
                f"{offered} did better (--combine none skips this test)."
            )
        return (
            f"Forecast: the mean of the network, {_and(chosen[0], 'and')}: on the validation "
            f"windows it beat the network alone and every other mean with {offered} "
            "(--combine none keeps the network alone)."
        )
    counts = [
        f"{m.title} in {sum(m in c for c in chosen)}" for m in models if any(m in c for c in chosen)
    ]
    alone = sum(not c for c in chosen)
    return (
        f"Forecast: per series the mean of the network and whichever of {offered} beat it on "
        f"that series' validation windows: {', '.join(counts) or 'none'} of {len(chosen)} "
        f"series, the network alone in {alone} (--combine none keeps the network alone)."
    )


def _and(models: Chosen, word: str) -> str:
    """'AutoETS', 'AutoETS and AutoTheta', 'AutoETS, AutoTheta and AutoARIMA'."""
    titles = [m.title for m in models]
    return titles[0] if len(titles) == 1 else f"{', '.join(titles[:-1])} {word} {titles[-1]}"


def label(chosen: tuple[Chosen, ...]) -> str:
    """What a panel's forecasts average with the network's, in a few words: the models
    for one series ('AutoETS + AutoTheta', or 'none'), how many series for several."""
    if len(chosen) == 1:
        return " + ".join(m.title for m in chosen[0]) or "none"
    return f"{sum(bool(c) for c in chosen)} of {len(chosen)} series"
