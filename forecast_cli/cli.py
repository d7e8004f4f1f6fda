"""The ``forecast`` command line: parse flags into typed configs, call a module, print.

Only light modules are imported here; TensorFlow, Keras, pandas and matplotlib load
inside the commands that need them, so ``forecast --help`` and flag errors answer at once.
"""

from __future__ import annotations

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
    DataConfig,
    Fill,
    Head,
    Loss,
    MergeMode,
    ModelConfig,
    Scale,
    TrainConfig,
    WindowConfig,
    parse_layers,
)
from forecast_cli.errors import ForecastError

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
        args = [arg for arg in args if arg != "--debug"]
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


def _fail(message: str, code: int, debug: bool) -> int:
    if debug:
        traceback.print_exc()
    print(f"Error: {message}", file=sys.stderr)
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


JsonFlag = Annotated[
    bool, typer.Option("--json", help="Print the result as one JSON object, last line of stdout.")
]
DATA = "Data"
WINDOWS = "Windows and scaling"
NETWORK = "Network"
TRAINING = "Training"


@app.command()
def train(
    data: Annotated[
        Path,
        typer.Argument(metavar="DATA.csv", help="CSV file with a header row, one row per step."),
    ],
    target: Annotated[
        list[str] | None,
        typer.Option(
            metavar="COL",
            help="Column to forecast; repeat for several. Default: the only (or last) "
            "numeric column.",
            rich_help_panel=DATA,
        ),
    ] = None,
    time_col: Annotated[
        str | None,
        typer.Option(
            metavar="COL",
            help="Time column to sort by. Default: a column whose values parse as dates.",
            rich_help_panel=DATA,
        ),
    ] = None,
    features: Annotated[
        str | None,
        typer.Option(
            metavar="COL,...",
            help="Extra numeric input columns, comma-separated.",
            rich_help_panel=DATA,
        ),
    ] = None,
    fill: Annotated[
        Fill | None,
        typer.Option(
            case_sensitive=False,
            help="How to fill missing values. Default: refuse.",
            rich_help_panel=DATA,
        ),
    ] = None,
    lookback: Annotated[
        int, typer.Option(min=1, help="Steps in each input window.", rich_help_panel=WINDOWS)
    ] = 20,
    horizon: Annotated[
        int, typer.Option(min=1, help="Steps the network emits at once.", rich_help_panel=WINDOWS)
    ] = 1,
    val_fraction: Annotated[
        float,
        typer.Option(
            min=0.01,
            max=0.9,
            help="Tail of the series kept for validation.",
            rich_help_panel=WINDOWS,
        ),
    ] = 0.2,
    scale: Annotated[
        Scale,
        typer.Option(
            case_sensitive=False,
            help="Scaling, fitted on training rows only.",
            rich_help_panel=WINDOWS,
        ),
    ] = Scale.STANDARD,
    layers: Annotated[
        str,
        typer.Option(
            metavar="SPEC",
            help="Recurrent layers, bottom first, comma-separated: CELL:UNITS[:MERGE] with CELL "
            "lstm, gru or rnn, prefixed with bi for bidirectional; e.g. lstm:64,bilstm:32:sum.",
            rich_help_panel=NETWORK,
        ),
    ] = "bilstm:50",
    merge_mode: Annotated[
        MergeMode,
        typer.Option(
            case_sensitive=False,
            help="Merge mode of bidirectional layers that name none.",
            rich_help_panel=NETWORK,
        ),
    ] = MergeMode.CONCAT,
    head: Annotated[
        Head, typer.Option(case_sensitive=False, help="Output head.", rich_help_panel=NETWORK)
    ] = Head.MANY_TO_ONE,
    dropout: Annotated[
        float,
        typer.Option(min=0.0, max=0.95, help="Dropout between layers.", rich_help_panel=NETWORK),
    ] = 0.0,
    recurrent_dropout: Annotated[
        float,
        typer.Option(
            min=0.0, max=0.95, help="Dropout along time (disables cuDNN).", rich_help_panel=NETWORK
        ),
    ] = 0.0,
    epochs: Annotated[
        int, typer.Option(min=1, help="Most epochs to train.", rich_help_panel=TRAINING)
    ] = 100,
    patience: Annotated[
        int,
        typer.Option(
            min=1,
            help="Epochs without validation improvement before stopping.",
            rich_help_panel=TRAINING,
        ),
    ] = 10,
    batch_size: Annotated[int, typer.Option(min=1, rich_help_panel=TRAINING)] = 32,
    learning_rate: Annotated[
        float, typer.Option(help="Adam learning rate.", rich_help_panel=TRAINING)
    ] = 1e-3,
    clipnorm: Annotated[
        float, typer.Option(help="Clip gradients to this norm.", rich_help_panel=TRAINING)
    ] = 1.0,
    loss: Annotated[Loss, typer.Option(case_sensitive=False, rich_help_panel=TRAINING)] = Loss.MSE,
    seed: Annotated[
        int, typer.Option(help="Random seed: same seed, same model.", rich_help_panel=TRAINING)
    ] = 42,
    model_dir: Annotated[Path, typer.Option(help="Where to save the model.")] = Path(
        "forecast-model"
    ),
    json_output: JsonFlag = False,
) -> None:
    """Train a recurrent network on DATA and save it to --model-dir."""
    model = ModelConfig(parse_layers(layers, merge_mode), head, dropout, recurrent_dropout)
    configs = (
        DataConfig(tuple(target) if target else None, time_col, _columns(features), fill),
        WindowConfig(lookback, horizon, val_fraction, scale),
        model,
        TrainConfig(epochs, batch_size, learning_rate, clipnorm, loss, patience, seed),
    )
    from forecast_cli.report import Report
    from forecast_cli.train_run import run_train

    report = Report(json_output)
    card = run_train(data, *configs, model_dir, report)
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
def predict(
    model: Annotated[Path, typer.Option(help="Model directory from 'forecast train'.")] = Path(
        "forecast-model"
    ),
    data: Annotated[
        Path | None,
        typer.Option(help="Forecast from this file (same columns). Default: the training file."),
    ] = None,
    steps: Annotated[int, typer.Option(min=1, help="Steps to forecast.")] = 20,
    out: Annotated[Path, typer.Option(help="Forecast CSV to write.")] = Path("forecast.csv"),
    plot: Annotated[Path, typer.Option(help="Plot to write (PNG).")] = Path("forecast.png"),
    no_plot: Annotated[bool, typer.Option("--no-plot", help="Do not draw the plot.")] = False,
    future_data: Annotated[
        Path | None,
        typer.Option(help="CSV with future values of the model's extra input features."),
    ] = None,
    json_output: JsonFlag = False,
) -> None:
    """Forecast the next --steps values after the end of the data."""
    from forecast_cli.predict_run import plot as draw
    from forecast_cli.predict_run import run_predict, write_csv
    from forecast_cli.report import Report

    report = Report(json_output)
    forecast = run_predict(model, data, steps, future_data)
    report.notes(forecast.notes)
    write_csv(forecast.frame, out)
    if not no_plot:
        draw(forecast, plot)
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
