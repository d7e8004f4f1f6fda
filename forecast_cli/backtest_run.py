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
from forecast_cli.config import (
    BacktestConfig,
    DataConfig,
    ModelConfig,
    Refit,
    TrainConfig,
    WindowConfig,
)
from forecast_cli.errors import ForecastError
from forecast_cli.forecasting import roll
from forecast_cli.intervals import Calibration, calibrate
from forecast_cli.loading import Series, load_panel, panel_notes
from forecast_cli.metrics import mae, mase, rmse, smape
from forecast_cli.parallel import run_parallel
from forecast_cli.report import Report
from forecast_cli.runtime import one_machine, use_device
from forecast_cli.train_run import (
    Trained,
    build_networks,
    choices,
    common_freq,
    prepare,
    resolve_defaults,
    train_networks,
)
from forecast_cli.windows import forecast_inputs, rows_ahead

MODEL, NAIVE, SEASONAL = "model", "naive", "seasonal naive"


@dataclass(frozen=True)
class Fold:
    """One cut-off: what each method forecast for the rows after it, and the truth, for
    every series (the first axis; one without --id-col)."""

    number: int
    cutoff: int  # index of the first forecast row (of the first series)
    actual: np.ndarray  # (series, steps, targets)
    forecasts: dict[str, np.ndarray]  # method -> (series, steps, targets)
    history: list[np.ndarray]  # per series (cutoff, targets): what the fold knew, for MASE
    # The model's conformal half-widths by level, (series, steps, targets); empty when a
    # series' validation tail was too short to calibrate them.
    widths: dict[int, np.ndarray]
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
    options: BacktestConfig,
    report: Report,
) -> Backtest:
    """Evaluate ``options.folds`` rolling origins of ``options.steps`` steps each, and the
    coverage of the model's conformal intervals at ``options.levels`` (percent); retrained
    folds run in ``options.jobs`` worker processes."""
    folds, steps, season = options.folds, options.steps, options.season
    one_machine(training.strategy, "backtest")
    device = use_device(training.device, training.mixed_precision, training.strategy)
    jobs = min(options.jobs, folds)
    if options.refit is Refit.FINE_TUNE and options.jobs > 1:
        raise ForecastError(
            "With --refit fine-tune each fold starts from the previous fold's network, so "
            "folds train one after another: leave out --jobs."
        )
    with report.reading(path):
        panel = load_panel(path, data)
    # each series' cut-offs, counted back from its own end
    starts = [cutoffs(len(series.values), folds, steps) for series in panel]
    first = _known(panel, [max(s[0], 0) for s in starts])
    # Settled on the rows before the first cut-off, so no fold's future sways the choice.
    window, resolved, notes = resolve_defaults(window, model_config, first, season, steps)
    _check_inputs_ahead(panel[0], window.horizon, steps)
    report.notes(panel_notes(panel) + tuple(notes))
    season = season or season_from_freq(common_freq(panel)) or 1
    known = min(len(series.values) for series in first)
    try:  # the first fold, the shortest, must be long enough to train
        prepare(first, window)
    except ForecastError as exc:
        raise ForecastError(
            f"With --folds {folds} and --steps {steps} the first fold trains on the "
            f"{known} rows before its cut-off. {exc}"
        ) from None
    if season >= known:
        raise ForecastError(
            f"--season {season} is not shorter than the {known} rows the first fold "
            "knows: seasonal naive needs one whole season before each cut-off. Use fewer "
            "--folds or a smaller --steps or --season."
        )
    if len(panel) == 1:
        where = "at rows " + ", ".join(str(c + 1) for c in starts[0])
    else:
        before = ", ".join(str((folds - k) * steps) for k in range(folds))
        where = f"{before} rows before each series' end"
    report.console.print(
        f"Backtest: {folds} fold(s) of {steps} step(s), cut-offs {where}; season {season}; "
        f"{options.refit}{f', {jobs} folds at a time' if jobs > 1 else ''}; on the {device}"
    )
    settings = _Settings(
        window, choices(model_config, resolved), training, steps, season, options.levels
    )
    fold_starts = [list(fold) for fold in zip(*starts, strict=True)]
    with report.epochs(training.epochs, folds) as on_epoch:
        if jobs > 1:
            results = run_parallel(
                _fold_job,
                [(n, panel, s, settings) for n, s in enumerate(fold_starts, start=1)],
                jobs,
                lambda i, event: on_epoch(*event, job=i),
            )
        else:
            results, previous = [], None
            for number, cut in enumerate(fold_starts, start=1):
                fine_tune = options.refit is Refit.FINE_TUNE
                fold, previous = _fold(
                    number,
                    panel,
                    cut,
                    settings,
                    previous if fine_tune else None,
                    partial(on_epoch, job=number - 1),
                )
                results.append(fold)
    if len(settings.models) > 1:
        kept = ", ".join(f"fold {f.number} {f.anchor}" for f in results)
        report.notes((f"Anchor kept on validation: {kept}.",))
    uncalibrated = [f.number for f in results if options.levels and not f.widths]
    if uncalibrated:
        report.warn(
            f"Fold(s) {', '.join(map(str, uncalibrated))}: the validation tail is too short to "
            "calibrate intervals (10 origins with --steps steps of truth); their coverage is "
            "left out."
        )
    return Backtest(results, season, _table(results, season, options.levels))


def _check_inputs_ahead(series: Series, horizon: int, steps: int) -> None:
    """Refuse folds that would read what their cut-off does not know: features past it,
    or future features past the data's end (in the last fold)."""
    if series.features and steps > horizon:
        raise ForecastError(
            f"--features {','.join(series.features)} are known only up to each cut-off, so a "
            f"fold forecasts at most the network's --horizon ({horizon}), shorter than --steps "
            f"{steps}: pass --steps {horizon} or --horizon {steps}, or --future-features for "
            "columns known ahead."
        )
    if series.future_features and rows_ahead(steps, horizon) > steps:
        raise ForecastError(
            f"With --future-features the network reads them {horizon} steps at a time, so "
            f"each fold needs them for {rows_ahead(steps, horizon)} rows after its cut-off, "
            f"more than the last fold has (--steps {steps}): make --steps a multiple of "
            "--horizon."
        )


@dataclass(frozen=True)
class _Settings:
    """What every fold is trained and scored with."""

    window: WindowConfig
    models: list[ModelConfig]  # trained together; the best on validation is kept
    training: TrainConfig
    steps: int
    season: int
    levels: tuple[int, ...]


def _fold_job(job: tuple, on_epoch) -> Fold:
    """``_fold`` of a freshly trained network, in a worker process."""
    number, panel, starts, settings = job
    use_device(
        settings.training.device,
        settings.training.mixed_precision,
        settings.training.strategy,
    )
    return _fold(number, panel, starts, settings, None, on_epoch)[0]


def _known(panel: tuple[Series, ...], rows: list[int]) -> tuple[Series, ...]:
    """Each series up to (not including) its row in ``rows``."""
    return tuple(series.head(n) for series, n in zip(panel, rows, strict=True))


def _fold(
    number: int,
    panel: tuple[Series, ...],
    starts: list[int],
    settings: _Settings,
    start_from,
    on_epoch,
) -> tuple[Fold, Trained]:
    """Train on each series' rows before its cut-off in ``starts`` only and forecast the
    ``steps`` after it; return the fold and the network kept (``start_from``: a previous
    fold's, to fine-tune)."""
    window, season = settings.window, settings.season
    prepared = prepare(_known(panel, starts), window)
    if start_from is None:
        networks = build_networks(settings.models, prepared, settings.training.seed)
    else:  # the network the first fold kept, from its weights
        networks = build_networks([start_from.config], prepared, settings.training.seed)
        networks[0][1].set_weights(start_from.model.get_weights())
    trained = train_networks(networks, prepared, settings.training, on_epoch)
    model, model_config = trained.model, trained.config
    n_targets, steps = len(prepared.targets), settings.steps
    # Known-ahead inputs after the cut-off (future features, calendar) are read from the
    # data, as predict reads them from --future-data; run_backtest refused the rest.
    inputs = [
        forecast_inputs(
            series.values,
            cutoff,
            p.scaler,
            series.known_ahead,
            window.lookback,
            steps,
            window.horizon,
            n_targets,
        )
        for p, series, cutoff in zip(prepared.parts, panel, starts, strict=True)
    ]
    extras = None if inputs[0][1] is None else np.stack([extra for _, extra in inputs])
    scaled = roll(model, np.stack([w for w, _ in inputs]), steps, model_config.head, extras)
    history = [p.series.values[:, :n_targets] for p in prepared.parts]
    origin = [np.array([cutoff]) for cutoff in starts]
    forecasts = {
        MODEL: np.stack([p.scaler.inverse(s) for p, s in zip(prepared.parts, scaled, strict=True)]),
        NAIVE: np.stack([naive(h, o, steps)[0] for h, o in zip(history, origin, strict=True)]),
        SEASONAL: np.stack(
            [seasonal_naive(h, o, steps, season)[0] for h, o in zip(history, origin, strict=True)]
        ),
    }
    actual = np.stack(
        [s.values[c : c + steps, :n_targets] for s, c in zip(panel, starts, strict=True)]
    )
    widths = {}
    if settings.levels:
        try:
            each = calibrate(
                model,
                model_config.head,
                [
                    Calibration(p.series.values, p.scaler, p.split.train_rows, p.series.known_ahead)
                    for p in prepared.parts
                ],
                window.lookback,
                steps,
                n_targets,
                settings.levels,
            )
            widths = {level: np.stack([w[level] for w in each]) for level in settings.levels}
        except ForecastError:  # too short a validation tail to calibrate: no coverage
            widths = {}
    fold = Fold(number, starts[0], actual, forecasts, history, widths, str(model_config.anchor))
    return fold, trained


def _table(folds: list[Fold], season: int, levels: tuple[int, ...]) -> pd.DataFrame:
    """Scores per fold and method, then over all folds (MASE: the mean of the folds' and
    series'), with the coverage of the model's intervals."""
    rows = []
    groups = [(str(f.number), [f], f.cutoff + 1) for f in folds] + [("all", folds, None)]
    for label, group, cutoff in groups:
        for method in folds[0].forecasts:
            actual = np.concatenate([fold.actual for fold in group])
            predicted = np.concatenate([fold.forecasts[method] for fold in group])
            scaled = [
                mase(a, p, h, season)
                for f in group
                for a, p, h in zip(f.actual, f.forecasts[method], f.history, strict=True)
            ]
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
    # the first series (of several, with --id-col) and its first target
    first, steps = backtest.folds[0], backtest.folds[0].actual.shape[1]
    start = max(0, first.cutoff - 3 * steps * len(backtest.folds))
    series_rows = np.arange(start, backtest.folds[-1].cutoff + steps)
    truth = np.concatenate([first.history[0][start:], *[f.actual[0] for f in backtest.folds]])
    plot_backtest(
        rows=series_rows + 1,
        truth=truth[:, 0],
        folds=[
            (
                np.arange(f.cutoff, f.cutoff + steps) + 1,
                {m: v[0, :, 0] for m, v in f.forecasts.items()},
            )
            for f in backtest.folds
        ],
        title=title,
        path=plot_path,
    )
