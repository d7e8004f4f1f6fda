"""Typed configuration: every choice a user can make, as plain frozen data.

The command line builds these objects from flags, the run records them in the model
directory, and ``forecast predict`` rebuilds them from there. Nothing here imports
TensorFlow.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from enum import StrEnum

from forecast_cli.errors import ForecastError

DEFAULT_LOOKBACK = 20
DEFAULT_STEPS = 20  # forecast predict --steps; what --anchor auto judges anchors on


class Cell(StrEnum):
    LSTM = "lstm"
    GRU = "gru"
    RNN = "rnn"


class MergeMode(StrEnum):
    CONCAT = "concat"
    SUM = "sum"
    MUL = "mul"
    AVE = "ave"


class Head(StrEnum):
    MANY_TO_ONE = "many-to-one"
    MANY_TO_MANY = "many-to-many"


class Anchor(StrEnum):
    """What the network's output is added to (see ``network``)."""

    AUTO = "auto"  # seasonal or last, chosen from the training rows (train_run.auto_anchor)
    NONE = "none"  # the network forecasts the values themselves
    LAST = "last"  # the network forecasts the change from the window's last value
    SEASONAL = "seasonal"  # ...the change from the last observed season (seasonal naive)


class HeadChoice(StrEnum):
    """``forecast compare --head``: one head, or both."""

    MANY_TO_ONE = "many-to-one"
    MANY_TO_MANY = "many-to-many"
    BOTH = "both"

    @property
    def heads(self) -> tuple[Head, ...]:
        return tuple(Head) if self is HeadChoice.BOTH else (Head(self.value),)


class Device(StrEnum):
    """Where TensorFlow trains and forecasts (``--device``)."""

    AUTO = "auto"  # a GPU if TensorFlow sees one, else the CPU
    CPU = "cpu"
    GPU = "gpu"


class Strategy(StrEnum):
    """How training is spread over devices (``--strategy``)."""

    NONE = "none"  # one device
    MIRRORED = "mirrored"  # every local GPU, tf.distribute.MirroredStrategy
    MULTI_WORKER = "multi-worker"  # several machines: MultiWorkerMirroredStrategy, TF_CONFIG


class Refit(StrEnum):
    """How ``forecast backtest`` trains each fold."""

    RETRAIN = "retrain"  # a fresh network per fold
    FINE_TUNE = "fine-tune"  # each fold continues from the previous fold's weights


class Scale(StrEnum):
    STANDARD = "standard"
    MINMAX = "minmax"
    NONE = "none"


class Fill(StrEnum):
    INTERPOLATE = "interpolate"
    FFILL = "ffill"
    DROP = "drop"


class Aggregate(StrEnum):
    """How rows that share a timestamp are combined (``--aggregate``)."""

    MEAN = "mean"
    SUM = "sum"
    LAST = "last"


class Loss(StrEnum):
    MSE = "mse"
    MAE = "mae"
    HUBER = "huber"


@dataclass(frozen=True)
class LayerSpec:
    """One recurrent layer: ``[bi]cell:units[:merge]``, e.g. ``bilstm:50:sum``."""

    cell: Cell
    units: int
    bidirectional: bool = False
    merge_mode: MergeMode | None = None

    def __str__(self) -> str:
        text = f"{'bi' if self.bidirectional else ''}{self.cell}:{self.units}"
        return f"{text}:{self.merge_mode}" if self.merge_mode else text


_LAYER = re.compile(r"^(?P<bi>bi)?(?P<cell>[a-z]+):(?P<units>[^:]+)(?::(?P<merge>[^:]+))?$")


def parse_layers(spec: str, default_merge: MergeMode = MergeMode.CONCAT) -> tuple[LayerSpec, ...]:
    """Parse ``--layers`` such as ``lstm:64,bilstm:32:sum`` into layer specs, bottom first.

    Bidirectional layers that do not name a merge mode get ``default_merge``.
    """
    layers = []
    for part in (p.strip().lower() for p in spec.split(",")):
        match = _LAYER.match(part)
        hint = "write CELL:UNITS[:MERGE] with CELL lstm, gru or rnn, optionally prefixed by bi"
        if not match:
            raise ForecastError(f"--layers: cannot read {part!r}; {hint} (e.g. bilstm:50).")
        if match["cell"] not in set(Cell):
            raise ForecastError(
                f"--layers: unknown cell {match['cell']!r} in {part!r}; use lstm, gru or rnn."
            )
        units = match["units"]
        if not units.isdigit() or int(units) < 1:
            raise ForecastError(
                f"--layers: units must be a whole number of at least 1, got {units!r} in {part!r}."
            )
        bidirectional = match["bi"] is not None
        merge = match["merge"]
        if merge is not None and merge not in set(MergeMode):
            raise ForecastError(
                f"--layers: unknown merge mode {merge!r} in {part!r}; "
                f"use one of {', '.join(MergeMode)}."
            )
        if merge is not None and not bidirectional:
            raise ForecastError(
                f"--layers: {part!r} names a merge mode but is not bidirectional; "
                f"write bi{match['cell']}:{units}:{merge} or drop :{merge}."
            )
        layers.append(
            LayerSpec(
                cell=Cell(match["cell"]),
                units=int(units),
                bidirectional=bidirectional,
                merge_mode=MergeMode(merge or default_merge) if bidirectional else None,
            )
        )
    return tuple(layers)


@dataclass(frozen=True)
class DataConfig:
    """Which columns to read, and how to treat missing values, gaps and repeated times.

    ``None`` means "detect": the loader resolves it and the resolved value is saved.
    """

    targets: tuple[str, ...] | None = None
    time_col: str | None = None
    features: tuple[str, ...] = ()
    fill: Fill | None = None
    freq: str | None = None  # the time column's step; None: inferred
    aggregate: Aggregate | None = None  # None: repeated timestamps are an error
    decimal: str | None = None  # the decimal mark; None: detected
    calendar: bool = False  # add the position in the day, week and year as inputs
    id_col: str | None = None  # long format: the column naming each row's series
    # inputs known ahead (prices, holidays): the network reads their values for the steps
    # it forecasts, given at predict time by --future-data
    future_features: tuple[str, ...] = ()


@dataclass(frozen=True)
class WindowConfig:
    """How the series is cut into (samples, lookback, features) windows and split."""

    lookback: int | None = DEFAULT_LOOKBACK  # None: from the season (see train_run)
    horizon: int | None = 1  # None: the steps forecast, up to the validation tail
    val_fraction: float = 0.2
    scale: Scale = Scale.STANDARD


@dataclass(frozen=True)
class ModelConfig:
    """The network: stacked recurrent layers, bottom first, and the output head."""

    layers: tuple[LayerSpec, ...] = field(default_factory=lambda: parse_layers("bilstm:50"))
    head: Head = Head.MANY_TO_ONE
    dropout: float = 0.0
    recurrent_dropout: float = 0.0
    anchor: Anchor = Anchor.NONE
    season: int = 1  # the period of the seasonal anchor

    @property
    def label(self) -> str:
        return ",".join(str(layer) for layer in self.layers)

    def to_dict(self) -> dict:
        return {
            "layers": [str(layer) for layer in self.layers],
            "head": str(self.head),
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
            "anchor": str(self.anchor),
            "season": self.season,
        }

    @classmethod
    def from_dict(cls, data: dict) -> ModelConfig:
        return cls(
            layers=parse_layers(",".join(data["layers"])),
            head=Head(data["head"]),
            dropout=float(data["dropout"]),
            recurrent_dropout=float(data["recurrent_dropout"]),
            anchor=Anchor(data["anchor"]),
            season=int(data["season"]),
        )


@dataclass(frozen=True)
class CompareConfig:
    """What ``forecast compare`` adds to the training settings."""

    season: int | None = None  # None: from the time column's frequency
    repeats: int = 1
    steps: int = 20
    jobs: int = 1  # worker processes
    overwrite: bool = False


@dataclass(frozen=True)
class BacktestConfig:
    """What ``forecast backtest`` adds to the training settings."""

    folds: int = 5
    steps: int = 10  # forecast per fold
    refit: Refit = Refit.RETRAIN
    season: int | None = None  # None: from the time column's frequency
    levels: tuple[int, ...] = (80, 95)  # interval coverage levels, percent
    jobs: int = 1  # worker processes training folds (retrain only)


@dataclass(frozen=True)
class TrainConfig:
    """Optimiser, loss and stopping rule."""

    epochs: int = 100
    batch_size: int = 32
    learning_rate: float = 1e-3
    clipnorm: float = 1.0
    loss: Loss = Loss.MSE
    patience: int = 10
    seed: int = 42
    device: Device = Device.AUTO
    mixed_precision: bool = False  # float16 compute, float32 weights (GPUs)
    strategy: Strategy = Strategy.NONE

    def __post_init__(self) -> None:
        for flag, value in (("--learning-rate", self.learning_rate), ("--clipnorm", self.clipnorm)):
            if not value > 0:
                raise ForecastError(f"{flag} must be greater than 0, got {value}.")

    def to_dict(self) -> dict:
        return {
            **asdict(self),
            "loss": str(self.loss),
            "device": str(self.device),
            "strategy": str(self.strategy),
        }
