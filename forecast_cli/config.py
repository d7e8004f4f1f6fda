"""Typed configuration: every choice a user can make, as plain frozen data.

Each group's fields carry their command-line flag (``options.option``): the default
and the help of a flag exist here only, and ``options.flatten`` gives them to every
command that takes the group. The run records the groups in the model directory and
``forecast predict`` rebuilds them from there. Nothing here imports TensorFlow.
"""

from __future__ import annotations

import re
import typing
from dataclasses import dataclass, fields
from enum import Enum, StrEnum
from pathlib import Path

from forecast_cli.errors import ForecastError
from forecast_cli.options import option

DEFAULT_LOOKBACK = 20  # the lookback when --lookback is not given (one season if longer)
DEFAULT_STEPS = 20  # forecast predict --steps; what --anchor auto judges anchors on
DEFAULT_LAYERS = "bilstm:50"
DEFAULT_LEVELS = (80, 95)  # forecast backtest --intervals, percent

# The panels of --help, each flag in the one that says what it is about.
DATA, WINDOWS, NETWORK, TRAINING, RUNTIME, OUTPUT = (
    "Data",
    "Windows and scaling",
    "Network",
    "Training",
    "Runtime",
    "Output",
)
FORECAST, COMPARISON, BACKTEST = "Forecast", "Comparison", "Backtest"


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

    AUTO = "auto"  # linear, from seasonal or last as chosen on the training rows (resolve)
    NONE = "none"  # the network forecasts the values themselves
    LAST = "last"  # the network forecasts the change from the window's last value
    SEASONAL = "seasonal"  # ...the change from the last observed season (seasonal naive)
    LINEAR = "linear"  # ...the correction to a ridge regression on the window (``linear``)


class Combine(StrEnum):
    """What the forecast averages the network's with (see ``combination``)."""

    AUTO = "auto"  # per series, the statistical models that help it on validation, if any
    NONE = "none"  # the network's forecast alone


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


class Xla(StrEnum):
    """Whether training steps are compiled with XLA (``--xla``)."""

    AUTO = "auto"  # on a CPU, for a training long enough to repay the compilation
    ON = "on"
    OFF = "off"


class Strategy(StrEnum):
    """How training is spread over devices (``--strategy``)."""

    NONE = "none"  # one device
    MIRRORED = "mirrored"  # every local GPU, tf.distribute.MirroredStrategy
    MULTI_WORKER = "multi-worker"  # several machines: MultiWorkerMirroredStrategy, TF_CONFIG


class Refit(StrEnum):
    """How ``forecast backtest`` trains each fold."""

    RETRAIN = "retrain"  # a fresh network per fold
    FINE_TUNE = "fine-tune"  # each fold continues from the previous fold's weights


class Baseline(StrEnum):
    """A model the network is scored beside (``--baselines``)."""

    NAIVE = "naive"
    SNAIVE = "snaive"
    ETS = "ets"
    THETA = "theta"
    ARIMA = "arima"

    @property
    def title(self) -> str:
        """Its name in tables, CSV files and JSON."""
        return {
            "naive": "naive",
            "snaive": "seasonal naive",
            "ets": "AutoETS",
            "theta": "AutoTheta",
            "arima": "AutoARIMA",
        }[self.value]


# AutoARIMA takes minutes on long seasons (a 40-step one): asked for, not by default.
DEFAULT_BASELINES = (Baseline.NAIVE, Baseline.SNAIVE, Baseline.ETS, Baseline.THETA)


def parse_baselines(text: str | None) -> tuple[Baseline, ...]:
    """``--baselines naive,ets`` -> (NAIVE, ETS); ``all`` -> every one; ``none`` -> ()."""
    if text is None:
        return DEFAULT_BASELINES
    names = [part.strip().lower() for part in text.split(",") if part.strip()]
    if names == ["all"]:
        return tuple(Baseline)
    if names == ["none"]:
        return ()
    unknown = [name for name in names if name not in set(Baseline)]
    if unknown or not names:
        raise ForecastError(
            f"--baselines: unknown baseline {', '.join(unknown) or repr(text)}; use a "
            f"comma-separated list of {', '.join(Baseline)}, or all, or none."
        )
    return tuple(dict.fromkeys(Baseline(name) for name in names))


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


def columns(text: str | None) -> tuple[str, ...]:
    """``a, b,c`` -> ``("a", "b", "c")``: a comma-separated list of names."""
    return tuple(name.strip() for name in (text or "").split(",") if name.strip())


def _names(given: list[str] | None) -> tuple[str, ...] | None:
    return tuple(given) if given else None


THOUSANDS = (",", ".", " ", "'")  # the thousands separators --thousands accepts

LAYERS_HELP = (
    "Recurrent layers, bottom first, comma-separated: CELL:UNITS[:MERGE] with CELL "
    "lstm, gru or rnn, prefixed with bi for bidirectional; e.g. lstm:64,bilstm:32:sum."
)


@dataclass(frozen=True)
class DataConfig:
    """Which columns to read, and how to treat missing values, gaps and repeated times.

    ``None`` means "detect": the loader resolves it and the resolved value is saved.
    """

    targets: tuple[str, ...] | None = option(
        None,
        "--target",
        cli_type=list[str] | None,
        parse=_names,
        metavar="COL",
        panel=DATA,
        help="Column to forecast; repeat for several. Default: the only (or last) numeric column.",
    )
    time_col: str | None = option(
        None,
        metavar="COL",
        panel=DATA,
        help="Time column to sort by. Default: a column whose values parse as dates.",
    )
    features: tuple[str, ...] = option(
        (),
        cli_type=str | None,
        parse=columns,
        metavar="COL,...",
        panel=DATA,
        help="Extra numeric input columns known up to now, comma-separated; forecasts "
        "reach at most --horizon steps.",
    )
    # inputs known ahead (prices, holidays): the network reads their values for the steps
    # it forecasts, given at predict time by --future-data
    future_features: tuple[str, ...] = option(
        (),
        cli_type=str | None,
        parse=columns,
        metavar="COL,...",
        panel=DATA,
        help="Extra numeric input columns known ahead (prices, holidays): the network also "
        "reads their values for the steps it forecasts, which predict takes from "
        "--future-data.",
    )
    fill: Fill | None = option(
        None,
        case_sensitive=False,
        panel=DATA,
        help="How to fill missing values. Default: refuse.",
    )
    freq: str | None = option(  # the time column's step; None: inferred
        None,
        panel=DATA,
        help="Step of the time column as a pandas frequency (h, D, B, W-SUN, MS...). "
        "Default: inferred, also across missing steps.",
    )
    aggregate: Aggregate | None = option(  # None: repeated timestamps are an error
        None,
        case_sensitive=False,
        panel=DATA,
        help="Combine rows that share a timestamp. Default: refuse them.",
    )
    decimal: str | None = option(  # the decimal mark; None: detected
        None,
        panel=DATA,
        help="Decimal mark of the numbers, '.' or ','. Default: ',' in a semicolon or tab "
        "file whose decimals all use it, else '.'.",
    )
    thousands: str | None = option(  # the thousands separator; None: detected
        None,
        metavar="SEP",
        panel=DATA,
        help="Thousands separator of the numbers: ',', '.', ' ' or \"'\" (as in 1 234,5). "
        "Default: detected where it can be nothing else (1,234.5; 1.234,5; 1,234,567), "
        "else none.",
    )
    calendar: bool = option(
        False,
        "--calendar",
        panel=DATA,
        help="Add the position in the day, week and year (sine and cosine) as inputs; "
        "known ahead, they need no --future-data.",
    )
    id_col: str | None = option(  # long format: the column naming each row's series
        None,
        metavar="COL",
        panel=DATA,
        help="Long format: the column naming each row's series. One network learns "
        "them all, each series scaled on its own.",
    )

    def __post_init__(self) -> None:
        for flag, names in (
            ("--target", self.targets or ()),
            ("--features", self.features),
            ("--future-features", self.future_features),
        ):
            twice = [name for name in dict.fromkeys(names) if names.count(name) > 1]
            if twice:
                raise ForecastError(f"{flag} names column '{twice[0]}' twice; name it once.")
        if self.decimal not in (None, ".", ","):
            raise ForecastError(f"--decimal: expected '.' or ',', got {self.decimal!r}.")
        if self.thousands not in (None, *THOUSANDS):
            raise ForecastError(
                f"--thousands: expected one of {', '.join(map(repr, THOUSANDS))}, got "
                f"{self.thousands!r}."
            )
        if self.thousands is not None and self.thousands == self.decimal:
            raise ForecastError(
                f"--thousands and --decimal are both {self.thousands!r}; they must differ."
            )


@dataclass(frozen=True)
class WindowConfig:
    """How the series is cut into (samples, lookback, features) windows, split, scaled
    and scored; ``None`` is settled from the data (``resolve``) into ``Windows``."""

    lookback: int | None = option(
        None,
        min=1,
        panel=WINDOWS,
        help=f"Steps in each input window. Default: {DEFAULT_LOOKBACK}, or one season if "
        "longer and the anchor is seasonal.",
    )
    horizon: int | None = option(
        None,
        min=1,
        panel=WINDOWS,
        help="Steps the network emits at once; longer forecasts roll it forward. "
        "Default: the steps forecast (20 for train), at most the validation tail.",
    )
    val_fraction: float = option(
        0.2, min=0.01, max=0.9, panel=WINDOWS, help="Tail of the series kept for validation."
    )
    scale: Scale = option(
        Scale.STANDARD,
        case_sensitive=False,
        panel=WINDOWS,
        help="Scaling, fitted on training rows only.",
    )
    baselines: tuple[Baseline, ...] = option(
        DEFAULT_BASELINES,
        cli_type=str | None,
        parse=parse_baselines,
        metavar="NAME,...",
        panel=WINDOWS,
        help="Models the network is scored beside, on the same windows or folds: naive, "
        "snaive (seasonal naive), ets (AutoETS), theta (AutoTheta), arima (AutoARIMA, slow "
        "on long seasons); all or none. Default: naive,snaive,ets,theta.",
    )
    season: int | None = option(
        None,
        min=1,
        panel=WINDOWS,
        help="Season length, for seasonal naive, MASE and --anchor seasonal. Default: one "
        "the training rows repeat, else the time column's frequency's (hourly 24, daily 7, "
        "monthly 12...).",
    )


@dataclass(frozen=True)
class Windows:
    """The windows settled for the data: every value known (see ``resolve``)."""

    lookback: int
    horizon: int
    val_fraction: float = WindowConfig.val_fraction
    scale: Scale = WindowConfig.scale
    season: int | None = None  # the one season of the run: anchor, seasonal naive, MASE
    baselines: tuple[Baseline, ...] = DEFAULT_BASELINES


@dataclass(frozen=True)
class ModelConfig:
    """The network: stacked recurrent layers, bottom first, and the output head.

    ``layers`` may be given as ``--layers`` text; bidirectional layers that name no merge
    mode take ``merge_mode``."""

    layers: tuple[LayerSpec, ...] = option(
        DEFAULT_LAYERS, cli_type=str, metavar="SPEC", panel=NETWORK, help=LAYERS_HELP
    )
    head: Head = option(Head.MANY_TO_ONE, case_sensitive=False, panel=NETWORK, help="Output head.")
    dropout: float = option(0.0, min=0.0, max=0.95, panel=NETWORK, help="Dropout between layers.")
    recurrent_dropout: float = option(
        0.0, min=0.0, max=0.95, panel=NETWORK, help="Dropout along time (disables cuDNN)."
    )
    anchor: Anchor = option(
        Anchor.AUTO,
        case_sensitive=False,
        panel=NETWORK,
        help="Forecast the values (none), or their change from the window's last "
        "value (last) or last season (seasonal: the network corrects seasonal naive), or "
        "correct a linear regression on the window fitted to the training windows (linear, "
        "shrunk towards the season of the frequency, or one found in the training rows, "
        "else the last value); auto: linear, the one measured best (bench/eval_defaults.json).",
    )
    merge_mode: MergeMode = option(
        MergeMode.CONCAT,
        case_sensitive=False,
        panel=NETWORK,
        help="Merge mode of bidirectional layers that name none.",
    )
    members: int = option(
        1,
        min=1,
        max=25,
        panel=NETWORK,
        help="Networks in the model, each drawn from its own seed (--seed, --seed + 1, ...) "
        "and trained on the same batches; the forecast is their median.",
    )
    combine: Combine = option(
        Combine.AUTO,
        case_sensitive=False,
        panel=NETWORK,
        help="auto: each series' forecast is the mean of the network's and of those of "
        "AutoETS, AutoTheta and AutoARIMA (seasons up to 12) whose mean with it forecast "
        "the validation windows best, the network's alone if none helps; none: the "
        "network's alone.",
    )
    season: int = 1  # the period of the seasonal (or linear's) anchor, once resolved

    def __post_init__(self) -> None:
        if isinstance(self.layers, str):
            object.__setattr__(self, "layers", parse_layers(self.layers, self.merge_mode))

    @property
    def label(self) -> str:
        return ",".join(str(layer) for layer in self.layers)

    def to_dict(self) -> dict:
        """Plain data; the layers as their specs, which name their merge modes."""
        return {
            "layers": [str(layer) for layer in self.layers],
            "head": str(self.head),
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
            "anchor": str(self.anchor),
            "season": self.season,
            "members": self.members,
            "combine": str(self.combine),
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
            members=int(data.get("members", 1)),  # cards written before ensembles had one
            combine=Combine(data.get("combine", "none")),  # ...and before combinations
        )


@dataclass(frozen=True)
class TrainConfig:
    """Optimiser, loss and stopping rule."""

    epochs: int = option(100, min=1, panel=TRAINING, help="Most epochs to train.")
    batch_size: int = option(
        32, min=1, panel=TRAINING, help="Windows per weight update (and per validation batch)."
    )
    learning_rate: float = option(1e-3, panel=TRAINING, help="Adam learning rate.")
    clipnorm: float = option(1.0, panel=TRAINING, help="Clip gradients to this norm.")
    loss: Loss = option(
        Loss.MAE,
        case_sensitive=False,
        panel=TRAINING,
        help="Loss minimised in training. mae (the median forecast, robust to outliers) "
        "scored best on the evaluation set, as MASE counts absolute errors "
        "(bench/eval_defaults.json).",
    )
    patience: int = option(
        10,
        min=1,
        panel=TRAINING,
        help="Epochs without validation improvement before stopping.",
    )
    seed: int = option(42, panel=TRAINING, help="Random seed: same seed, same model.")
    xla: Xla = option(
        Xla.AUTO,
        case_sensitive=False,
        panel=RUNTIME,
        help="Compile the training and validation steps with XLA, which fuses each recurrent "
        "step's small operations: faster epochs on a CPU, after 3 to 4 s of compiling per "
        "network. "
        "auto: on a CPU, when the training runs enough recurrent steps before early "
        "stopping may end it to repay that; never on a GPU, whose cuDNN kernels XLA "
        "cannot compile.",
    )

    def __post_init__(self) -> None:
        for flag, value in (("--learning-rate", self.learning_rate), ("--clipnorm", self.clipnorm)):
            if not value > 0:
                raise ForecastError(f"{flag} must be greater than 0, got {value}.")


@dataclass(frozen=True)
class RuntimeConfig:
    """Where networks train: the device, its precision and how a training is spread."""

    device: Device = option(
        Device.AUTO,
        case_sensitive=False,
        panel=RUNTIME,
        help="Where to train: a GPU if TensorFlow sees one (auto), or the one named.",
    )
    mixed_precision: bool = option(  # float16 compute, float32 weights (GPUs)
        False,
        "--mixed-precision",
        panel=RUNTIME,
        help="Compute in float16 with float32 weights: faster on GPUs with tensor cores.",
    )
    strategy: Strategy = option(
        Strategy.NONE,
        case_sensitive=False,
        panel=RUNTIME,
        help="mirrored: train on every local GPU at once (tf.distribute.MirroredStrategy), "
        "each batch split between them.",
    )


class LogFormat(StrEnum):
    """How each epoch's losses are shown while networks train (``--log-format``)."""

    TEXT = "text"  # the progress bar
    JSON = "json"  # also one JSON object per epoch and network on stderr, for programs


@dataclass(frozen=True)
class LogConfig:
    """Where each epoch's losses go besides the progress bar: nothing about the result."""

    tensorboard: Path | None = option(
        None,
        metavar="DIR",
        panel=OUTPUT,
        help="Write TensorBoard event files of each network's training and validation loss "
        "per epoch, in DIR/NAME/train and DIR/NAME/validation; 'tensorboard --logdir DIR' "
        "shows them.",
    )
    log_format: LogFormat = option(
        LogFormat.TEXT,
        case_sensitive=False,
        panel=OUTPUT,
        help="json: also one JSON object per epoch and network on stderr (event, candidate, "
        "fold, seed, epoch, loss, val_loss, seconds), for scripts; the report stays on "
        "stdout, or with --json is left out.",
    )


@dataclass(frozen=True)
class ClusterConfig:
    """Where ``compare`` and ``backtest`` run their independent trainings when not in
    local worker processes (``--jobs``): as tasks of a Ray cluster (``ray_cluster``)."""

    ray: str | None = option(  # None: local worker processes
        None,
        metavar="ADDRESS",
        panel=RUNTIME,
        help="Train as tasks of a Ray cluster: its HOST:PORT, auto (the one in RAY_ADDRESS) "
        "or local (start one here). Needs pip install 'forecast-cli[ray]'.",
    )


def parse_levels(text: str | None) -> tuple[int, ...]:
    """``--intervals 80,95`` -> (80, 95); ``none`` -> ()."""
    if text is None:
        return DEFAULT_LEVELS
    if text.strip().lower() == "none":
        return ()
    try:
        levels = tuple(sorted({int(part) for part in text.split(",") if part.strip()}))
    except ValueError:
        levels = ()
    if not levels or not all(0 < level < 100 for level in levels):
        raise ForecastError(
            f"--intervals: expected coverage levels in percent between 1 and 99, "
            f"comma-separated (e.g. 80,95), got {text!r}."
        )
    return levels


@dataclass(frozen=True)
class CompareConfig:
    """What ``forecast compare`` adds to the training settings."""

    repeats: int = option(
        1, min=1, panel=COMPARISON, help="Seeds per candidate; scores are averaged."
    )
    steps: int = option(
        DEFAULT_STEPS, min=1, panel=COMPARISON, help="Steps each candidate forecasts."
    )
    jobs: int | None = option(  # None: one per core, at most one per candidate
        None,
        min=1,
        panel=RUNTIME,
        help="Worker processes training candidates in parallel, sharing the cores. "
        "Default: one per core, at most one per candidate.",
    )
    overwrite: bool = option(
        False, "--overwrite", panel=OUTPUT, help="Replace an earlier comparison in --out-dir."
    )


@dataclass(frozen=True)
class BacktestConfig:
    """What ``forecast backtest`` adds to the training settings."""

    folds: int = option(5, min=1, panel=BACKTEST, help="Cut-offs at the end of the series.")
    steps: int = option(  # forecast per fold
        10, min=1, panel=BACKTEST, help="Steps forecast per fold, as forecast predict --steps."
    )
    refit: Refit = option(
        Refit.RETRAIN,
        case_sensitive=False,
        panel=BACKTEST,
        help="A fresh network per fold, or fine-tune the previous fold's.",
    )
    levels: tuple[int, ...] = option(  # interval coverage levels, percent
        DEFAULT_LEVELS,
        "--intervals",
        cli_type=str | None,
        parse=parse_levels,
        metavar="LEVEL,...",
        panel=BACKTEST,
        help="Coverage levels (percent) of the conformal intervals whose empirical "
        "coverage is reported; 'none' for none. Default: 80,95.",
    )
    jobs: int | None = option(  # None: one per core and fold; 1 with fine-tune
        None,
        min=1,
        panel=RUNTIME,
        help="Worker processes training folds in parallel, sharing the cores. "
        "Default: one per core, at most one per fold; 1 with --refit fine-tune.",
    )


def to_dict(config) -> dict:
    """A configuration dataclass as plain JSON data: enums by value, tuples as lists."""
    return {f.name: _plain(getattr(config, f.name)) for f in fields(config)}


def from_dict(cls, data: dict):
    """``cls`` from ``to_dict``'s output (unknown keys ignored, missing ones defaulted),
    with every enum, tuple and number back in the type its field declares."""
    hints = typing.get_type_hints(cls)
    known = {f.name for f in fields(cls)}
    return cls(**{name: _typed(hints[name], v) for name, v in data.items() if name in known})


def _plain(value):
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, tuple | list):
        return [_plain(item) for item in value]
    return value


def _typed(hint, value):
    """``value`` as the type ``hint`` names: ``Fill | None``, ``tuple[str, ...]``, ``int``..."""
    if value is None:
        return None
    kinds = [k for k in typing.get_args(hint) if k is not type(None)] or [hint]
    kind = kinds[0] if len(kinds) == 1 else hint
    if typing.get_origin(kind) is tuple:
        return tuple(value)
    if isinstance(kind, type) and issubclass(kind, Enum | int | float | str | bool):
        return kind(value)
    return value
