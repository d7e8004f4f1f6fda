"""What the data settles: the horizon, the anchor, the season and the lookback.

One rule for every command, so that ``train``, ``compare`` and ``backtest`` given the same
file and flags train the same network and score it against the same seasonal naive.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from forecast_cli.baselines import (
    LONGEST_SEASON,
    fitted_errors,
    likely_period,
    season_fits,
    season_from_freq,
)
from forecast_cli.config import (
    DEFAULT_LOOKBACK,
    DEFAULT_STEPS,
    Anchor,
    ModelConfig,
    WindowConfig,
    Windows,
)
from forecast_cli.errors import ForecastError
from forecast_cli.loading import Series
from forecast_cli.windows import too_short, training_rows


@dataclass(frozen=True)
class Resolved:
    """The windows and the network settled for a panel, and what to tell the user."""

    windows: Windows
    model: ModelConfig  # its anchor resolved ('auto' never), with the anchor's period
    notes: tuple[str, ...]


def resolve(
    window: WindowConfig,
    model: ModelConfig,
    panel: tuple[Series, ...],
    steps: int = DEFAULT_STEPS,
) -> Resolved:
    """Settle what depends on the data.

    The default horizon is the ``steps`` to forecast, emitted at once (a network trained
    on one step and rolled forward compounds its errors), but no longer than the
    validation tail, which it would otherwise lengthen, and shorter still if the series
    is too short to train on windows that long. ``--anchor auto`` (see ``auto_anchor``)
    reads the training rows only, and judges the anchors on forecasts of ``steps`` steps
    (the network's horizon if longer). The default lookback is 20, or one season if that
    is longer. With several series, the shortest decides the horizon and the anchor
    fits them all on average.

    ``--anchor auto`` is the linear anchor (measured best, ``bench/eval_defaults.json``),
    its regression shrunk towards the base ``auto_anchor`` picks: seasonal naive or the
    last value.

    The season (seasonal naive, MASE's scale) is the anchor's period when the anchor is
    seasonal (or linear from a season), else ``--season``, else the frequency's.
    """
    rows = min(len(series.values) for series in panel)
    chosen_horizon = window.horizon is None
    horizon = window.horizon
    if chosen_horizon:
        horizon = max(1, min(steps, math.ceil(window.val_fraction * rows)))
    freq_season = season_from_freq(common_freq(panel))
    period = window.season or freq_season
    anchor, notes = model.anchor, []
    if anchor in (Anchor.AUTO, Anchor.LINEAR):  # auto is linear, from the base found
        found, period, reason = auto_anchor(panel, window, horizon, max(steps, horizon))
        period = period if found is Anchor.SEASONAL else None
        base = f"season of {period} steps" if period else "last value"
        overrides = "; --anchor none|last|seasonal overrides it" if anchor is Anchor.AUTO else ""
        notes.append(f"Anchor: linear, from the {base} ({reason}){overrides}.")
        anchor = Anchor.LINEAR
    lookback = window.lookback
    if lookback is None:
        seasonal = anchor in (Anchor.SEASONAL, Anchor.LINEAR) and period is not None
        lookback = max(DEFAULT_LOOKBACK, period) if seasonal else DEFAULT_LOOKBACK
    if anchor is Anchor.SEASONAL:
        if period is None:
            raise ForecastError(
                "--anchor seasonal needs a season length and the data has no regular time "
                "column to infer it from: pass --season N."
            )
        room = roomiest(rows, 1 if chosen_horizon else horizon, window.val_fraction)
        if window.lookback is None and period > room:
            raise ForecastError(
                f"--anchor seasonal repeats the window's last season of {period} steps, and "
                f"{rows} rows leave no training window that long: pass a shorter --season "
                "or a longer series."
            )
        if period > lookback:
            raise ForecastError(
                f"--anchor seasonal repeats the window's last season of {period} steps: "
                f"--lookback must be at least {period}, got {lookback}."
            )
    if chosen_horizon:  # the longest that leaves a training window (else 1, and prepare says)
        fitting = range(horizon, 1, -1)
        horizon = next(
            (h for h in fitting if not too_short(rows, lookback, h, window.val_fraction)), 1
        )
    has_period = anchor in (Anchor.SEASONAL, Anchor.LINEAR) and period is not None
    season = period if has_period else window.season or freq_season
    return Resolved(
        Windows(lookback, horizon, window.val_fraction, window.scale, season, window.baselines),
        dataclasses.replace(model, anchor=anchor, season=period or 1),
        tuple(notes),
    )


def roomiest(rows: int, horizon: int, val_fraction: float) -> int:
    """The longest lookback that leaves ``rows`` a training window (0 if none does)."""
    fitting = range(rows, 0, -1)
    return next((n for n in fitting if not too_short(rows, n, horizon, val_fraction)), 0)


def common_freq(panel: tuple[Series, ...]) -> str | None:
    """The frequency every series of ``panel`` shares, if they share one."""
    freqs = {series.freq for series in panel}
    return freqs.pop() if len(freqs) == 1 else None


def auto_anchor(
    panel: tuple[Series, ...], window: WindowConfig, horizon: int, steps: int
) -> tuple[Anchor, int | None, str]:
    """The base of the linear anchor (``auto`` and ``linear``): seasonal naive or the last
    value, its period and why.

    ``--season N`` is taken as given if the window can hold it, and the last value is the
    anchor if it cannot. Otherwise the season the frequency implies is kept
    if repeating it forecasts ``steps`` steps of the training rows about as well as the
    best period does; if not, or with no season known, the period that fits them best is
    found, and the last value is the anchor when no period fits. Each series' errors are
    measured on its own training rows (those before a ``horizon`` validation tail), and
    averaged over the series.
    """
    season, longest = window.season, window.lookback
    if season is not None:
        shortest = min(len(series.values) for series in panel)
        room = longest or roomiest(shortest, horizon, window.val_fraction)
        if season <= room:
            return Anchor.SEASONAL, season, f"--season {season}"
        return Anchor.LAST, None, f"--season {season} is longer than a window of {room} rows"
    freq = common_freq(panel)
    known = season_from_freq(freq)
    rows = [training_rows(len(s.values), horizon, window.val_fraction) for s in panel]
    longest = min(longest or min(rows), (min(rows) - steps) // 2, LONGEST_SEASON)
    if longest < 1:
        return Anchor.LAST, None, "too few rows to look for a season"
    periods = list(range(1, longest + 1))
    each = [
        fitted_errors(series.values[:n, : len(series.targets)], steps, periods)
        for series, n in zip(panel, rows, strict=True)
    ]
    errors = {period: float(np.mean([e[period] for e in each])) for period in periods}
    fits_window = known is not None and known > 1 and known <= (window.lookback or known)
    if fits_window and season_fits(errors, known):
        return Anchor.SEASONAL, known, f"season {known} of frequency {freq}"
    found = likely_period(errors)
    if found > 1:
        return Anchor.SEASONAL, found, f"the training rows repeat every {found} steps"
    return Anchor.LAST, None, "no season fits the training rows; --season N sets one"
