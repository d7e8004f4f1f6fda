"""Everything the user reads in the terminal, drawn with rich.

With ``--json`` the human-readable output moves to stderr so that stdout carries only
the JSON object, as its last line.
"""

from __future__ import annotations

import contextlib
import json
import math
import sys
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table


class Report:
    """The terminal side of a command."""

    def __init__(self, json_mode: bool = False) -> None:
        self.json_mode = json_mode
        self.console = Console(stderr=json_mode, highlight=False)

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

    def reading(self, path: Path):
        """A spinner while ``path`` loads (a large file takes seconds); gone once read."""
        return self.console.status(f"Reading {path}", spinner="dots")

    @contextlib.contextmanager
    def epochs(self, epochs: int, jobs: int = 1) -> Iterator:
        """A progress bar over the epochs of ``jobs`` trainings; yields the hook they call
        after each epoch, as ``hook(epoch, active, job=0)``."""
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

        def on_epoch(epoch: int, active: dict[str, tuple[float, float]], job: int = 0) -> None:
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
        for name in ("params", "epochs", "MAE", "RMSE", "sMAPE %"):
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
