"""``forecast compare``: several networks and the baselines on the same windows, side by side.

All candidates see the same split, scaling, windows and batches, and each is trained as
``forecast train`` trains one. The work is cut into jobs, one per seed and share of the
candidates; each job trains its candidates together as branches of one model (see
``training``), and with ``--jobs`` above one the jobs run in worker processes that share
the cores, or with ``--ray`` as tasks of a Ray cluster, one job per CPU of it by default.
None of it changes a candidate's result: it is the one it gets trained alone with the
same seed. The jobs hand back their models' files, which this process alone writes.
"""

from __future__ import annotations

import dataclasses
import statistics
from dataclasses import dataclass
from functools import cache, partial
from pathlib import Path

import numpy as np
import pandas as pd

from forecast_cli import fused_lstm, parallel
from forecast_cli.artifacts import (
    MODELS_DIR,
    check_comparison_dir,
    model_files,
    staged_directory,
    write_comparison,
    write_files,
)
from forecast_cli.candidates import Candidate
from forecast_cli.combination import combined, label
from forecast_cli.config import (
    Anchor,
    ClusterConfig,
    CompareConfig,
    DataConfig,
    LogConfig,
    RuntimeConfig,
    TrainConfig,
    WindowConfig,
    Windows,
)
from forecast_cli.epoch_log import Job, loggers
from forecast_cli.errors import ForecastError
from forecast_cli.evaluation import (
    baseline_season,
    baselines,
    beaten,
    scores,
    validation_baselines,
)
from forecast_cli.forecasting import Origins, after_end, forecast_from
from forecast_cli.loading import (
    Series,
    Source,
    check_source,
    load_panel,
    panel_notes,
    source_path,
)
from forecast_cli.pipeline import (
    Prepared,
    build_candidates,
    fit_candidates,
    model_card,
    prepare,
)
from forecast_cli.report import Report
from forecast_cli.resolve import resolve
from forecast_cli.runtime import one_machine
from forecast_cli.windows import rows_ahead

# Candidates whose validation RMSE lie within this share of each other score alike.
ALIKE = 0.001


@dataclass(frozen=True)
class Scores:
    """One row of the comparison: a candidate's (or baseline's) scores over the seeds."""

    name: str
    layers: str
    merge_mode: str
    head: str
    combined: str  # what its forecast averages with the network's ('-' for a baseline)
    params: int
    epochs_run: float
    train_seconds: float
    val_mae: float
    val_rmse: float
    val_smape: float
    val_mase: float
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
    prepared: Prepared  # the windows every candidate was trained on
    title: str
    out_dir: Path
    repeats: int

    def summary(self) -> dict:
        """The ``--json`` object."""
        return {
            "rows": [dataclasses.asdict(row) for row in self.rows],
            "forecasts": self.forecasts.to_dict(orient="records"),
            "notes": self.notes,
            "season": self.prepared.windows.season,
            "out_dir": str(self.out_dir.absolute()),
        }


def run_compare(
    source: Source,
    data: DataConfig,
    window: WindowConfig,
    candidates: list[Candidate],
    training: TrainConfig,
    runtime: RuntimeConfig,
    options: CompareConfig,
    cluster: ClusterConfig,
    logs: LogConfig,
    out_dir: Path,
    report: Report,
    run_file: str | None = None,
) -> Comparison:
    """Train every candidate ``options.repeats`` times, score them next to the baselines, and
    write the comparison to ``out_dir`` (atomically: all of it or nothing), with
    ``run_file`` as its ``run.toml``; each epoch's losses also go where ``logs`` says."""
    check_comparison_dir(out_dir, options.overwrite)
    check_source(source, data)
    one_machine(runtime.strategy, "compare")
    # Each seed's candidates are shared among --jobs workers (default: one per core, or
    # per CPU of the Ray cluster).
    slots = parallel.slots(runtime, training.xla, cluster)
    shares = min(options.jobs or slots, len(candidates))
    at_once = min(slots if cluster.ray else options.jobs or shares, options.repeats * shares)
    with parallel.workers(at_once, runtime, training.xla, cluster) as workers:
        device = workers.device()  # what the machine lacks is refused before reading the data
        with report.reading(source):
            panel = load_panel(source, data)
        # The candidates differ in layers and head only: the data settles the rest alike.
        resolved = resolve(window, candidates[0].model, panel, options.steps)
        windows = resolved.windows
        if panel[0].features and windows.horizon < options.steps:
            # Rolled past its horizon, the network would need the features' future values,
            # which compare has no way to be given: refuse rather than guess them.
            raise ForecastError(
                f"With --features {','.join(panel[0].features)}, compare forecasts only as far as "
                f"the network's --horizon ({windows.horizon}), which is shorter than --steps "
                f"{options.steps}: pass --steps {windows.horizon} or --horizon {options.steps}."
            )
        candidates = [
            dataclasses.replace(
                c,
                model=dataclasses.replace(
                    c.model, anchor=resolved.model.anchor, season=resolved.model.season
                ),
            )
            for c in candidates
        ]
        report.notes(panel_notes(panel) + resolved.notes)
        prepared = prepare(panel, windows)
        report.windows(prepared, candidates[0].model.head)
        season, notes = baseline_season(prepared)

        with staged_directory(out_dir) as staging:
            jobs = _jobs(windows, candidates, shares, data, training, runtime, options)
            report.training_jobs(len(candidates), options.repeats, len(jobs), at_once, device)
            named = [_log_job(job, options.repeats) for job in jobs]
            with (
                loggers(logs, named) as log,
                report.epochs(training.epochs, len(jobs), log) as on_epoch,
            ):
                # here the candidates train on the windows made already; a worker makes its own
                task, shared = (_train_all, prepared) if workers.in_process else (_train_job, panel)
                # fitted here while the networks train elsewhere: they need none of them
                fitted = cache(partial(_baselines, prepared, season, options.steps))
                runs = workers.run(
                    task, shared, jobs, lambda i, event: on_epoch(*event, job=i), fitted
                )
            by_seed: dict[int, _Run] = {}  # each seed's jobs, put back together
            for job, run in zip(jobs, runs, strict=True):
                whole = by_seed.setdefault(job.training.seed, _Run({}, {}, {}, [], {}))
                whole.scores.update(run.scores)
                whole.val_fits.update(run.val_fits)
                whole.forecasts.update(run.forecasts)
                whole.notes.extend(run.notes)
                for slug, files in run.models.items():
                    write_files(staging / MODELS_DIR / slug, files)
            title = (
                f"{source_path(source).name}: {len(candidates)} candidate(s), lookback "
                f"{windows.lookback}, {options.repeats} seed(s)"
            )
            report.notes(by_seed[training.seed].notes)  # models that could not be fitted
            comparison = _combine(
                prepared,
                candidates,
                list(by_seed.values()),
                fitted(),
                options,
                notes,
                title,
                out_dir,
            )
            write_comparison(staging, comparison, run_file)
        return comparison


@dataclass(frozen=True)
class _Job:
    """Candidates to train together with one seed, in this process or a worker (which
    gets the loaded series beside it, not their path: standard input cannot be read
    twice)."""

    windows: Windows
    candidates: list[Candidate]
    data: DataConfig
    training: TrainConfig
    runtime: RuntimeConfig
    steps: int
    save: bool  # hand back the models' files (first seed only)


def _jobs(windows, candidates, shares, data, training, runtime, options):
    """One job per seed and share of the candidates. Candidates whose LSTMs all run the
    fused kernel never share a job with others: in one model with them, ``--xla auto``
    could compile their steps instead (``training._compiled``), and their scores would
    depend on ``--jobs``."""
    groups = [
        [i for i, c in enumerate(candidates) if fused_lstm.fused_config(c.model) is fused]
        for fused in (True, False)
    ]
    shared = [group[share::shares] for group in groups for share in range(shares)]
    return [
        _Job(
            windows,
            [candidates[i] for i in share],
            data,
            dataclasses.replace(training, seed=training.seed + repeat),
            runtime,
            options.steps,
            repeat == 0,
        )
        for repeat in range(options.repeats)
        for share in shared
        if share
    ]


def _branch_names(job: _Job) -> list[str]:
    """The name of each candidate's first network in ``job``'s joint model."""
    return [f"candidate_{i}" for i in range(len(job.candidates))]


def _log_job(job: _Job, repeats: int) -> Job:
    """How the epoch loggers name ``job``'s networks: by candidate label, and in
    TensorBoard by the folder name of its models/ directory, under seed_N/ when each
    candidate trains with several seeds."""
    under = f"seed_{job.training.seed}/" if repeats > 1 else ""
    names = {
        name: (candidate.label, under + candidate.slug)
        for name, candidate in zip(_branch_names(job), job.candidates, strict=True)
    }
    return Job(names, job.training.seed)


def _train_job(panel: tuple[Series, ...], job: _Job, on_epoch) -> _Run:
    """Train and score one job's candidates in a worker process or a Ray task."""
    return _train_all(prepare(panel, job.windows), job, on_epoch)


@dataclass(frozen=True)
class _Run:
    """One seed's results for some candidates, by label."""

    scores: dict[str, dict]  # metrics, params, epochs_run, train_seconds
    val_fits: dict[str, np.ndarray]  # (val windows, targets): one step ahead, data units
    forecasts: dict[str, np.ndarray]  # (series, steps, targets) after the series' end
    notes: list[str]  # the statistical models that could not be fitted
    models: dict[str, dict[str, bytes]]  # the saved models' files, by folder (``model_files``)


def _train_all(prepared: Prepared, job: _Job, on_epoch) -> _Run:
    """Train the job's candidates together; score, forecast and save each."""
    models = [candidate.model for candidate in job.candidates]
    networks = build_candidates(models, prepared, job.training.seed, _branch_names(job))
    trained = fit_candidates(networks, prepared, job.training, on_epoch)
    if any(t.result.interrupted for t in trained):
        raise KeyboardInterrupt  # a comparison is written whole or not at all
    windows = prepared.windows
    # the calendar is the only extra input compare rolls past the horizon (run_compare)
    ends = [
        Origins(
            after_end(p.series, None, rows_ahead(job.steps, windows.horizon)),
            p.scaler,
            np.array([len(p.series.values)]),
            p.series.known_ahead,
        )
        for p in prepared.parts
    ]
    futures = forecast_from(
        [(t.model, t.config.head) for t in trained],
        ends,
        windows.lookback,
        job.steps,
        len(prepared.targets),
    )
    run, fits = _Run({}, {}, {}, [], {}), {}
    for candidate, one, network in zip(job.candidates, trained, futures, strict=True):
        chosen, season = list(one.combined), windows.season
        future, unfitted = combined(
            network, ends, chosen, job.steps, season, len(prepared.targets), fits
        )
        run.notes.extend(unfitted)
        card = model_card(prepared, job.data, job.training, job.runtime, one)
        run.scores[candidate.label] = {
            **one.metrics,
            "params": card.params,
            "epochs_run": one.result.epochs_run,
            "train_seconds": one.result.seconds,
            "combined": label(one.combined),
            # what carries its forecast beside the network: its anchor, the statistical
            # models averaged in for any series
            "anchored": one.config.anchor is not Anchor.NONE,
            "averaged": any(one.combined),
        }
        run.val_fits[candidate.label] = one.val_forecast[:, 0]
        run.forecasts[candidate.label] = np.concatenate(future)
        if job.save:
            run.models[candidate.slug] = model_files(one.model, card, one.result.history)
    return run


_Fitted = tuple[dict[str, np.ndarray], dict[str, list[np.ndarray]], list[str]]


def _baselines(prepared: Prepared, season: int | None, steps: int) -> _Fitted:
    """Each baseline's forecasts of each series, from the series' own rows: at each
    validation window (fitted on the training rows) and ``steps`` from its end (fitted
    on all of them); and their notes."""
    n_targets = len(prepared.targets)
    history = [p.series.values[:, :n_targets] for p in prepared.parts]
    at_val, val_notes = validation_baselines(prepared)
    ends = [np.array([len(h)]) for h in history]
    at_end, end_notes = baselines(history, ends, steps, season, prepared.windows.baselines)
    return at_val, at_end, list(dict.fromkeys(val_notes + end_notes))


def _combine(
    prepared: Prepared,
    candidates: list[Candidate],
    runs: list[_Run],
    fitted: _Fitted,
    options: CompareConfig,
    notes: list[str],
    title: str,
    out_dir: Path,
) -> Comparison:
    """Average the seeds, add the baselines (``_baselines``), rank by validation RMSE."""
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
                combined=per_seed[0]["combined"],  # the first seed's, whose model is saved
                params=per_seed[0]["params"],
                epochs_run=statistics.fmean(s["epochs_run"] for s in per_seed),
                train_seconds=statistics.fmean(s["train_seconds"] for s in per_seed),
                **_mean_scores(per_seed),
            )
        )
        fits[label] = np.mean([run.val_fits[label] for run in runs], axis=0)
        forecasts[label] = np.mean([run.forecasts[label] for run in runs], axis=0)

    notes.extend(_combined_note(rows))
    at_val, at_end, baseline_notes = fitted
    notes.extend(baseline_notes)
    for name, predicted in at_val.items():
        rows.append(
            Scores(
                name=name,
                layers="-",
                merge_mode="-",
                head="-",
                combined="-",
                params=0,
                epochs_run=0,
                train_seconds=0,
                **_mean_scores([scores(prepared, predicted)]),
            )
        )
        fits[name] = predicted[:, 0]
        forecasts[name] = np.concatenate(at_end[name])

    networks = [row.val_mase for row in rows if row.params > 0]
    others = {row.name: row.val_mase for row in rows if row.params == 0}
    notes.extend(beaten(min(networks), others, "every network on the validation windows"))
    rows.sort(key=lambda row: row.val_rmse)
    rows = [dataclasses.replace(row, rank=rank) for rank, row in enumerate(rows, start=1)]
    every = [run.scores[c.label] for run in runs for c in candidates]
    notes.extend(
        alike_note(
            [row.val_rmse for row in rows if row.params > 0],
            all(s["anchored"] for s in every),
            all(s["averaged"] for s in every),
        )
        or _noise_notes(rows, candidates, len(runs))
    )
    frame = _forecast_frame(prepared, forecasts, options.steps)
    return Comparison(
        rows, frame, forecasts, fits, notes, prepared, title, out_dir, options.repeats
    )


def _combined_note(rows: list[Scores]) -> list[str]:
    """What the candidates' forecasts average with the network's, said once if alike."""
    kinds = {row.combined for row in rows}
    if kinds == {"none"}:
        return []
    if len(kinds) == 1:
        each = f"{kinds.pop()} for every candidate"
    else:
        each = ", ".join(f"{row.name} {row.combined}" for row in rows)
    return [
        f"Averaged with the network's forecast, as chosen on validation: {each} "
        "(--combine none keeps the networks alone)."
    ]


def _mean_scores(per_seed: list[dict]) -> dict:
    rmses = [s["val_rmse"] for s in per_seed]
    return {
        "val_mae": statistics.fmean(s["val_mae"] for s in per_seed),
        "val_rmse": statistics.fmean(rmses),
        "val_smape": statistics.fmean(s["val_smape"] for s in per_seed),
        "val_mase": statistics.fmean(s["val_mase"] for s in per_seed),
        "val_rmse_sd": statistics.stdev(rmses) if len(rmses) > 1 else 0.0,
    }


def alike_note(rmses: list[float], anchored: bool, averaged: bool) -> list[str]:
    """Say when the candidates' validation ``rmses`` lie within ``ALIKE`` of each other and
    what every one of them shares that carries their forecasts: an anchor (``anchored``),
    the statistical models averaged in (``averaged``). On a regular series those can
    leave the networks little to add, and the ranking then says nothing of the networks."""
    if len(rmses) < 2 or max(rmses) > min(rmses) * (1 + ALIKE) or not (anchored or averaged):
        return []
    shared = ["their anchor"] * anchored + ["the statistical models averaged in"] * averaged
    carry = "carries" if shared == ["their anchor"] else "carry"
    flags = " ".join(["--anchor none"] * anchored + ["--combine none"] * averaged)
    return [
        f"The candidates' validation RMSE lie within {ALIKE:.1%} of each other: "
        f"{' and '.join(shared)} {carry} their forecasts; {flags} compares the networks alone."
    ]


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
        frame.insert(0, *series.future_index(steps, series.freq))
        if series.name is not None:
            frame.insert(0, series.id_col, series.name)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)
