"""``forecast compare``: several networks and two baselines on the same windows, side by side.

All candidates see the same split, scaling, windows and batches. The work is cut into
jobs, one per seed and share of the candidates; each job trains its candidates together as
branches of one model (see ``training``), and with ``--jobs`` above one the jobs run in
worker processes that share the cores. Neither changes a candidate's result: it is the one
it gets trained alone with the same seed.
"""

from __future__ import annotations

import dataclasses
import statistics
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

from forecast_cli.artifacts import save_model_dir, staged_directory
from forecast_cli.baselines import naive, season_from_freq, seasonal_naive
from forecast_cli.candidates import Candidate
from forecast_cli.config import Anchor, CompareConfig, DataConfig, TrainConfig, WindowConfig
from forecast_cli.errors import ForecastError
from forecast_cli.forecasting import roll_together
from forecast_cli.loading import Series, load_panel, panel_notes
from forecast_cli.parallel import run_parallel
from forecast_cli.predict_run import future_index, inputs_after_end
from forecast_cli.report import Report
from forecast_cli.runtime import one_machine, use_device
from forecast_cli.train_run import (
    Prepared,
    build_network,
    common_freq,
    model_card,
    prepare,
    resolve_defaults,
    scores,
    validation_forecast,
    window_facts,
)
from forecast_cli.training import Branch, fit

TABLE_FILE = "comparison.csv"
FORECASTS_FILE = "forecasts.csv"
GRID_FILE = "compare-grid.png"
OVERLAY_FILE = "compare-overlay.png"
NAIVE, SEASONAL = "naive", "seasonal naive"


@dataclass(frozen=True)
class Scores:
    """One row of the comparison: a candidate's (or baseline's) scores over the seeds."""

    name: str
    layers: str
    merge_mode: str
    head: str
    params: int
    epochs_run: float
    train_seconds: float
    val_mae: float
    val_rmse: float
    val_smape: float
    val_rmse_sd: float
    rank: int = 0


@dataclass(frozen=True)
class Comparison:
    """Everything ``forecast compare`` found, ready to print or write."""

    rows: list[Scores]  # sorted by validation RMSE
    forecasts: pd.DataFrame  # [id,] a time (or step) column, then one column per row (and target)
    future: dict[str, np.ndarray]  # the same forecasts by row name, (series, steps, targets)
    val_fits: dict[str, np.ndarray]  # one step ahead on the validation windows of every
    # series, stacked: (windows, targets)
    notes: list[str]


def check_out_dir(out_dir: Path, overwrite: bool) -> None:
    """Refuse to mix runs: an earlier comparison is replaced only with ``--overwrite``,
    and a directory holding anything else never."""
    if not out_dir.exists() or (out_dir.is_dir() and not any(out_dir.iterdir())):
        return
    if not (out_dir / TABLE_FILE).is_file():
        raise ForecastError(
            f"--out-dir {out_dir} exists and does not hold a comparison; choose a new "
            "--out-dir (it is created)."
        )
    if not overwrite:
        raise ForecastError(
            f"--out-dir {out_dir} holds the results of another run; pass --overwrite to "
            "replace them, or choose another --out-dir."
        )


def run_compare(
    path: Path,
    data: DataConfig,
    window: WindowConfig,
    candidates: list[Candidate],
    training: TrainConfig,
    options: CompareConfig,
    out_dir: Path,
    report: Report,
) -> Comparison:
    """Train every candidate ``options.repeats`` times, score them next to the baselines, and
    write the comparison to ``out_dir`` (atomically: all of it or nothing)."""
    check_out_dir(out_dir, options.overwrite)
    one_machine(training.strategy, "compare")
    device = use_device(training.device, training.mixed_precision, training.strategy)
    with report.reading(path):
        panel = load_panel(path, data)
    series = panel[0]
    # The candidates differ in layers and head only: the data settles the rest alike.
    window, resolved, notes = resolve_defaults(
        window, candidates[0].model, panel, options.season, options.steps
    )
    if series.features and window.horizon < options.steps:
        # Rolled past its horizon, the network would need the features' future values,
        # which compare has no way to be given: refuse rather than guess them.
        raise ForecastError(
            f"With --features {','.join(series.features)}, compare forecasts only as far as "
            f"the network's --horizon ({window.horizon}), which is shorter than --steps "
            f"{options.steps}: pass --steps {window.horizon} or --horizon {options.steps}."
        )
    candidates = [
        dataclasses.replace(
            c, model=dataclasses.replace(c.model, anchor=resolved.anchor, season=resolved.season)
        )
        for c in candidates
    ]
    report.notes(panel_notes(panel) + tuple(notes))
    prepared = prepare(panel, window)
    report.facts("Data and windows", window_facts(prepared, window, candidates[0].model.head))
    notes = []  # for the comparison's own notes
    # The baseline repeats the season the networks are anchored on, when auto found one.
    anchored = resolved.season if resolved.anchor is Anchor.SEASONAL else None
    season = options.season or anchored or season_from_freq(common_freq(panel))
    if season is None:
        notes.append(
            "No season length (no regular time column): pass --season N to add the "
            "seasonal naive baseline."
        )
    elif season >= min(part.split.train_rows for part in prepared.parts):
        notes.append(f"Season {season} is longer than the training part: seasonal naive left out.")
        season = None

    with staged_directory(out_dir) as staging:
        jobs = _jobs(panel, data, window, candidates, training, options, staging)
        report.console.print(
            f"Training {len(candidates)} candidate(s) x {options.repeats} seed(s) in "
            f"{len(jobs)} job(s), {min(options.jobs, len(jobs))} at a time, on the {device}"
        )
        with report.epochs(training.epochs, len(jobs)) as on_epoch:
            if options.jobs == 1 or len(jobs) == 1:
                runs = [
                    _train_all(prepared, job, partial(on_epoch, job=i))
                    for i, job in enumerate(jobs)
                ]
            else:
                runs = run_parallel(
                    _train_job,
                    jobs,
                    min(options.jobs, len(jobs)),
                    lambda i, event: on_epoch(*event, job=i),
                )
        by_seed: dict[int, _Run] = {}  # each seed's jobs, put back together
        for job, run in zip(jobs, runs, strict=True):
            whole = by_seed.setdefault(job.training.seed, _Run({}, {}, {}))
            whole.scores.update(run.scores)
            whole.val_fits.update(run.val_fits)
            whole.forecasts.update(run.forecasts)
        comparison = _combine(
            prepared, candidates, list(by_seed.values()), season, options.steps, notes
        )
        title = (
            f"{series.path.name}: {len(candidates)} candidate(s), lookback "
            f"{window.lookback}, {options.repeats} seed(s)"
        )
        _write(staging, comparison, prepared, title)
    return comparison


@dataclass(frozen=True)
class _Job:
    """Candidates to train together with one seed, in this process or a worker. It
    carries the loaded series, not their path: standard input cannot be read twice."""

    panel: tuple[Series, ...]
    data: DataConfig
    window: WindowConfig
    candidates: list[Candidate]
    training: TrainConfig
    steps: int
    save_to: Path | None  # where the models go (first seed only)


def _jobs(panel, data, window, candidates, training, options, staging) -> list[_Job]:
    """One job per seed and share of the candidates, ``options.jobs`` shares per seed."""
    shares = min(options.jobs, len(candidates))
    return [
        _Job(
            panel,
            data,
            window,
            candidates[share::shares],
            dataclasses.replace(training, seed=training.seed + repeat),
            options.steps,
            staging / "models" if repeat == 0 else None,
        )
        for repeat in range(options.repeats)
        for share in range(shares)
    ]


def _train_job(job: _Job, on_epoch) -> _Run:
    """Train and score one job's candidates in a worker process."""
    use_device(job.training.device, job.training.mixed_precision, job.training.strategy)
    prepared = prepare(job.panel, job.window)
    return _train_all(prepared, job, on_epoch)


@dataclass(frozen=True)
class _Run:
    """One seed's results for some candidates, by label."""

    scores: dict[str, dict]  # metrics, params, epochs_run, train_seconds
    val_fits: dict[str, np.ndarray]  # (val windows, targets): one step ahead, data units
    forecasts: dict[str, np.ndarray]  # (steps, targets) after the series' end, data units


def _train_all(prepared: Prepared, job: _Job, on_epoch) -> _Run:
    """Train the job's candidates together; score, forecast and save each."""
    branches = [
        Branch(name, build_network(c.model, prepared, job.training.seed, name), c.model.head)
        for name, c in ((f"candidate_{i}", c) for i, c in enumerate(job.candidates))
    ]
    results = fit(branches, prepared.train, prepared.val, job.training, on_epoch)
    if any(result.interrupted for result in results.values()):
        raise KeyboardInterrupt  # a comparison is written whole or not at all
    parts, window = prepared.parts, job.window
    # the calendar is the only extra input compare rolls past the horizon (run_compare)
    inputs = [
        inputs_after_end(p.series, p.scaler, None, window.lookback, window.horizon, job.steps)
        for p in parts
    ]
    calendar = None if inputs[0][1] is None else np.stack([extra for _, extra in inputs])
    futures = roll_together(
        [(b.model, b.head) for b in branches], np.stack([w for w, _ in inputs]), job.steps, calendar
    )
    run = _Run({}, {}, {})
    for candidate, branch, future in zip(job.candidates, branches, futures, strict=True):
        result = results[branch.name]
        predicted = validation_forecast(branch.model, prepared, branch.head)
        metrics = scores(prepared, predicted)
        card = model_card(
            prepared,
            job.data,
            job.window,
            candidate.model,
            job.training,
            branch.model,
            result,
            metrics,
        )
        run.scores[candidate.label] = {
            **metrics,
            "params": card.params,
            "epochs_run": result.epochs_run,
            "train_seconds": result.seconds,
        }
        run.val_fits[candidate.label] = predicted[:, 0]
        run.forecasts[candidate.label] = np.stack(
            [p.scaler.inverse(f) for p, f in zip(parts, future, strict=True)]
        )
        if job.save_to is not None:
            save_model_dir(job.save_to / candidate.slug, branch.model, card, result.history)
    return run


def _combine(
    prepared: Prepared,
    candidates: list[Candidate],
    runs: list[_Run],
    season: int | None,
    steps: int,
    notes: list[str],
) -> Comparison:
    """Average the seeds, add the baselines, rank by validation RMSE."""
    rows, fits, forecasts = [], {}, {}
    for candidate in candidates:
        label = candidate.label
        per_seed = [run.scores[label] for run in runs]
        spec = candidate.model
        merges = sorted({str(layer.merge_mode) for layer in spec.layers if layer.merge_mode})
        rows.append(
            Scores(
                name=label,
                layers=spec.label,
                merge_mode=",".join(merges) or "-",
                head=str(spec.head),
                params=per_seed[0]["params"],
                epochs_run=statistics.fmean(s["epochs_run"] for s in per_seed),
                train_seconds=statistics.fmean(s["train_seconds"] for s in per_seed),
                **_mean_scores(per_seed),
            )
        )
        fits[label] = np.mean([run.val_fits[label] for run in runs], axis=0)
        forecasts[label] = np.mean([run.forecasts[label] for run in runs], axis=0)

    horizon, n_targets = prepared.val_actual.shape[1], len(prepared.targets)
    baselines = {NAIVE: naive}
    if season is not None:
        baselines[SEASONAL] = partial(seasonal_naive, season=season)
    for name, method in baselines.items():
        # each series' own: from the first target row of each validation window, and
        # from its end
        predicted = np.concatenate(
            [
                method(
                    p.series.values[:, :n_targets],
                    p.split.train_rows + np.arange(p.split.val_windows),
                    horizon,
                )
                for p in prepared.parts
            ]
        )
        rows.append(
            Scores(
                name=name,
                layers="-",
                merge_mode="-",
                head="-",
                params=0,
                epochs_run=0,
                train_seconds=0,
                **_mean_scores([scores(prepared, predicted)]),
            )
        )
        fits[name] = predicted[:, 0]
        forecasts[name] = np.stack(
            [
                method(p.series.values[:, :n_targets], np.array([len(p.series.values)]), steps)[0]
                for p in prepared.parts
            ]
        )

    rows.sort(key=lambda row: row.val_rmse)
    rows = [dataclasses.replace(row, rank=rank) for rank, row in enumerate(rows, start=1)]
    notes.extend(_noise_notes(rows, candidates, len(runs)))
    frame = _forecast_frame(prepared, forecasts, steps)
    return Comparison(rows, frame, forecasts, fits, notes)


def _mean_scores(per_seed: list[dict]) -> dict:
    rmses = [s["val_rmse"] for s in per_seed]
    return {
        "val_mae": statistics.fmean(s["val_mae"] for s in per_seed),
        "val_rmse": statistics.fmean(rmses),
        "val_smape": statistics.fmean(s["val_smape"] for s in per_seed),
        "val_rmse_sd": statistics.stdev(rmses) if len(rmses) > 1 else 0.0,
    }


def _noise_notes(rows: list[Scores], candidates: list[Candidate], repeats: int) -> list[str]:
    """Say whether the best networks' gap is larger than what changing the seed does."""
    labels = {c.label for c in candidates}
    networks = [row for row in rows if row.name in labels]
    if len(networks) < 2:
        return []
    if repeats == 1:
        return [
            "One seed per candidate: differences may be seed noise; --repeats 3 or more "
            "measures it."
        ]
    best, second = networks[:2]
    gap, spread = second.val_rmse - best.val_rmse, max(best.val_rmse_sd, second.val_rmse_sd)
    if gap < spread:
        return [
            f"The RMSE gap between {best.name} and {second.name} ({gap:.4f}) is smaller "
            f"than the spread across {repeats} seeds ({spread:.4f}): it is seed noise."
        ]
    return [
        f"{best.name} beats {second.name} by {gap:.4f} RMSE, more than the spread across "
        f"{repeats} seeds ({spread:.4f})."
    ]


def _forecast_frame(prepared: Prepared, forecasts: dict[str, np.ndarray], steps: int):
    """Every method's forecast ``(series, steps, targets)`` as rows: [id,] time, methods."""
    frames = []
    targets = prepared.targets
    for index, part in enumerate(prepared.parts):
        series = part.series
        frame = pd.DataFrame(
            {
                (name if len(targets) == 1 else f"{name} {target}"): values[index, :, i]
                for name, values in forecasts.items()
                for i, target in enumerate(targets)
            }
        )
        frame.insert(0, *future_index(series, steps, series.freq))
        if series.name is not None:
            frame.insert(0, series.id_col, series.name)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def _write(directory: Path, comparison: Comparison, prepared: Prepared, title: str) -> None:
    """The table, the forecasts and both pictures into ``directory``."""
    from forecast_cli.plotting import plot_comparison

    table = pd.DataFrame([dataclasses.asdict(row) for row in comparison.rows])
    table.to_csv(directory / TABLE_FILE, index=False)
    comparison.forecasts.to_csv(directory / FORECASTS_FILE, index=False)
    first = prepared.parts[0]  # with several series, the pictures show the first
    series, split = first.series, first.split
    tail = min(len(series.values), split.rows - split.train_rows + 3 * prepared.val[0].shape[1])
    rows = np.arange(len(series.values))
    x = series.times if series.times is not None else rows + 1
    steps = len(comparison.forecasts) // len(prepared.parts)
    forecast_x = np.asarray(future_index(series, steps, series.freq)[1])
    if series.times is None or series.freq is None:
        forecast_x = len(series.values) + np.arange(1, steps + 1)
    plot_comparison(
        history_x=np.asarray(x[-tail:]),
        history=series.values[-tail:, 0],
        fit_x=np.asarray(x[split.train_rows : split.train_rows + split.val_windows]),
        fits={name: fit[: split.val_windows, 0] for name, fit in comparison.val_fits.items()},
        forecast_x=forecast_x,
        forecasts={name: values[0, :, 0] for name, values in comparison.future.items()},
        networks={
            row.name: f"{row.name}: RMSE {row.val_rmse:.4f} (rank {row.rank})"
            for row in comparison.rows
            if row.params > 0
        },
        target=series.targets[0] if series.name is None else f"{series.name}: {series.targets[0]}",
        title=title,
        grid_path=directory / GRID_FILE,
        overlay_path=directory / OVERLAY_FILE,
    )
