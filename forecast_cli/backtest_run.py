"""``forecast backtest``: rolling-origin evaluation against the baselines.

The last ``folds x steps`` rows are cut into ``folds`` consecutive test blocks. Fold
``k`` knows only the rows before its cut-off: it trains (or fine-tunes the previous
fold's network) on them, with its own validation tail and scaling, then forecasts the
``steps`` rows after the cut-off as ``forecast predict`` would (rolling the network's
``horizon`` forward), which are scored next to the naive and seasonal-naive forecasts
made from the same rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

from forecast_cli.artifacts import atomic_path
from forecast_cli.baselines import naive, season_from_freq, seasonal_naive
from forecast_cli.config import DataConfig, ModelConfig, Refit, TrainConfig, WindowConfig
from forecast_cli.errors import ForecastError
from forecast_cli.forecasting import roll
from forecast_cli.intervals import calibrate
from forecast_cli.loading import Series, load_series
from forecast_cli.metrics import mae, mase, rmse, smape
from forecast_cli.report import Report
from forecast_cli.train_run import (
    Trained,
    build_networks,
    choices,
    prepare,
    resolve_defaults,
    train_networks,
)

MODEL, NAIVE, SEASONAL = "model", "naive", "seasonal naive"


@dataclass(frozen=True)
class Fold:
    """One cut-off: what each method forecast for the rows after it, and the truth."""

    number: int
    cutoff: int  # index of the first forecast row
    actual: np.ndarray  # (steps, targets)
    forecasts: dict[str, np.ndarray]  # method -> (steps, targets)
    history: np.ndarray  # (cutoff, targets): what the fold knew, for MASE
    widths: dict[int, np.ndarray]  # the model's conformal half-widths by level, (steps, targets)
    anchor: str  # of the network kept


@dataclass(frozen=True)
class Backtest:
    folds: list[Fold]
    season: int
    table: pd.DataFrame  # fold (or 'all'), cutoff, method, mae, rmse, smape, mase


def cutoffs(rows: int, folds: int, steps: int) -> list[int]:
    """The first forecast row of each fold: consecutive blocks of ``steps`` at the end."""
    return [rows - (folds - k) * steps for k in range(folds)]


def run_backtest(
    path: Path,
    data: DataConfig,
    window: WindowConfig,
    model_config: ModelConfig,
    training: TrainConfig,
    folds: int,
    steps: int,
    refit: Refit,
    season: int | None,
    levels: tuple[int, ...],
    report: Report,
) -> Backtest:
    """Evaluate ``folds`` rolling origins of ``steps`` steps each, and the coverage
    of the model's conformal intervals at ``levels`` (percent)."""
    series = load_series(path, data)
    starts = cutoffs(len(series.values), folds, steps)
    # Settled on the rows before the first cut-off, so no fold's future sways the choice.
    window, resolved, notes = resolve_defaults(
        window, model_config, series.head(max(starts[0], 0)), season, steps
    )
    report.notes(series.notes + tuple(notes))
    season = season or season_from_freq(series.freq) or 1
    try:  # the first fold, the shortest, must be long enough to train
        prepare(series.head(max(starts[0], 0)), window)
    except ForecastError as exc:
        raise ForecastError(
            f"With --folds {folds} and --steps {steps} the first fold trains on the "
            f"{max(starts[0], 0)} rows before its cut-off. {exc}"
        ) from None
    if season >= starts[0]:
        raise ForecastError(
            f"--season {season} is not shorter than the {max(starts[0], 0)} rows the first fold "
            "knows: seasonal naive needs one whole season before each cut-off. Use fewer "
            "--folds or a smaller --steps or --season."
        )
    report.console.print(
        f"Backtest: {folds} fold(s) of {steps} step(s), cut-offs at rows "
        f"{', '.join(str(c + 1) for c in starts)}; season {season}; {refit}"
    )
    settings = _Settings(window, choices(model_config, resolved), training, steps, season, levels)
    results, previous = [], None
    with report.epochs(training.epochs, folds) as on_epoch:
        for number, cutoff in enumerate(starts, start=1):
            fold, previous = _fold(
                number,
                series,
                cutoff,
                settings,
                previous if refit is Refit.FINE_TUNE else None,
                partial(on_epoch, job=number - 1),
            )
            results.append(fold)
    if len(settings.models) > 1:
        kept = ", ".join(f"fold {f.number} {f.anchor}" for f in results)
        report.notes((f"Anchor kept on validation: {kept}.",))
    uncalibrated = [f.number for f in results if levels and not f.widths]
    if uncalibrated:
        report.warn(
            f"Fold(s) {', '.join(map(str, uncalibrated))}: the validation tail is too short to "
            "calibrate intervals (10 origins with --steps steps of truth); their coverage is "
            "left out."
        )
    return Backtest(results, season, _table(results, season, levels))


@dataclass(frozen=True)
class _Settings:
    """What every fold is trained and scored with."""

    window: WindowConfig
    models: list[ModelConfig]  # trained together; the best on validation is kept
    training: TrainConfig
    steps: int
    season: int
    levels: tuple[int, ...]


def _fold(
    number: int, series: Series, cutoff: int, settings: _Settings, start_from, on_epoch
) -> tuple[Fold, Trained]:
    """Train on the rows before ``cutoff`` only and forecast the ``steps`` after it;
    return the fold and the network kept (``start_from``: a previous fold's, to fine-tune)."""
    window, season = settings.window, settings.season
    known = series.head(cutoff)
    prepared = prepare(known, window)
    if start_from is None:
        networks = build_networks(settings.models, prepared, settings.training.seed)
    else:  # the network the first fold kept, from its weights
        networks = build_networks([start_from.config], prepared, settings.training.seed)
        networks[0][1].set_weights(start_from.model.get_weights())
    trained = train_networks(networks, prepared, settings.training, on_epoch)
    model, model_config = trained.model, trained.config
    n_targets, steps = len(series.targets), settings.steps
    last = prepared.scaler.transform(known.values[-window.lookback :])[None]
    # Past the network's horizon extra features are read from the data, as predict reads
    # them from --future-data.
    ahead = series.values[cutoff : cutoff + steps - window.horizon, n_targets:]
    future = prepared.scaler.transform(ahead, first=n_targets)[None] if ahead.size else None
    scaled = roll(model, last, steps, model_config.head, future)
    history = known.values[:, :n_targets]
    origin = np.array([cutoff])
    forecasts = {
        MODEL: prepared.scaler.inverse(scaled)[0],
        NAIVE: naive(history, origin, steps)[0],
        SEASONAL: seasonal_naive(history, origin, steps, season)[0],
    }
    actual = series.values[cutoff : cutoff + steps, :n_targets]
    widths = {}
    if settings.levels:
        try:
            widths = calibrate(
                model,
                model_config.head,
                prepared.scaler,
                known.values,
                prepared.split.train_rows,
                window.lookback,
                steps,
                n_targets,
                settings.levels,
            )
        except ForecastError:  # too short a validation tail to calibrate: no coverage
            widths = {}
    fold = Fold(number, cutoff, actual, forecasts, history, widths, str(model_config.anchor))
    return fold, trained


def _table(folds: list[Fold], season: int, levels: tuple[int, ...]) -> pd.DataFrame:
    """Scores per fold and method, then over all folds (MASE: the mean of the folds'), with
    the coverage of the model's intervals."""
    rows = []
    groups = [(str(f.number), [f], f.cutoff + 1) for f in folds] + [("all", folds, None)]
    for label, group, cutoff in groups:
        for method in folds[0].forecasts:
            actual = np.concatenate([fold.actual for fold in group])
            predicted = np.concatenate([fold.forecasts[method] for fold in group])
            scaled = [mase(f.actual, f.forecasts[method], f.history, season) for f in group]
            rows.append(
                {
                    "fold": label,
                    "cutoff": cutoff,
                    "method": method,
                    "mae": mae(actual, predicted),
                    "rmse": rmse(actual, predicted),
                    "smape": smape(actual, predicted),
                    "mase": float(np.mean(scaled)),
                    **_coverage(group, method, levels),
                }
            )
    return pd.DataFrame(rows).astype({"cutoff": "Int64"})


def _coverage(folds: list[Fold], method: str, levels: tuple[int, ...]) -> dict[str, float]:
    """Share (percent) of the true values inside the model's intervals, per level, over the
    folds whose validation tail was long enough to calibrate them (NaN if none was)."""
    coverage = {}
    for level in levels:
        inside = [
            np.abs(f.actual - f.forecasts[MODEL]) <= f.widths[level]
            for f in folds
            if level in f.widths
        ]
        share = 100 * float(np.mean(np.concatenate(inside))) if inside else float("nan")
        coverage[f"coverage_{level}"] = share if method == MODEL else float("nan")
    return coverage


def write(backtest: Backtest, table_path: Path, plot_path: Path, title: str) -> None:
    """The scores as CSV and the folds' forecasts as a picture."""
    from forecast_cli.plotting import plot_backtest

    with atomic_path(table_path) as temporary:
        backtest.table.to_csv(temporary, index=False)
    first = backtest.folds[0]
    start = max(0, first.cutoff - 3 * len(first.actual) * len(backtest.folds))
    series_rows = np.arange(start, backtest.folds[-1].cutoff + len(backtest.folds[-1].actual))
    truth = np.concatenate([first.history[start:], *[f.actual for f in backtest.folds]])
    plot_backtest(
        rows=series_rows + 1,
        truth=truth[:, 0],
        folds=[
            (
                np.arange(f.cutoff, f.cutoff + len(f.actual)) + 1,
                {m: v[:, 0] for m, v in f.forecasts.items()},
            )
            for f in backtest.folds
        ],
        title=title,
        path=plot_path,
    )
