"""Everything the user reads in the terminal, drawn with rich.

With ``--json`` the human-readable output moves to stderr so that stdout carries only
the JSON object, as its last line.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from forecast_cli.training import EpochHook


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

    @contextlib.contextmanager
    def epochs(self, total: int) -> Iterator[EpochHook]:
        """A progress bar over epochs; yields the hook training calls after each epoch."""
        progress = Progress(
            TextColumn("[bold]training"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[losses]}"),
            TimeElapsedColumn(),
            console=self.console,
            transient=False,
        )
        task = progress.add_task("train", total=total, losses="")

        def on_epoch(epoch: int, active: dict[str, tuple[float, float]]) -> None:
            if len(active) == 1:
                ((loss, val_loss),) = active.values()
                losses = f"loss {loss:.4f}  val_loss {val_loss:.4f}"
            else:
                best = min(val for _, val in active.values())
                losses = f"{len(active)} still improving  best val_loss {best:.4f}"
            progress.update(task, completed=epoch, losses=losses)

        with progress:
            yield on_epoch

    def frame(self, title: str, frame: pd.DataFrame, rows: int = 10) -> None:
        table = Table(title=title, title_justify="left")
        for column in frame.columns:
            table.add_column(str(column), justify="left" if column == frame.columns[0] else "right")
        for record in frame.head(rows).itertuples(index=False):
            table.add_row(*(_cell(value) for value in record))
        if len(frame) > rows:
            table.add_row(*(["…"] * len(frame.columns)))
        self.console.print(table)

    def written(self, what: str, path: Path) -> None:
        self.console.print(f"[green]✓[/green] {what}: [bold]{path}[/bold]")

    def warn(self, message: str) -> None:
        self.console.print(f"[yellow]![/yellow] {message}")

    def json(self, payload: dict) -> None:
        """Print ``payload`` as one JSON line on stdout (only in ``--json`` mode)."""
        if self.json_mode:
            sys.stdout.write(json.dumps(payload, default=str) + "\n")
            sys.stdout.flush()


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    if isinstance(value, pd.Timestamp):
        return value.isoformat(sep=" ")
    return str(value)
