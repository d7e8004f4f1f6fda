"""Everything the user reads in the terminal, drawn with rich.

The commands hand their plain results to a ``Report``, which alone formats and prints.
With ``--json`` the human-readable output moves to stderr so that stdout carries only
the JSON object, as its last line; the Python API's report is quiet.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

UNBOUNDED = 10_000  # the width of the output when it is not a terminal


class Report:
    """The terminal side of a command."""

    def __init__(self, json_mode: bool = False, quiet: bool = False) -> None:
        self.json_mode = json_mode
        self.console = Console(stderr=json_mode, highlight=False, quiet=quiet)
        if not self.console.is_terminal and "COLUMNS" not in os.environ:
            # A file or a pipe has no width: tables keep every digit and every name,
            # rather than being cut to 80 columns ('17.71…'), and a note stays one line.
            self.console.width = UNBOUNDED

    def notes(self, notes: tuple[str, ...] | list[str]) -> None:
        for note in notes:
            self.console.print(f"[dim]•[/dim] {note}")

    def facts(self, title: str, rows: list[tuple[str, str]]) -> None:
        """A two-column table of named facts."""
        table = Table(
            title=title, show_header=False, title_justify="left", box=None, padding=(0, 2)
        )
        table.add_column(style="bold", no_wrap=True)
        table.add_column()
        for name, value in rows:
            table.add_row(name, value)
        self.console.print(table)

    def layers(self, rows, total_params: int, title: str) -> None:
        table = Table(title=title, title_justify="left")
        table.add_column("layer")
        table.add_column("type")
        table.add_column("output shape")
        table.add_column("params", justify="right")
        for row in rows:
            shape = (
                "(" + ", ".join("samples" if d is None else str(d) for d in row.output_shape) + ")"
            )
            table.add_row(row.name, row.kind, shape, f"{row.params:,}")
        table.add_section()
        table.add_row("total", "", "", f"{total_params:,}", style="bold")
        self.console.print(table)

    def reading(self, source):
        """A spinner while ``source`` loads (a large file takes seconds); gone once read."""
        from forecast_cli.loading import source_path

        return self.console.status(f"Reading {source_path(source)}", spinner="dots")

    def windows(self, prepared, head, device: str | None = None) -> None:
        """What was read and the tensors' shapes, printed before training."""
        rows = window_facts(prepared, head)
        self.facts("Data and windows", rows + ([("device", device)] if device else []))

    def network(self, members: list[list[tuple]]) -> None:
        """The layer table of a candidate's first network (``pipeline.build_candidates``)."""
        from forecast_cli.network import describe

        config, model = members[0]
        median = f"; the forecast is the median of {len(members)} such" if len(members) > 1 else ""
        self.layers(
            describe(model),
            model.count_params(),
            f"Network: {config.label} ({config.head}){median}",
        )

    def trained(self, trained) -> None:
        """How a training went: resumed, what its forecast averages (an interruption is
        said last, once the model is saved)."""
        said = (trained.result.resumed, trained.combination_note)
        self.notes(tuple(note for note in said if note))

    def training(self, outcome, prepared) -> None:
        """``forecast train``'s validation scores and where the model went."""
        card = outcome.card
        single = len(prepared.parts) == 1 and len(prepared.targets) == 1
        unit = f" ({prepared.targets[0]} units)" if single else ""
        mases = [
            f"{name} {each['val_mase']:.3f}" for name, each in card.metrics["baselines"].items()
        ]
        baselines = [("baselines", ", ".join(mases) + " (MASE)")] if mases else []
        self.facts(
            "Validation",
            [
                ("MAE", f"{card.metrics['val_mae']:.4f}{unit}"),
                ("RMSE", f"{card.metrics['val_rmse']:.4f}{unit}"),
                ("MASE", f"{card.metrics['val_mase']:.3f}{_alone(card.metrics)}"),
                *baselines,
                (
                    "epochs",
                    f"{card.outcome['epochs_run']} run, weights of epoch "
                    f"{card.outcome['best_epoch']} kept",
                ),
                ("time", training_time(card.outcome)),
            ],
        )
        if outcome.saved:
            self.written("Model saved", outcome.model_dir)
        else:
            self.notes(("A worker of a multi-worker cluster: the chief writes the model.",))

    def training_jobs(self, candidates: int, repeats: int, jobs: int, workers: int, device):
        self.console.print(
            f"Training {candidates} candidate(s) x {repeats} seed(s) in {jobs} job(s), "
            f"{workers} at a time, on the {device}"
        )

    def backtest_plan(self, panel, starts, options, season: int, jobs: int, device) -> None:
        folds, steps = options.folds, options.steps
        if len(panel) == 1:
            where = "at rows " + ", ".join(str(c + 1) for c in starts[0])
        else:
            before = ", ".join(str((folds - k) * steps) for k in range(folds))
            where = f"{before} rows before each series' end"
        self.console.print(
            f"Backtest: {folds} fold(s) of {steps} step(s), cut-offs {where}; season {season}; "
            f"{options.refit}{f', {jobs} folds at a time' if jobs > 1 else ''}; on the {device}"
        )

    def folds_kept(self, folds, intervals: bool) -> None:
        """Which combination each fold kept, and the folds too short to calibrate
        intervals."""
        if any(f.combined != "none" for f in folds):
            kept = ", ".join(f"fold {f.number} {f.combined}" for f in folds)
            self.notes((f"Averaged with the network, as chosen on validation: {kept}.",))
        uncalibrated = [f.number for f in folds if intervals and not f.widths]
        if uncalibrated:
            self.warn(
                f"Fold(s) {', '.join(map(str, uncalibrated))}: the validation tail is too short "
                "to calibrate intervals (10 origins with --steps steps of truth); their "
                "coverage is left out."
            )

    @contextlib.contextmanager
    def epochs(self, epochs: int, jobs: int = 1, log=None) -> Iterator:
        """A progress bar over the epochs of ``jobs`` trainings; yields the hook they call
        after each epoch, as ``hook(epoch, active, seconds, job=0)``, which also calls
        ``log`` (an ``epoch_log.loggers`` hook) the same way."""
        progress = Progress(
            TextColumn("[bold]training"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[losses]}"),
            TimeElapsedColumn(),
            console=self.console,
        )
        task = progress.add_task("train", total=epochs * jobs, losses="")
        reached = [0] * jobs

        def on_epoch(
            epoch: int, active: dict[str, tuple[float, float]], seconds: float, job: int = 0
        ) -> None:
            if log is not None:
                log(epoch, active, seconds, job=job)
            reached[job] = epoch
            if not active:  # resumed from a backup of a training that had finished
                losses = ""
            elif len(active) == 1:
                ((loss, val_loss),) = active.values()
                losses = f"loss {loss:.4f}  val_loss {val_loss:.4f}"
            else:
                best = min(val for _, val in active.values())
                losses = f"{len(active)} still improving  best val_loss {best:.4f}"
            progress.update(task, completed=sum(reached), losses=losses)

        with progress:
            yield on_epoch
            progress.update(task, total=sum(reached))  # early stopping ends before the total

    def frame(self, title: str, frame: pd.DataFrame, rows: int = 10) -> None:
        table = Table(title=title, title_justify="left")
        for column in frame.columns:
            table.add_column(str(column), justify="left" if column == frame.columns[0] else "right")
        for record in frame.head(rows).itertuples(index=False):
            table.add_row(*(_cell(value) for value in record))
        if len(frame) > rows:
            table.add_row(*(["…"] * len(frame.columns)))
        self.console.print(table)

    def comparison(self, rows, repeats: int) -> None:
        """The comparison table, best first and highlighted; baselines dimmed."""
        spread = repeats > 1
        table = Table(title=f"Validation scores ({repeats} seed(s) each)", title_justify="left")
        table.add_column("rank", justify="right")
        table.add_column("candidate", no_wrap=True)
        for name in ("params", "epochs", "MAE", "RMSE", "sMAPE %", "MASE"):
            table.add_column(name, justify="right")
        for row in rows:
            rmse = f"{row.val_rmse:.4f}" + (f" ± {row.val_rmse_sd:.4f}" if spread else "")
            style = "bold green" if row.rank == 1 else ("dim italic" if row.params == 0 else "")
            table.add_row(
                str(row.rank),
                row.name,
                f"{row.params:,}" if row.params else "-",
                f"{row.epochs_run:g}" if row.params else "-",
                f"{row.val_mae:.4f}",
                rmse,
                f"{row.val_smape:.2f}",
                f"{row.val_mase:.3f}",
                style=style,
            )
        self.console.print(table)

    def written(self, what: str, path: Path) -> None:
        self.console.print(f"[green]✓[/green] {what}: [bold]{path}[/bold]")

    def warn(self, message: str) -> None:
        self.console.print(f"[yellow]![/yellow] {message}")

    def json(self, payload: dict) -> None:
        """Print ``payload`` as one JSON line on stdout (only in ``--json`` mode)."""
        if self.json_mode:
            sys.stdout.write(json.dumps(_finite(payload), default=str, allow_nan=False) + "\n")
            sys.stdout.flush()


def _alone(metrics: dict) -> str:
    """The network's own MASE, where the forecast combines it with statistical models."""
    alone = metrics.get("network")
    return f" (the network alone {alone['val_mase']:.3f})" if alone else ""


def _finite(value):
    """``value`` with NaN and infinities as ``None`` (JSON has no NaN)."""
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _cell(value) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return "-"  # missing, or NaN
    if isinstance(value, float):
        return f"{value:.4f}"
    if isinstance(value, pd.Timestamp):
        return value.isoformat(sep=" ")
    return str(value)


def training_time(outcome: dict) -> str:
    """A model card's training time, and whether XLA compiled its steps (--xla): the
    compilation is seconds of it before the first epoch."""
    compiled = ", steps compiled with XLA" if outcome.get("xla_compiled") else ""
    return f"{outcome['train_seconds']:.1f} s{compiled}"


def window_facts(prepared, head) -> list[tuple[str, str]]:
    """The table printed before training: what was read and the tensors' shapes."""
    from forecast_cli.network import fitted_shape

    windows = prepared.windows
    series, split = prepared.parts[0].series, prepared.parts[0].split
    y_train, y_val = (
        fitted_shape(y.shape, head, windows.lookback) for y in (prepared.train[1], prepared.val[1])
    )
    time = f", time column '{series.time_col}'" if series.time_col else ", no time column"
    freq = f", frequency {series.freq}" if series.freq else ""
    if len(prepared.parts) == 1:
        read = f"{split.rows} rows{time}{freq}"
        train = f"rows 1-{split.train_rows}"
        val = f"targets in rows {split.train_rows + 1}-{split.rows}"
        scaling = f"statistics of the {split.train_rows} training rows"
    else:
        lengths = sorted(part.split.rows for part in prepared.parts)
        read = f"{len(lengths)} series of {lengths[0]}-{lengths[-1]} rows{time}{freq}"
        train, val = "each series' first rows", "each series' last rows"
        scaling = "per series, statistics of its training rows"
    return [
        ("series", f"{series.path} ({read})"),
        ("targets", ", ".join(series.targets)),
        ("inputs", ", ".join(series.columns)),
        ("lookback, horizon", f"{windows.lookback}, {windows.horizon}"),
        ("train", f"{len(prepared.train[0])} samples ({train})"),
        ("validation", f"{len(prepared.val[0])} samples ({val})"),
        ("X train, y train", f"{_shape(prepared.train[0].shape)}, {_shape(y_train)}"),
        ("X val, y val", f"{_shape(prepared.val[0].shape)}, {_shape(y_val)}"),
        ("scaling", f"{windows.scale} ({scaling})"),
    ]


def _shape(shape: tuple) -> str:
    return "(" + ", ".join(map(str, shape)) + ")"
