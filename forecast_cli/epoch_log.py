"""Each epoch's losses, named after their networks, handed to the loggers a run asks for:
JSON lines on stderr (``--log-format json``) and TensorBoard event files
(``--tensorboard``).

A training reports an epoch as ``(epoch, {branch: (loss, val_loss)}, seconds)``, from
this process or, through ``parallel``, from a worker process: the loggers run here
either way, so ``--jobs`` changes nothing they write. A ``Job`` says how the branch
names of one training (``pipeline.build_candidates``) read to a user.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from forecast_cli.config import LogConfig, LogFormat

# hook(epoch, {branch: (loss, val_loss)}, seconds, job=0), as ``Report.epochs`` calls it
Hook = Callable[..., None]


@dataclass(frozen=True)
class Epoch:
    """One network's losses after one epoch (counted from 1, as in history.csv)."""

    candidate: str  # 'network', or compare's label; a member adds '_m1', '_m2'...
    folder: str  # its runs' folder under --tensorboard, e.g. 'fold_2/network'
    fold: int | None  # backtest's fold, from 1
    seed: int
    epoch: int
    loss: float
    val_loss: float
    seconds: float  # spent training so far, a resumed training's earlier runs included


@dataclass(frozen=True)
class Job:
    """One training's candidates: the first branch name of each (``network``,
    ``candidate_0``...) -> its label and its folder; a later member adds its suffix."""

    names: dict[str, tuple[str, str]]
    seed: int
    fold: int | None = None

    def epochs(self, epoch: int, active: dict, seconds: float) -> list[Epoch]:
        """The ``Epoch`` of each branch in ``active``."""
        records = []
        for branch, (loss, val_loss) in active.items():
            first = max(
                (name for name in self.names if branch == name or branch.startswith(name + "_")),
                key=len,
            )
            label, folder = self.names[first]
            suffix = branch[len(first) :]
            records.append(
                Epoch(
                    label + suffix,
                    folder + suffix,
                    self.fold,
                    self.seed,
                    epoch,
                    loss,
                    val_loss,
                    seconds,
                )
            )
        return records


@contextlib.contextmanager
def loggers(config: LogConfig, jobs: list[Job]) -> Iterator[Hook | None]:
    """The hook ``hook(epoch, active, seconds, job=0)`` that hands each network's losses
    in ``jobs[job]`` to the loggers ``config`` asks for (None when it asks for none),
    all closed, their files complete, when the block ends."""
    sinks = []
    if config.log_format is LogFormat.JSON:
        from forecast_cli.json_log import JsonLines

        sinks.append(JsonLines(sys.stderr))  # taken now: a progress bar may redirect it
    if config.tensorboard is not None:
        from forecast_cli.tensorboard_log import TensorBoardLog

        sinks.append(TensorBoardLog(config.tensorboard))
    if not sinks:
        yield None
        return

    def hook(epoch: int, active: dict, seconds: float, job: int = 0) -> None:
        for record in jobs[job].epochs(epoch, active, seconds):
            for sink in sinks:
                sink.write(record)

    try:
        yield hook
    finally:
        for sink in sinks:
            sink.close()
