"""``forecast backtest``: rolling-origin evaluation against the baselines.

The last ``folds x steps`` rows are cut into ``folds`` consecutive test blocks. Fold
``k`` knows only the rows before its cut-off: it trains (or fine-tunes the previous
fold's network) on them, with its own validation tail and scaling, then forecasts the
``steps`` rows after the cut-off as ``forecast predict`` would (rolling the network's
``horizon`` forward, averaged with the statistical models chosen on the fold's
validation tail), which are scored next to the network alone and the baselines made
from the same rows.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import partial

import numpy as np
import pandas as pd

from forecast_cli import parallel
from forecast_cli.artifacts import card_sections
from forecast_cli.combination import combined, label
from forecast_cli.config import (
    BacktestConfig,
    ClusterConfig,
    Combine,
    DataConfig,
    LogConfig,
    ModelConfig,
    Refit,
    RuntimeConfig,
    TrainConfig,
    WindowConfig,
    Windows,
    to_dict,
)
from forecast_cli.epoch_log import Job, loggers
from forecast_cli.errors import ForecastError
from forecast_cli.evaluation import baselines, beaten, fold_table
from forecast_cli.forecasting import forecast_from
from forecast_cli.intervals import Calibration, TooFewOrigins, calibrate, floored
from forecast_cli.loading import (
    Series,
    Source,
    check_source,
    load_panel,
    panel_notes,
    source_path,
)
from forecast_cli.pipeline import (
    Trained,
    build_candidates,
    data_source,
    fit_candidates,
    origins,
    prepare,
)
from forecast_cli.report import Report
from forecast_cli.resolve import resolve
from forecast_cli.runtime import one_machine
from forecast_cli.windows import rows_ahead, rows_needed

MODEL = "model"
NETWORK = "network alone"  # the model's network without its combination, beside it


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
    anchor: str  # the anchor its network corrects
    combined: str = "none"  # what its forecast averages with the network's (``label``)
    notes: tuple[str, ...] = ()  # about the baselines


@dataclass(frozen=True)
class Backtest:
    """Every fold's forecasts and the scores of every method, per fold and over all."""

    folds: list[Fold]
    season: int  # of seasonal naive and MASE's scale
    table: pd.DataFrame  # fold (or 'all'), cutoff, method, mae, rmse, smape, mase
    title: str
    panel: tuple[Series, ...]  # the series backtested, for the picture
    card: dict  # what ran, as plain data: the data read, windows, network, training, folds

    def summary(self) -> dict:
        """The ``--json`` object."""
        return {"season": self.season, "scores": self.table.to_dict(orient="records")}


def cutoffs(rows: int, folds: int, steps: int) -> list[int]:
    """The first forecast row of each fold: consecutive blocks of ``steps`` at the end."""
    return [rows - (folds - k) * steps for k in range(folds)]


def run_backtest(
    source: Source,
    data: DataConfig,
    window: WindowConfig,
    model_config: ModelConfig,
    training: TrainConfig,
    runtime: RuntimeConfig,
    options: BacktestConfig,
    cluster: ClusterConfig,
    logs: LogConfig,
    report: Report,
) -> Backtest:
    """Evaluate ``options.folds`` rolling origins of ``options.steps`` steps each, and the
    coverage of the model's conformal intervals at ``options.levels`` (percent); retrained
    folds run in ``options.jobs`` worker processes, or as tasks of ``cluster``'s Ray
    cluster. Each epoch's losses also go where ``logs`` says, each fold's networks under
    ``fold_N/``."""
    folds, steps = options.folds, options.steps
    check_source(source, data)
    one_machine(runtime.strategy, "backtest")
    fine_tune = options.refit is Refit.FINE_TUNE
    if fine_tune and ((options.jobs or 1) > 1 or cluster.ray is not None):
        raise ForecastError(
            "With --refit fine-tune each fold starts from the previous fold's network, so "
            f"folds train one after another: leave out {'--ray' if cluster.ray else '--jobs'}."
        )
    if fine_tune and model_config.members > 1:
        raise ForecastError(
            "--refit fine-tune continues one network from fold to fold: leave out --members."
        )
    slots = 1 if fine_tune else parallel.slots(runtime, training.xla, cluster)
    jobs = min(slots if cluster.ray else options.jobs or slots, folds)
    with parallel.workers(jobs, runtime, training.xla, cluster) as workers:
        device = workers.device()  # what the machine lacks is refused before reading the data
        with report.reading(source):
            panel = load_panel(source, data)
        # each series' cut-offs, counted back from its own end
        starts = [cutoffs(len(series.values), folds, steps) for series in panel]
        first = _known(panel, [max(s[0], 0) for s in starts])
        # Settled on the rows before the first cut-off, so no fold's future sways the choice.
        resolved = resolve(window, model_config, first, steps)
        windows = resolved.windows
        _check_inputs_ahead(panel[0], windows.horizon, steps)
        report.notes(panel_notes(panel) + resolved.notes)
        season = windows.season or 1  # without one, MASE scales by the naive forecast's errors
        known = min(len(series.values) for series in first)
        try:  # the first fold, the shortest, must be long enough to train
            prepare(first, windows)
        except ForecastError as exc:
            raise ForecastError(_too_few_rows(panel, folds, steps, window, windows, exc)) from None
        if season >= known:
            raise ForecastError(
                f"--season {season} is not shorter than the {known} rows the first fold "
                "knows: seasonal naive needs one whole season before each cut-off. Use fewer "
                "--folds or a smaller --steps or --season."
            )
        report.backtest_plan(panel, starts, options, season, jobs, device)
        settings = _Settings(
            windows,
            resolved.model,
            training,
            steps,
            season,
            options.levels,
        )
        fold_starts = [list(fold) for fold in zip(*starts, strict=True)]
        named = [
            Job({"network": ("network", f"fold_{n}/network")}, training.seed, n)
            for n in range(1, folds + 1)
        ]
        with loggers(logs, named) as log, report.epochs(training.epochs, folds, log) as on_epoch:
            if not workers.in_process:
                results = workers.run(
                    _fold_job,
                    panel,
                    [_FoldJob(n, s, settings) for n, s in enumerate(fold_starts, start=1)],
                    lambda i, event: on_epoch(*event, job=i),
                )
            else:
                results, previous = [], None
                for number, cut in enumerate(fold_starts, start=1):
                    fold, previous = _fold(
                        number,
                        panel,
                        cut,
                        settings,
                        previous if fine_tune else None,
                        partial(on_epoch, job=number - 1),
                    )
                    results.append(fold)
    report.folds_kept(results, bool(options.levels))
    table = fold_table(results, season, options.levels, MODEL)
    overall = table[table["fold"] == "all"].set_index("method")["mase"]
    others = overall.drop([MODEL, NETWORK], errors="ignore").dropna().to_dict()
    notes = [note for fold in results for note in fold.notes]
    report.notes(
        list(dict.fromkeys(notes + beaten(overall[MODEL], others, "the model over the folds")))
    )
    model_label = settings.model.label
    title = f"{source_path(source).name}: {model_label}, {folds} fold(s) of {steps}"
    read, settled = card_sections(data_source(panel), panel[0].resolved(data), windows)
    card = {
        "data": read,
        "window": settled,
        "model": {**settings.model.to_dict(), "label": model_label},
        "training": {**to_dict(training), **to_dict(runtime)},
        "backtest": {**to_dict(options), "season": season},
        "folds": [
            {"fold": f.number, "cutoff": f.cutoff + 1, "anchor": f.anchor, "combined": f.combined}
            for f in results
        ],
    }
    return Backtest(results, season, table, title, panel, card)


def _too_few_rows(
    panel: tuple[Series, ...],
    folds: int,
    steps: int,
    asked: WindowConfig,
    windows: Windows,
    error: ForecastError,
) -> str:
    """Why the first fold cannot train: too many folds, when fewer would fit (with its
    horizon, or one when the horizon is left to fit the rows), or else the windows."""
    rows = min(len(series.values) for series in panel)
    known = max(rows - folds * steps, 0)
    horizon = windows.horizon if asked.horizon is not None else 1
    needed = rows_needed(windows.lookback, horizon, windows.val_fraction)
    fewer = [
        f"--{flag} {most} or {less}"
        for flag, most, less in (
            ("folds", (rows - needed) // steps, "fewer"),
            ("steps", (rows - needed) // folds, "less"),
        )
        if most >= 1
    ]
    said = f"With --folds {folds} and --steps {steps} the first fold trains on the {known} rows"
    if not fewer:
        return f"{said} before its cut-off. {error}"
    windowed = f"--lookback {windows.lookback}" + (f" and --horizon {horizon}" * (horizon > 1))
    return f"{said} before its cut-off, and windows of {windowed} need {needed}: use " + (
        ", or ".join(fewer) + "."
    )


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

    windows: Windows
    model: ModelConfig
    training: TrainConfig
    steps: int
    season: int  # of seasonal naive
    levels: tuple[int, ...]


@dataclass(frozen=True)
class _FoldJob:
    """One fold to train afresh in a worker process or a Ray task (which gets the series
    beside it)."""

    number: int
    starts: list[int]
    settings: _Settings


def _fold_job(panel: tuple[Series, ...], job: _FoldJob, on_epoch) -> Fold:
    """``_fold`` of a freshly trained network, in a worker process or a Ray task."""
    return _fold(job.number, panel, job.starts, job.settings, None, on_epoch)[0]


def _known(panel: tuple[Series, ...], rows: list[int]) -> tuple[Series, ...]:
    """Each series up to (not including) its row in ``rows``."""
    return tuple(series.head(n) for series, n in zip(panel, rows, strict=True))


def _fold(
    number: int,
    panel: tuple[Series, ...],
    starts: list[int],
    settings: _Settings,
    start_from: Trained | None,
    on_epoch,
) -> tuple[Fold, Trained]:
    """Train on each series' rows before its cut-off in ``starts`` only and forecast the
    ``steps`` after it; return the fold and the network kept (``start_from``: a previous
    fold's, to fine-tune)."""
    windows, steps = settings.windows, settings.steps
    prepared = prepare(_known(panel, starts), windows)
    if start_from is None:
        networks = build_candidates([settings.model], prepared, settings.training.seed)
    else:  # the network the previous fold kept, from its weights
        networks = build_candidates([start_from.config], prepared, settings.training.seed)
        networks[0][0][1].set_weights(start_from.model.get_weights())
    (trained,) = fit_candidates(networks, prepared, settings.training, on_epoch)
    if trained.result.interrupted:
        raise KeyboardInterrupt  # the folds after it would train on: stop, as compare does
    n_targets = len(prepared.targets)
    # Known-ahead inputs after the cut-off (future features, calendar) are read from the
    # data, as predict reads them from --future-data; run_backtest refused the rest.
    at_cutoff = [
        dataclasses.replace(origins(p, np.array([cutoff])), values=series.values)
        for p, series, cutoff in zip(prepared.parts, panel, starts, strict=True)
    ]
    (network,) = forecast_from(
        [(trained.model, trained.config.head)], at_cutoff, windows.lookback, steps, n_targets
    )
    model, unfitted = combined(
        network, at_cutoff, list(trained.combined), steps, settings.season, n_targets
    )
    history = [p.series.values[:, :n_targets] for p in prepared.parts]
    cut = [np.array([cutoff]) for cutoff in starts]
    at_cut, notes = baselines(history, cut, steps, settings.season, windows.baselines)
    notes += unfitted
    alone = {NETWORK: np.concatenate(network)} if trained.config.combine is Combine.AUTO else {}
    forecasts = {MODEL: np.concatenate(model), **alone} | {
        name: np.concatenate(each) for name, each in at_cut.items()
    }
    actual = np.stack(
        [s.values[c : c + steps, :n_targets] for s, c in zip(panel, starts, strict=True)]
    )
    fold = Fold(
        number,
        starts[0],
        actual,
        forecasts,
        history,
        _widths(trained, prepared, settings),
        str(trained.config.anchor),
        label(trained.combined),
        tuple(notes),
    )
    return fold, trained


def _widths(trained: Trained, prepared, settings: _Settings) -> dict:
    """The kept network's interval half-widths ``{level: (series, steps, targets)}``,
    calibrated on the fold's validation tails; none when they are too short."""
    if not settings.levels:
        return {}
    try:
        conformal = calibrate(
            trained.model,
            trained.config.head,
            [
                Calibration(p.series.values, p.scaler, p.split.train_rows, p.series.known_ahead)
                for p in prepared.parts
            ],
            prepared.windows.lookback,
            settings.steps,
            len(prepared.targets),
            settings.levels,
        )
    except TooFewOrigins:  # no coverage
        return {}
    each = floored(conformal, prepared.history, settings.steps, settings.season)
    return {level: np.stack([w[level] for w in each]) for level in settings.levels}
