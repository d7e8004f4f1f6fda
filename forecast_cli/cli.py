"""The ``forecast`` command line: flags into typed configs, the API called, results printed.

The flags shared by commands are declared once, as fields of the configuration groups
(``config``), which ``options.flatten`` gives each command. Only light modules are
imported here; TensorFlow, Keras, pandas and matplotlib load inside the commands that
need them, so ``forecast --help`` and flag errors answer at once.
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import os
import sys
import traceback
from pathlib import Path
from typing import Annotated

import typer
from typer.core import TyperCommand, TyperGroup

from forecast_cli import __version__, run_files, signals
from forecast_cli.config import (
    DATA,
    DEFAULT_STEPS,
    FORECAST,
    LAYERS_HELP,
    NETWORK,
    OUTPUT,
    BacktestConfig,
    ClusterConfig,
    CompareConfig,
    DataConfig,
    Fill,
    HeadChoice,
    LogConfig,
    LogFormat,
    MergeMode,
    ModelConfig,
    RuntimeConfig,
    TrainConfig,
    WindowConfig,
    columns,
    parse_levels,
)
from forecast_cli.errors import DEBUG, ForecastError, Interrupted
from forecast_cli.options import Without, flatten

ALL_MODES = "all"
USAGE_ERROR = 2
# Click's UsageError (vendored by recent Typer) is the base of Typer's public BadParameter.
UsageError = typer.BadParameter.__base__


class _UntypedFlags:
    """Help shows no type after a flag (--json, --help): it takes no value, and Typer's
    '<bool>' there reads as if it took one."""

    def get_params(self, ctx):
        params = super().get_params(ctx)
        for param in params:
            if getattr(param, "is_flag", False):
                param.metavar = ""
        return params


class ForecastCommand(_UntypedFlags, TyperCommand):
    """A command of ``forecast``."""


class ForecastGroup(_UntypedFlags, TyperGroup):
    """Turns every failure into one ``Error: ...`` line on stderr and an exit status.

    ``--debug`` (anywhere on the line, or ``FORECAST_DEBUG=1``) shows the traceback too,
    and the lines of the libraries that keep quiet otherwise (``ray_cluster``), which read
    ``FORECAST_DEBUG`` while the command runs.
    """

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        args = list(sys.argv[1:] if args is None else args)
        debug = "--debug" in args or os.environ.get(DEBUG) == "1"
        args = _with_optional_values([arg for arg in args if arg != "--debug"])
        before = os.environ.get(DEBUG)
        if debug:
            os.environ[DEBUG] = "1"
        try:
            with signals.handlers():
                code = super().main(args, "forecast", complete_var, standalone_mode=False, **extra)
            if code == signals.INTERRUPTED:  # Typer's status for a KeyboardInterrupt
                code = _interrupted("nothing was saved.")
        except Interrupted as exc:
            code = _interrupted(str(exc))
        except UsageError as exc:
            message = exc.format_message().replace("Value error, ", "").rstrip(".")
            hint = f" See '{exc.ctx.command_path} --help'." if exc.ctx else ""
            # No arguments at all: the help was printed, and no error line follows it.
            code = _fail(f"{message}.{hint}", USAGE_ERROR, debug) if args else USAGE_ERROR
        except ForecastError as exc:
            code = _fail(str(exc), exc.status, debug)
        except (typer.Abort, KeyboardInterrupt):
            code = _interrupted("nothing was saved.")
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
            if before is None:
                os.environ.pop(DEBUG, None)
            else:
                os.environ[DEBUG] = before
        sys.exit(code if isinstance(code, int) else 0)

    def make_context(self, info_name, args, parent=None, **extra):
        """The context of a run, which keeps its command line for the run file's header."""
        ctx = super().make_context(info_name, args, parent, **extra)
        ctx.meta[run_files.ARGS] = list(args)
        return ctx


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


def _interrupted(what: str) -> int:
    print(f"Interrupted: {what}", file=sys.stderr)
    return signals.INTERRUPTED


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


SourceArg = Annotated[
    Path,
    typer.Argument(
        metavar="DATA.csv",
        help="CSV file with a header row, one row per step (.csv.gz and .parquet too; - reads "
        "stdin).",
    ),
]
ReportFlag = Annotated[
    bool,
    typer.Option(
        "--report",
        rich_help_panel=OUTPUT,
        help="Also write the run's page: 'forecast report' of what it wrote.",
    ),
]


def _read_run_file(ctx: typer.Context, path: Path | None) -> None:
    """``--config``: the file's flags become the command's defaults, which the flags on
    the command line override."""
    if path is not None:
        ctx.default_map = {**(ctx.default_map or {}), **run_files.read(path, ctx)}


# Every command takes it; its value reaches the command only as the defaults it set.
ConfigFlag = Annotated[
    Path | None,
    typer.Option(
        "--config",
        metavar="FILE.toml",
        exists=True,
        dir_okay=False,
        is_eager=True,
        expose_value=False,
        callback=_read_run_file,
        help="Take flags from this TOML file: the run.toml an earlier run wrote, or your "
        "own (keys are the flags without their dashes). Flags given here override it.",
    ),
]
JsonFlag = Annotated[
    bool,
    typer.Option(
        "--json",
        rich_help_panel=OUTPUT,
        help="Print the result as one JSON object, last line of stdout.",
    ),
]


@app.command(cls=ForecastCommand)
@flatten
def train(
    ctx: typer.Context,
    source: SourceArg,
    data: DataConfig,
    window: WindowConfig,
    model: ModelConfig,
    training: TrainConfig,
    runtime: RuntimeConfig,
    logs: LogConfig,
    model_dir: Annotated[
        Path, typer.Option(rich_help_panel=OUTPUT, help="Where to save the model.")
    ] = Path("forecast-model"),
    json_output: JsonFlag = False,
    config: ConfigFlag = None,
) -> None:
    """Train a recurrent network on DATA and save it to --model-dir, with its run.toml.

    Stopped (killed, preempted, Ctrl-C), it resumes when the same command runs again.
    """
    from forecast_cli import api

    report = _report(json_output, logs)
    trained = api.train(
        source,
        model_dir=model_dir,
        data=data,
        window=window,
        model=model,
        training=training,
        runtime=runtime,
        logs=logs,
        run_file=run_files.render(ctx, model_dir),
        report=report,
    )
    report.json(trained.summary())
    if trained.stopped:
        raise Interrupted(trained.stopped)


@app.command(cls=ForecastCommand)
@flatten
def compare(
    ctx: typer.Context,
    source: SourceArg,
    data: Annotated[DataConfig, Without("future_features")],
    window: WindowConfig,
    model: Annotated[ModelConfig, Without("layers", "head", "merge_mode")],
    training: TrainConfig,
    runtime: RuntimeConfig,
    options: CompareConfig,
    cluster: ClusterConfig,
    logs: LogConfig,
    merge_modes: Annotated[
        str | None,
        typer.Option(
            metavar="[MODE,...]",
            rich_help_panel=NETWORK,
            help="Plural: compare merge modes, one candidate per mode listed (e.g. "
            "concat,ave; all four when given alone) for each bidirectional layer that names "
            "none. The default without --layers.",
        ),
    ] = None,
    merge_mode: Annotated[
        MergeMode | None,
        typer.Option(
            case_sensitive=False,
            rich_help_panel=NETWORK,
            help="Singular: the one merge mode of the bidirectional --layers that name none, "
            "without --merge-modes. Default: concat.",
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
    head: Annotated[
        HeadChoice,
        typer.Option(
            case_sensitive=False,
            rich_help_panel=NETWORK,
            help="Output head of the candidates, or both.",
        ),
    ] = HeadChoice.MANY_TO_ONE,
    out_dir: Annotated[
        Path, typer.Option(rich_help_panel=OUTPUT, help="Where to write the comparison.")
    ] = Path("comparison"),
    write_report: ReportFlag = False,
    json_output: JsonFlag = False,
    config: ConfigFlag = None,
) -> None:
    """Train several networks on DATA with the same settings and compare them with baselines."""
    from forecast_cli import api
    from forecast_cli.artifacts import COMPARISON_FILES

    if merge_modes and merge_mode:
        raise ForecastError(
            "--merge-modes compares several merge modes and --merge-mode sets one: give one "
            "of them."
        )
    report = _report(json_output, logs)
    comparison = api.compare(
        source,
        out_dir=out_dir,
        layers=layers,
        merge_modes=parse_merge_modes(merge_modes) if merge_modes else None,
        heads=head.heads,
        data=data,
        window=window,
        model=dataclasses.replace(model, merge_mode=merge_mode or MergeMode.CONCAT),
        training=training,
        runtime=runtime,
        options=options,
        cluster=cluster,
        logs=logs,
        run_file=run_files.render(ctx, out_dir),
        report=report,
    )
    report.comparison(comparison.rows, options.repeats)
    report.notes(comparison.notes)
    for name in COMPARISON_FILES:
        report.written(name, out_dir / name)
    written = _write_report(out_dir, report) if write_report else {}
    report.json({**comparison.summary(), **written})


@app.command(cls=ForecastCommand)
@flatten
def backtest(
    ctx: typer.Context,
    source: SourceArg,
    options: BacktestConfig,
    data: DataConfig,
    window: WindowConfig,
    model: ModelConfig,
    training: TrainConfig,
    runtime: RuntimeConfig,
    cluster: ClusterConfig,
    logs: LogConfig,
    out: Annotated[Path, typer.Option(rich_help_panel=OUTPUT, help="Scores CSV to write.")] = Path(
        "backtest.csv"
    ),
    plot: Annotated[
        Path, typer.Option(rich_help_panel=OUTPUT, help="Picture of the folds to write.")
    ] = Path("backtest.png"),
    write_report: ReportFlag = False,
    json_output: JsonFlag = False,
    config: ConfigFlag = None,
) -> None:
    """Rolling-origin evaluation of the network beside the baselines.

    Forecast the last --folds blocks of --steps steps, each from the data before it."""
    from forecast_cli import api
    from forecast_cli.artifacts import run_file_beside

    report = _report(json_output, logs)
    result = api.backtest(
        source,
        data=data,
        window=window,
        model=model,
        training=training,
        runtime=runtime,
        options=options,
        cluster=cluster,
        out=out,
        plot=plot,
        logs=logs,
        run_file=run_files.render(ctx, run_file_beside(out).parent),
        report=report,
    )
    report.frame(
        "Backtest (MASE below 1 beats the in-sample seasonal naive)",
        result.table,
        rows=len(result.table),
    )
    report.written("Scores", out)
    report.written("Plot", plot)
    report.written("Run file", run_file_beside(out))
    written = _write_report(out, report) if write_report else {}
    report.json({**result.summary(), **written})


@app.command(cls=ForecastCommand, name="report")
def report_command(
    path: Annotated[
        Path,
        typer.Argument(
            metavar="PATH",
            help="A model folder (forecast train), a comparison folder (forecast compare) or "
            "a backtest's scores CSV (forecast backtest).",
        ),
    ],
    out: Annotated[
        Path | None,
        typer.Option(
            rich_help_panel=OUTPUT,
            help="HTML file to write. Default: report.html in the folder, or beside the "
            "backtest's CSV under its name.",
        ),
    ] = None,
    json_output: JsonFlag = False,
    config: ConfigFlag = None,
) -> None:
    """Write one HTML page about a model, a comparison or a backtest, pictures included.

    It opens offline: the data, windows, network and its layers, the training's losses,
    the scores beside the baselines, and the forecast or the pictures of the run."""
    from forecast_cli import api
    from forecast_cli.report import Report

    report = Report(json_output)
    written = api.report(path, out=out)
    report.written("Report", written)
    report.json({"report": str(written.absolute())})


def _write_report(path: Path, report) -> dict:
    """``forecast report``'s page of what a command just wrote to ``path`` (--report)."""
    from forecast_cli import api

    written = api.report(path)
    report.written("Report", written)
    return {"report": str(written.absolute())}


def _report(json_output: bool, logs: LogConfig):
    """The report of a training command. With --json it moves to stderr, unless
    --log-format json keeps stderr for its JSON lines: then only the JSON object is
    printed."""
    from forecast_cli.report import Report

    both = json_output and logs.log_format is LogFormat.JSON
    return Report(json_output, quiet=both)


def parse_merge_modes(text: str) -> list[MergeMode]:
    """``all`` or a comma-separated list such as ``concat,ave``."""
    if text.strip().lower() == ALL_MODES:
        return list(MergeMode)
    modes = []
    for name in columns(text.lower()):
        if name not in set(MergeMode):
            raise ForecastError(
                f"--merge-modes: unknown merge mode {name!r}; use {', '.join(MergeMode)} or "
                f"{ALL_MODES}."
            )
        modes.append(MergeMode(name))
    return modes


@app.command(cls=ForecastCommand)
@flatten
def predict(
    ctx: typer.Context,
    *,
    model: Annotated[
        Path,
        typer.Option(rich_help_panel=DATA, help="Model directory from 'forecast train'."),
    ] = Path("forecast-model"),
    data: Annotated[
        Path | None,
        typer.Option(
            rich_help_panel=DATA,
            help="Forecast from this file (same columns). Default: the training file.",
        ),
    ] = None,
    future_data: Annotated[
        Path | None,
        typer.Option(
            rich_help_panel=DATA,
            help="File with the values of the model's --future-features after the data's end.",
        ),
    ] = None,
    series: Annotated[
        str | None,
        typer.Option(
            metavar="NAME,...",
            rich_help_panel=DATA,
            help="Forecast only these series (a model trained with --id-col). Default: all.",
        ),
    ] = None,
    fill: Annotated[
        Fill | None,
        typer.Option(
            case_sensitive=False,
            rich_help_panel=DATA,
            help="How to fill missing values of the data forecast from. Default: as the "
            "model's training did (its --fill; none: refuse them).",
        ),
    ] = None,
    steps: Annotated[
        int, typer.Option(min=1, rich_help_panel=FORECAST, help="Steps to forecast.")
    ] = DEFAULT_STEPS,
    intervals: Annotated[
        str | None,
        typer.Option(
            metavar="LEVEL,...",
            rich_help_panel=FORECAST,
            help="Add prediction intervals at these coverage "
            "levels in percent, e.g. 80,95 (conformal, from the validation tail).",
        ),
    ] = None,
    keep_negative: Annotated[
        bool,
        typer.Option(
            "--keep-negative",
            rich_help_panel=FORECAST,
            help="Keep forecasts and interval bounds below zero of a target the data never "
            "has below zero (counts, sales). Default: clip them at zero, with a note.",
        ),
    ] = False,
    out: Annotated[
        Path, typer.Option(rich_help_panel=OUTPUT, help="Forecast CSV to write.")
    ] = Path("forecast.csv"),
    plot: Annotated[
        Path, typer.Option(rich_help_panel=OUTPUT, help="Plot to write (PNG, or .svg, .pdf).")
    ] = Path("forecast.png"),
    no_plot: Annotated[
        bool, typer.Option("--no-plot", rich_help_panel=OUTPUT, help="Do not draw the plot.")
    ] = False,
    max_plots: Annotated[
        int,
        typer.Option(
            min=1, rich_help_panel=OUTPUT, help="Series drawn in the plot, the first ones."
        ),
    ] = 6,
    json_output: JsonFlag = False,
    config: ConfigFlag = None,
) -> None:
    """Forecast the next --steps values after the end of the data."""
    from forecast_cli import api
    from forecast_cli.artifacts import run_file_beside, write_forecast, write_run_file
    from forecast_cli.report import Report

    api.check_outputs(out, None if no_plot else plot)
    report = Report(json_output)
    forecast = api.predict(
        model,
        data=data,
        steps=steps,
        future=future_data,
        intervals=parse_levels(intervals) if intervals else (),
        fill=fill,
        series=columns(series),
        keep_negative=keep_negative,
    )
    report.notes(forecast.notes)
    write_forecast(forecast, out, None if no_plot else plot, max_plots)
    run_file = run_file_beside(out)
    write_run_file(run_file, run_files.render(ctx, run_file.parent))
    report.frame(f"Forecast: next {steps} steps ({forecast.card.forecaster})", forecast.frame)
    report.written("Forecast CSV", out)
    if not no_plot:
        report.written("Plot", plot)
    report.written("Run file", run_file)
    report.json(
        {
            **forecast.summary(),
            "csv": str(out.absolute()),
            "plot": None if no_plot else str(plot.absolute()),
        }
    )


def main() -> None:
    """Console-script entry point.

    The process ends once its exit handlers (Ray's shutdown, the worker pools',
    temporary folders', logging's) have run, without Python's teardown of the modules:
    with pandas and matplotlib loaded it takes 0.15 s, an eighth of a ``predict``;
    TensorFlow's takes 0.6 s on 2 cores, and with its threads still alive can abort the
    process, which then ends by SIGABRT instead of the command's exit status.
    (``atexit._run_exitfuncs`` is CPython's, undocumented; no thread of ours outlives
    the command, so skipping the join of the threads loses nothing.)"""
    try:
        app()
    except SystemExit as end:
        if not isinstance(end.code, int | None):
            raise
        atexit._run_exitfuncs()
        for stream in (sys.stdout, sys.stderr):
            # a reader gone, a closed pipe, no stream at all (started with it closed)
            with contextlib.suppress(OSError, ValueError, AttributeError):
                stream.flush()
        os._exit(end.code or 0)
