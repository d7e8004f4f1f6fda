"""The ``forecast`` command line: parse flags into typed configs, call a module, print.

Only light modules are imported here; TensorFlow, Keras, pandas and matplotlib load
inside the commands that need them, so ``forecast --help`` and flag errors answer at once.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import sys
import traceback
from pathlib import Path
from typing import Annotated

import typer
from typer.core import TyperGroup

from forecast_cli import __version__
from forecast_cli.config import (
    DEFAULT_STEPS,
    Aggregate,
    Anchor,
    BacktestConfig,
    CompareConfig,
    DataConfig,
    Device,
    Fill,
    Head,
    HeadChoice,
    Loss,
    MergeMode,
    ModelConfig,
    Refit,
    Scale,
    Strategy,
    TrainConfig,
    WindowConfig,
    parse_layers,
)
from forecast_cli.errors import ForecastError

ALL_MODES = "all"
USAGE_ERROR = 2
INTERRUPTED = 130
# Click's UsageError (vendored by recent Typer) is the base of Typer's public BadParameter.
UsageError = typer.BadParameter.__base__


class ForecastGroup(TyperGroup):
    """Turns every failure into one ``Error: ...`` line on stderr and an exit status.

    ``--debug`` (anywhere on the line, or ``FORECAST_DEBUG=1``) shows the traceback too.
    """

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        args = list(sys.argv[1:] if args is None else args)
        debug = "--debug" in args or os.environ.get("FORECAST_DEBUG") == "1"
        args = _with_optional_values([arg for arg in args if arg != "--debug"])
        previous = signal.signal(signal.SIGTERM, _exit_on_sigterm)
        try:
            code = super().main(args, "forecast", complete_var, standalone_mode=False, **extra)
        except UsageError as exc:
            message = exc.format_message().replace("Value error, ", "").rstrip(".")
            hint = f" See '{exc.ctx.command_path} --help'." if exc.ctx else ""
            code = _fail(f"{message}.{hint}", USAGE_ERROR, debug)
        except ForecastError as exc:
            code = _fail(str(exc), USAGE_ERROR, debug)
        except (typer.Abort, KeyboardInterrupt):
            code = INTERRUPTED
        except OSError as exc:  # e.g. an output path that cannot be written
            where = f"{exc.filename}: " if exc.filename else ""
            code = _fail(
                f"{where}{exc.strerror or exc}. Check the path and its permissions.",
                USAGE_ERROR,
                debug,
            )
        except Exception as exc:  # a bug: say so plainly, traceback only on request
            code = _fail(
                f"unexpected {type(exc).__name__}: {exc}. Run again with --debug "
                "for the traceback and report it.",
                1,
                debug,
            )
        finally:
            signal.signal(signal.SIGTERM, previous)
        if code == INTERRUPTED:
            print("Interrupted: nothing was saved.", file=sys.stderr)
        sys.exit(code if isinstance(code, int) else 0)


def _with_optional_values(args: list[str]) -> list[str]:
    """``--merge-modes`` alone means all of them: give it that value when what follows is
    not one (nothing, another option, or the data file)."""
    result = []
    for i, arg in enumerate(args):
        result.append(arg)
        following = args[i + 1] if i + 1 < len(args) else "-"
        is_file = Path(following).suffix != "" or Path(following).exists()
        if arg == "--merge-modes" and (following.startswith("-") or is_file):
            result.append(ALL_MODES)
    return result


def _fail(message: str, code: int, debug: bool) -> int:
    if debug:
        traceback.print_exc()
    # A value quoted from the data may hold a line break or another control character.
    one_line = "".join(c if c.isprintable() else repr(c)[1:-1] for c in message)
    print(f"Error: {one_line}", file=sys.stderr)
    return code


def _exit_on_sigterm(signum, frame):
    """SIGTERM unwinds like an error, so temporary files are removed and nothing is saved."""
    raise SystemExit(128 + signum)


app = typer.Typer(
    cls=ForecastGroup,
    help="Forecast the next steps of a CSV time series with recurrent neural networks.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        print(f"forecast {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show tracebacks of errors (accepted anywhere).")
    ] = False,
) -> None:
    """Train recurrent networks on a CSV series and forecast its next steps."""


def _columns(text: str | None) -> tuple[str, ...]:
    return tuple(name.strip() for name in (text or "").split(",") if name.strip())


DATA = "Data"
WINDOWS = "Windows and scaling"
NETWORK = "Network"
TRAINING = "Training"

# The flags train, compare and backtest share, declared once.
DataArg = Annotated[
    Path,
    typer.Argument(
        metavar="DATA.csv",
        help="CSV file with a header row, one row per step (.csv.gz and .parquet too; - reads "
        "stdin).",
    ),
]
TargetOpt = Annotated[
    list[str] | None,
    typer.Option(
        metavar="COL",
        rich_help_panel=DATA,
        help="Column to forecast; repeat for several. Default: the only (or last) numeric column.",
    ),
]
TimeColOpt = Annotated[
    str | None,
    typer.Option(
        metavar="COL",
        rich_help_panel=DATA,
        help="Time column to sort by. Default: a column whose values parse as dates.",
    ),
]
FeaturesOpt = Annotated[
    str | None,
    typer.Option(
        metavar="COL,...",
        rich_help_panel=DATA,
        help="Extra numeric input columns known up to now, comma-separated; forecasts "
        "reach at most --horizon steps.",
    ),
]
FutureFeaturesOpt = Annotated[
    str | None,
    typer.Option(
        metavar="COL,...",
        rich_help_panel=DATA,
        help="Extra numeric input columns known ahead (prices, holidays): the network also "
        "reads their values for the steps it forecasts, which predict takes from "
        "--future-data.",
    ),
]
FillOpt = Annotated[
    Fill | None,
    typer.Option(
        case_sensitive=False,
        rich_help_panel=DATA,
        help="How to fill missing values. Default: refuse.",
    ),
]
FreqOpt = Annotated[
    str | None,
    typer.Option(
        rich_help_panel=DATA,
        help="Step of the time column as a pandas frequency (h, D, B, W-SUN, MS...). "
        "Default: inferred, also across missing steps.",
    ),
]
DecimalOpt = Annotated[
    str | None,
    typer.Option(
        rich_help_panel=DATA,
        help="Decimal mark of the numbers, '.' or ','. Default: ',' in a semicolon or tab "
        "file whose decimals all use it, else '.'.",
    ),
]
CalendarFlag = Annotated[
    bool,
    typer.Option(
        "--calendar",
        rich_help_panel=DATA,
        help="Add the position in the day, week and year (sine and cosine) as inputs; "
        "known ahead, they need no --future-data.",
    ),
]
AggregateOpt = Annotated[
    Aggregate | None,
    typer.Option(
        case_sensitive=False,
        rich_help_panel=DATA,
        help="Combine rows that share a timestamp. Default: refuse them.",
    ),
]
IdColOpt = Annotated[
    str | None,
    typer.Option(
        metavar="COL",
        rich_help_panel=DATA,
        help="Long format: the column naming each row's series. One network learns "
        "them all, each series scaled on its own.",
    ),
]
LookbackOpt = Annotated[
    int | None,
    typer.Option(
        min=1,
        rich_help_panel=WINDOWS,
        help="Steps in each input window. Default: 20, or one season if longer and "
        "the anchor is seasonal.",
    ),
]
HorizonOpt = Annotated[
    int | None,
    typer.Option(
        min=1,
        help="Steps the network emits at once; longer forecasts roll it forward. "
        "Default: the steps forecast (20 for train), at most the validation tail.",
        rich_help_panel=WINDOWS,
    ),
]
ValFractionOpt = Annotated[
    float,
    typer.Option(
        min=0.01, max=0.9, help="Tail of the series kept for validation.", rich_help_panel=WINDOWS
    ),
]
ScaleOpt = Annotated[
    Scale,
    typer.Option(
        case_sensitive=False, help="Scaling, fitted on training rows only.", rich_help_panel=WINDOWS
    ),
]
LAYERS_HELP = (
    "Recurrent layers, bottom first, comma-separated: CELL:UNITS[:MERGE] with CELL "
    "lstm, gru or rnn, prefixed with bi for bidirectional; e.g. lstm:64,bilstm:32:sum."
)
LayersOpt = Annotated[str, typer.Option(metavar="SPEC", help=LAYERS_HELP, rich_help_panel=NETWORK)]
HeadOpt = Annotated[
    Head, typer.Option(case_sensitive=False, help="Output head.", rich_help_panel=NETWORK)
]
MergeModeOpt = Annotated[
    MergeMode,
    typer.Option(
        case_sensitive=False,
        rich_help_panel=NETWORK,
        help="Merge mode of bidirectional layers that name none.",
    ),
]
AnchorOpt = Annotated[
    Anchor,
    typer.Option(
        case_sensitive=False,
        rich_help_panel=NETWORK,
        help="Forecast the values (none), or their change from the window's last "
        "value (last) or last season (seasonal: the network corrects seasonal naive); auto: "
        "the season of the frequency, or one found in the training rows, else last.",
    ),
]
SeasonOpt = Annotated[
    int | None,
    typer.Option(
        min=1,
        help="Season length, for seasonal naive, MASE and --anchor seasonal. "
        "Default: from the time column's frequency (hourly 24, daily 7, monthly 12...).",
    ),
]
DropoutOpt = Annotated[
    float, typer.Option(min=0.0, max=0.95, help="Dropout between layers.", rich_help_panel=NETWORK)
]
RecurrentDropoutOpt = Annotated[
    float,
    typer.Option(
        min=0.0, max=0.95, help="Dropout along time (disables cuDNN).", rich_help_panel=NETWORK
    ),
]
EpochsOpt = Annotated[
    int, typer.Option(min=1, help="Most epochs to train.", rich_help_panel=TRAINING)
]
PatienceOpt = Annotated[
    int,
    typer.Option(
        min=1,
        help="Epochs without validation improvement before stopping.",
        rich_help_panel=TRAINING,
    ),
]
BatchSizeOpt = Annotated[int, typer.Option(min=1, rich_help_panel=TRAINING)]
LearningRateOpt = Annotated[
    float, typer.Option(help="Adam learning rate.", rich_help_panel=TRAINING)
]
ClipnormOpt = Annotated[
    float, typer.Option(help="Clip gradients to this norm.", rich_help_panel=TRAINING)
]
LossOpt = Annotated[Loss, typer.Option(case_sensitive=False, rich_help_panel=TRAINING)]
DeviceOpt = Annotated[
    Device,
    typer.Option(
        case_sensitive=False,
        rich_help_panel=TRAINING,
        help="Where to train: a GPU if TensorFlow sees one (auto), or the one named.",
    ),
]
MixedPrecisionFlag = Annotated[
    bool,
    typer.Option(
        "--mixed-precision",
        rich_help_panel=TRAINING,
        help="Compute in float16 with float32 weights: faster on GPUs with tensor cores.",
    ),
]
StrategyOpt = Annotated[
    Strategy,
    typer.Option(
        case_sensitive=False,
        rich_help_panel=TRAINING,
        help="mirrored: train on every local GPU at once (tf.distribute.MirroredStrategy), "
        "each batch split between them.",
    ),
]
SeedOpt = Annotated[
    int, typer.Option(help="Random seed: same seed, same model.", rich_help_panel=TRAINING)
]
JsonFlag = Annotated[
    bool, typer.Option("--json", help="Print the result as one JSON object, last line of stdout.")
]


def _data_config(
    target, time_col, features, fill, freq, aggregate, decimal, calendar, id_col, future=None
) -> DataConfig:
    if decimal not in (None, ".", ","):
        raise typer.BadParameter(f"expected '.' or ',', got {decimal!r}.", param_hint="--decimal")
    return DataConfig(
        tuple(target) if target else None,
        time_col,
        _columns(features),
        fill,
        freq,
        aggregate,
        decimal,
        calendar,
        id_col,
        _columns(future),
    )


@app.command()
def train(
    data: DataArg,
    target: TargetOpt = None,
    time_col: TimeColOpt = None,
    features: FeaturesOpt = None,
    future_features: FutureFeaturesOpt = None,
    fill: FillOpt = None,
    freq: FreqOpt = None,
    aggregate: AggregateOpt = None,
    decimal: DecimalOpt = None,
    calendar: CalendarFlag = False,
    id_col: IdColOpt = None,
    lookback: LookbackOpt = None,
    horizon: HorizonOpt = None,
    val_fraction: ValFractionOpt = 0.2,
    scale: ScaleOpt = Scale.STANDARD,
    layers: LayersOpt = "bilstm:50",
    merge_mode: MergeModeOpt = MergeMode.CONCAT,
    head: HeadOpt = Head.MANY_TO_ONE,
    anchor: AnchorOpt = Anchor.AUTO,
    season: SeasonOpt = None,
    dropout: DropoutOpt = 0.0,
    recurrent_dropout: RecurrentDropoutOpt = 0.0,
    epochs: EpochsOpt = 100,
    patience: PatienceOpt = 10,
    batch_size: BatchSizeOpt = 32,
    learning_rate: LearningRateOpt = 1e-3,
    clipnorm: ClipnormOpt = 1.0,
    loss: LossOpt = Loss.MSE,
    seed: SeedOpt = 42,
    device: DeviceOpt = Device.AUTO,
    mixed_precision: MixedPrecisionFlag = False,
    strategy: StrategyOpt = Strategy.NONE,
    model_dir: Annotated[Path, typer.Option(help="Where to save the model.")] = Path(
        "forecast-model"
    ),
    json_output: JsonFlag = False,
) -> None:
    """Train a recurrent network on DATA and save it to --model-dir.

    Stopped (killed, preempted, Ctrl-C), it resumes when the same command runs again.
    """
    model = ModelConfig(parse_layers(layers, merge_mode), head, dropout, recurrent_dropout, anchor)
    configs = (
        _data_config(
            target,
            time_col,
            features,
            fill,
            freq,
            aggregate,
            decimal,
            calendar,
            id_col,
            future_features,
        ),
        WindowConfig(lookback, horizon, val_fraction, scale),
        model,
        TrainConfig(
            epochs,
            batch_size,
            learning_rate,
            clipnorm,
            loss,
            patience,
            seed,
            device,
            mixed_precision,
            strategy,
        ),
    )
    from forecast_cli.report import Report
    from forecast_cli.train_run import run_train

    report = Report(json_output)
    card = run_train(data, *configs, model_dir, report, season)
    report.json(
        {
            "val_mae": card.metrics["val_mae"],
            "val_rmse": card.metrics["val_rmse"],
            "params": card.params,
            "epochs_run": card.outcome["epochs_run"],
            "best_epoch": card.outcome["best_epoch"],
            "train_seconds": card.outcome["train_seconds"],
            "model_dir": str(model_dir.absolute()),
        }
    )


@app.command()
def compare(
    data: DataArg,
    merge_modes: Annotated[
        str | None,
        typer.Option(
            metavar="[MODE,...]",
            rich_help_panel=NETWORK,
            help="Compare bidirectional merge modes: all four when given alone, or "
            "e.g. concat,ave. The default when no --layers is given.",
        ),
    ] = None,
    layers: Annotated[
        list[str] | None,
        typer.Option(
            metavar="SPEC",
            rich_help_panel=NETWORK,
            help="A candidate network; repeat to compare several. " + LAYERS_HELP,
        ),
    ] = None,
    anchor: AnchorOpt = Anchor.AUTO,
    head: Annotated[
        HeadChoice,
        typer.Option(
            case_sensitive=False,
            rich_help_panel=NETWORK,
            help="Output head of the candidates, or both.",
        ),
    ] = HeadChoice.MANY_TO_ONE,
    season: SeasonOpt = None,
    repeats: Annotated[
        int, typer.Option(min=1, help="Seeds per candidate; scores are averaged.")
    ] = 1,
    steps: Annotated[int, typer.Option(min=1, help="Steps to forecast.")] = DEFAULT_STEPS,
    jobs: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Worker processes training candidates in parallel, sharing "
            "the cores. Default: one per core, at most one per candidate.",
        ),
    ] = None,
    out_dir: Annotated[Path, typer.Option(help="Where to write the comparison.")] = Path(
        "comparison"
    ),
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace an earlier comparison in --out-dir.")
    ] = False,
    target: TargetOpt = None,
    time_col: TimeColOpt = None,
    features: FeaturesOpt = None,
    fill: FillOpt = None,
    freq: FreqOpt = None,
    aggregate: AggregateOpt = None,
    decimal: DecimalOpt = None,
    calendar: CalendarFlag = False,
    id_col: IdColOpt = None,
    lookback: LookbackOpt = None,
    horizon: HorizonOpt = None,
    val_fraction: ValFractionOpt = 0.2,
    scale: ScaleOpt = Scale.STANDARD,
    merge_mode: MergeModeOpt = MergeMode.CONCAT,
    dropout: DropoutOpt = 0.0,
    recurrent_dropout: RecurrentDropoutOpt = 0.0,
    epochs: EpochsOpt = 100,
    patience: PatienceOpt = 10,
    batch_size: BatchSizeOpt = 32,
    learning_rate: LearningRateOpt = 1e-3,
    clipnorm: ClipnormOpt = 1.0,
    loss: LossOpt = Loss.MSE,
    seed: SeedOpt = 42,
    device: DeviceOpt = Device.AUTO,
    mixed_precision: MixedPrecisionFlag = False,
    strategy: StrategyOpt = Strategy.NONE,
    json_output: JsonFlag = False,
) -> None:
    """Train several networks on DATA with the same settings and compare them with baselines."""
    from forecast_cli.candidates import expand_candidates, takes_merge_mode

    modes = parse_merge_modes(merge_modes) if merge_modes else None
    if modes is None and not layers:
        modes = list(MergeMode)  # the reference experiment
    template = ModelConfig(dropout=dropout, recurrent_dropout=recurrent_dropout, anchor=anchor)
    candidates = expand_candidates(layers or [], modes, head.heads, merge_mode, template)
    configs = (
        _data_config(target, time_col, features, fill, freq, aggregate, decimal, calendar, id_col),
        WindowConfig(lookback, horizon, val_fraction, scale),
        candidates,
        TrainConfig(
            epochs,
            batch_size,
            learning_rate,
            clipnorm,
            loss,
            patience,
            seed,
            device,
            mixed_precision,
            strategy,
        ),
        CompareConfig(
            season, repeats, steps, jobs or min(os.cpu_count() or 1, len(candidates)), overwrite
        ),
    )
    from forecast_cli.compare_run import GRID_FILE, OVERLAY_FILE, run_compare
    from forecast_cli.report import Report

    report = Report(json_output)
    if merge_modes and (fixed := [spec for spec in layers or [] if not takes_merge_mode(spec)]):
        report.notes(
            [
                f"--merge-modes do not apply to {', '.join(fixed)}: no bidirectional "
                "layer there without its own merge mode."
            ]
        )
    comparison = run_compare(data, *configs, out_dir, report)
    report.comparison(comparison.rows, repeats)
    report.notes(comparison.notes)
    for name in ("comparison.csv", "forecasts.csv", GRID_FILE, OVERLAY_FILE, "models/"):
        report.written(name, out_dir / name)
    report.json(
        {
            "rows": [dataclasses.asdict(row) for row in comparison.rows],
            "forecasts": comparison.forecasts.to_dict(orient="records"),
            "notes": comparison.notes,
            "out_dir": str(out_dir.absolute()),
        }
    )


@app.command()
def backtest(
    data: DataArg,
    folds: Annotated[int, typer.Option(min=1, help="Cut-offs at the end of the series.")] = 5,
    refit: Annotated[
        Refit,
        typer.Option(
            case_sensitive=False, help="A fresh network per fold, or fine-tune the previous fold's."
        ),
    ] = Refit.RETRAIN,
    steps: Annotated[
        int, typer.Option(min=1, help="Steps forecast per fold, as forecast predict --steps.")
    ] = 10,
    season: SeasonOpt = None,
    intervals: Annotated[
        str,
        typer.Option(
            metavar="LEVEL,...",
            help="Coverage levels (percent) of the conformal "
            "intervals whose empirical coverage is reported; 'none' for none.",
        ),
    ] = "80,95",
    jobs: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Worker processes training folds in parallel, sharing the cores. "
            "Default: one per core, at most one per fold; 1 with --refit fine-tune.",
        ),
    ] = None,
    out: Annotated[Path, typer.Option(help="Scores CSV to write.")] = Path("backtest.csv"),
    plot: Annotated[Path, typer.Option(help="Picture of the folds to write.")] = Path(
        "backtest.png"
    ),
    target: TargetOpt = None,
    time_col: TimeColOpt = None,
    features: FeaturesOpt = None,
    future_features: FutureFeaturesOpt = None,
    fill: FillOpt = None,
    freq: FreqOpt = None,
    aggregate: AggregateOpt = None,
    decimal: DecimalOpt = None,
    calendar: CalendarFlag = False,
    id_col: IdColOpt = None,
    lookback: LookbackOpt = None,
    horizon: HorizonOpt = None,
    val_fraction: ValFractionOpt = 0.2,
    scale: ScaleOpt = Scale.STANDARD,
    layers: LayersOpt = "bilstm:50",
    merge_mode: MergeModeOpt = MergeMode.CONCAT,
    head: HeadOpt = Head.MANY_TO_ONE,
    anchor: AnchorOpt = Anchor.AUTO,
    dropout: DropoutOpt = 0.0,
    recurrent_dropout: RecurrentDropoutOpt = 0.0,
    epochs: EpochsOpt = 100,
    patience: PatienceOpt = 10,
    batch_size: BatchSizeOpt = 32,
    learning_rate: LearningRateOpt = 1e-3,
    clipnorm: ClipnormOpt = 1.0,
    loss: LossOpt = Loss.MSE,
    seed: SeedOpt = 42,
    device: DeviceOpt = Device.AUTO,
    mixed_precision: MixedPrecisionFlag = False,
    strategy: StrategyOpt = Strategy.NONE,
    json_output: JsonFlag = False,
) -> None:
    """Rolling-origin evaluation: forecast the last --folds blocks of --steps steps, each
    from the data before it, next to the naive and seasonal-naive baselines."""
    configs = (
        _data_config(
            target,
            time_col,
            features,
            fill,
            freq,
            aggregate,
            decimal,
            calendar,
            id_col,
            future_features,
        ),
        WindowConfig(lookback, horizon, val_fraction, scale),
        ModelConfig(parse_layers(layers, merge_mode), head, dropout, recurrent_dropout, anchor),
        TrainConfig(
            epochs,
            batch_size,
            learning_rate,
            clipnorm,
            loss,
            patience,
            seed,
            device,
            mixed_precision,
            strategy,
        ),
    )
    from forecast_cli.backtest_run import run_backtest, write
    from forecast_cli.intervals import parse_levels
    from forecast_cli.report import Report

    levels = () if intervals.strip().lower() == "none" else parse_levels(intervals)
    if jobs is None:
        jobs = min(os.cpu_count() or 1, folds) if refit is Refit.RETRAIN else 1
    options = BacktestConfig(folds, steps, refit, season, levels, jobs)
    report = Report(json_output)
    result = run_backtest(data, *configs, options, report)
    write(result, out, plot, f"{data.name}: {configs[2].label}, {folds} fold(s) of {steps}")
    report.frame(
        "Backtest (MASE below 1 beats the in-sample seasonal naive)",
        result.table,
        rows=len(result.table),
    )
    report.written("Scores", out)
    report.written("Plot", plot)
    report.json({"season": result.season, "scores": result.table.to_dict(orient="records")})


def parse_merge_modes(text: str) -> list[MergeMode]:
    """``all`` or a comma-separated list such as ``concat,ave``."""
    if text.strip().lower() == ALL_MODES:
        return list(MergeMode)
    modes = []
    for name in _columns(text.lower()):
        if name not in set(MergeMode):
            raise ForecastError(
                f"--merge-modes: unknown merge mode {name!r}; use {', '.join(MergeMode)} or "
                f"{ALL_MODES}."
            )
        modes.append(MergeMode(name))
    return modes


@app.command()
def predict(
    model: Annotated[Path, typer.Option(help="Model directory from 'forecast train'.")] = Path(
        "forecast-model"
    ),
    data: Annotated[
        Path | None,
        typer.Option(help="Forecast from this file (same columns). Default: the training file."),
    ] = None,
    steps: Annotated[int, typer.Option(min=1, help="Steps to forecast.")] = DEFAULT_STEPS,
    out: Annotated[Path, typer.Option(help="Forecast CSV to write.")] = Path("forecast.csv"),
    plot: Annotated[Path, typer.Option(help="Plot to write (PNG).")] = Path("forecast.png"),
    no_plot: Annotated[bool, typer.Option("--no-plot", help="Do not draw the plot.")] = False,
    future_data: Annotated[
        Path | None,
        typer.Option(
            help="File with the values of the model's --future-features after the data's end."
        ),
    ] = None,
    fill: FillOpt = None,
    intervals: Annotated[
        str | None,
        typer.Option(
            metavar="LEVEL,...",
            help="Add prediction intervals at these coverage "
            "levels in percent, e.g. 80,95 (conformal, from the validation tail).",
        ),
    ] = None,
    series: Annotated[
        str | None,
        typer.Option(
            metavar="NAME,...",
            help="Forecast only these series (a model trained with --id-col). Default: all.",
        ),
    ] = None,
    max_plots: Annotated[
        int, typer.Option(min=1, help="Series drawn in the plot, the first ones.")
    ] = 6,
    json_output: JsonFlag = False,
) -> None:
    """Forecast the next --steps values after the end of the data."""
    from forecast_cli.intervals import parse_levels
    from forecast_cli.predict_run import plot as draw
    from forecast_cli.predict_run import run_predict, write_csv
    from forecast_cli.report import Report

    levels = parse_levels(intervals) if intervals else ()
    report = Report(json_output)
    forecast = run_predict(model, data, steps, future_data, levels, fill, _columns(series))
    report.notes(forecast.notes)
    write_csv(forecast.frame, out)
    if not no_plot:
        draw(forecast, plot, max_plots)
    report.frame(f"Forecast: next {steps} steps ({forecast.card.model.label})", forecast.frame)
    report.written("Forecast CSV", out)
    if not no_plot:
        report.written("Plot", plot)
    report.json(
        {
            "model_dir": str(model.absolute()),
            "steps": steps,
            "csv": str(out.absolute()),
            "plot": None if no_plot else str(plot.absolute()),
            "forecast": forecast.frame.to_dict(orient="records"),
        }
    )


def main() -> None:
    """Console-script entry point."""
    app()
