"""The Python API: the four commands as functions, for notebooks and scripts.

Each takes the same typed configurations as the command line (``forecast_cli.config``;
every field defaults to its flag's default) and a CSV path or a DataFrame, prints
nothing unless given a ``Report``, and returns a plain result::

    import pandas as pd
    from forecast_cli import api

    frame = pd.read_csv("sample_data/sine.csv")
    trained = api.train(frame, model_dir="sine-model", training=api.TrainConfig(epochs=5))
    print(trained.card.metrics["val_rmse"])
    forecast = api.predict("sine-model", data=frame, steps=20)
    print(forecast.frame.head())

The command line (``forecast_cli.cli``) only parses flags into these configurations,
calls these functions and prints their results.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from forecast_cli.config import (
    Anchor,
    BacktestConfig,
    ClusterConfig,
    CompareConfig,
    DataConfig,
    Fill,
    Head,
    LogConfig,
    LogFormat,
    MergeMode,
    ModelConfig,
    Refit,
    RuntimeConfig,
    Scale,
    TrainConfig,
    WindowConfig,
)
from forecast_cli.errors import ForecastError
from forecast_cli.report import Report

__all__ = [
    "Anchor",
    "BacktestConfig",
    "ClusterConfig",
    "CompareConfig",
    "DataConfig",
    "Fill",
    "Head",
    "LogConfig",
    "LogFormat",
    "MergeMode",
    "ModelConfig",
    "Refit",
    "Report",
    "RuntimeConfig",
    "Scale",
    "TrainConfig",
    "WindowConfig",
    "backtest",
    "compare",
    "predict",
    "report",
    "train",
]

Source = str | Path | pd.DataFrame


def train(
    source: Source,
    *,
    model_dir: str | Path = "forecast-model",
    data: DataConfig = DataConfig(),
    window: WindowConfig = WindowConfig(),
    model: ModelConfig = ModelConfig(),
    training: TrainConfig = TrainConfig(),
    runtime: RuntimeConfig = RuntimeConfig(),
    logs: LogConfig = LogConfig(),
    run_file: str | None = None,
    report: Report | None = None,
):
    """Train one network on ``source`` and save it to ``model_dir``; ``logs`` says where
    each epoch's losses go besides the report (TensorBoard, JSON lines), and
    ``run_file`` is the text of a ``run.toml`` to save with the model.

    Returns a ``train_run.Training``: the saved model's card (``.card.metrics``,
    ``.card.window``...) and its directory. Example::

        trained = api.train("sample_data/sine.csv", model_dir="m",
                            model=api.ModelConfig(layers="gru:16"),
                            training=api.TrainConfig(epochs=3))
        assert trained.card.model.label == "gru:16"
    """
    from forecast_cli.train_run import run_train

    return run_train(
        _source(source),
        data,
        window,
        model,
        training,
        runtime,
        logs,
        Path(model_dir),
        _quiet(report),
        run_file,
    )


def predict(
    model_dir: str | Path = "forecast-model",
    *,
    data: Source | None = None,
    steps: int = 20,
    future: Source | None = None,
    intervals: tuple[int, ...] = (),
    fill: Fill | None = None,
    series: tuple[str, ...] = (),
    out: str | Path | None = None,
    plot: str | Path | None = None,
    keep_negative: bool = False,
):
    """Forecast ``steps`` values after the end of ``data`` (default: the training file)
    with the model in ``model_dir``; with ``out`` and ``plot`` also write its CSV and
    picture. Forecasts and interval bounds of a target the data never has below zero
    are clipped at zero, unless ``keep_negative``.

    Returns a ``predict_run.Forecast`` whose ``.frame`` holds the forecast, a time (or
    step) column first and, with ``intervals`` (percent), their bounds. Example::

        forecast = api.predict("m", steps=5, intervals=(80,))
        assert list(forecast.frame.columns) == ["timestamp", "value", "value_lower_80",
                                                "value_upper_80"]
    """
    from forecast_cli.artifacts import write_forecast
    from forecast_cli.predict_run import run_predict

    check_outputs(out, plot)
    forecast = run_predict(
        Path(model_dir),
        None if data is None else _source(data),
        steps,
        None if future is None else _source(future),
        tuple(intervals),
        fill,
        tuple(series),
        keep_negative,
    )
    if out is not None:
        write_forecast(forecast, Path(out), None if plot is None else Path(plot))
    return forecast


def compare(
    source: Source,
    *,
    out_dir: str | Path = "comparison",
    layers: list[str] | None = None,
    merge_modes: list[MergeMode] | None = None,
    heads: tuple[Head, ...] = (Head.MANY_TO_ONE,),
    data: DataConfig = DataConfig(),
    window: WindowConfig = WindowConfig(),
    model: ModelConfig = ModelConfig(),
    training: TrainConfig = TrainConfig(),
    runtime: RuntimeConfig = RuntimeConfig(),
    options: CompareConfig = CompareConfig(),
    cluster: ClusterConfig = ClusterConfig(),
    logs: LogConfig = LogConfig(),
    run_file: str | None = None,
    report: Report | None = None,
):
    """Train every candidate (each ``layers`` spec x ``merge_modes`` x ``heads``; by
    default one bidirectional LSTM per merge mode) with the same settings and score them
    beside the baselines; the comparison is written to ``out_dir``, with ``run_file``
    as its ``run.toml``. ``logs`` as in ``train``.

    ``model`` gives what the candidates share (dropout, anchor, default merge mode).
    Returns a ``compare_run.Comparison``: ``.rows`` ranked by validation RMSE, and
    ``.forecasts``. Example::

        comparison = api.compare("sample_data/sine.csv", out_dir="cmp",
                                 merge_modes=[api.MergeMode.SUM, api.MergeMode.AVE],
                                 training=api.TrainConfig(epochs=3))
        print([(row.name, row.val_rmse) for row in comparison.rows])
    """
    from forecast_cli.candidates import expand_candidates, takes_merge_mode
    from forecast_cli.compare_run import run_compare

    report = _quiet(report)
    if merge_modes is None and not layers:
        merge_modes = list(MergeMode)  # the reference experiment
    if merge_modes and (fixed := [spec for spec in layers or [] if not takes_merge_mode(spec)]):
        report.notes(
            [
                f"--merge-modes do not apply to {', '.join(fixed)}: no bidirectional "
                "layer there without its own merge mode."
            ]
        )
    candidates = expand_candidates(layers or [], merge_modes, heads, model.merge_mode, model)
    return run_compare(
        _source(source),
        data,
        window,
        candidates,
        training,
        runtime,
        options,
        cluster,
        logs,
        Path(out_dir),
        report,
        run_file,
    )


def backtest(
    source: Source,
    *,
    data: DataConfig = DataConfig(),
    window: WindowConfig = WindowConfig(),
    model: ModelConfig = ModelConfig(),
    training: TrainConfig = TrainConfig(),
    runtime: RuntimeConfig = RuntimeConfig(),
    options: BacktestConfig = BacktestConfig(),
    cluster: ClusterConfig = ClusterConfig(),
    out: str | Path | None = None,
    plot: str | Path | None = None,
    logs: LogConfig = LogConfig(),
    run_file: str | None = None,
    report: Report | None = None,
):
    """Rolling-origin evaluation: forecast the last ``options.folds`` blocks of
    ``options.steps`` steps, each from the data before it, next to the baselines; with
    ``out`` also write the scores' CSV there (and ``run_file`` beside it, as
    ``NAME.run.toml``), and with ``plot`` the folds' picture. ``logs`` as in ``train``.

    Returns a ``backtest_run.Backtest`` whose ``.table`` holds MAE, RMSE, sMAPE and MASE
    per fold and method, and over all folds. Example::

        result = api.backtest("sample_data/sine.csv",
                              options=api.BacktestConfig(folds=2, steps=10),
                              training=api.TrainConfig(epochs=3))
        print(result.table.query("fold == 'all'")[["method", "mase"]])
    """
    from forecast_cli.artifacts import write_backtest
    from forecast_cli.backtest_run import run_backtest

    check_outputs(out, plot)
    if out is not None and Path(out).suffix == ".json":
        raise ForecastError(
            f"--out {out}: name the scores' CSV .csv; the backtest's card is written beside "
            "it, in .json."
        )
    result = run_backtest(
        _source(source),
        data,
        window,
        model,
        training,
        runtime,
        options,
        cluster,
        logs,
        _quiet(report),
    )
    if out is not None:
        write_backtest(result, Path(out), None if plot is None else Path(plot), run_file=run_file)
    return result


def report(path: str | Path, *, out: str | Path | None = None) -> Path:
    """Write the report of a model directory, a comparison folder or a backtest (its
    scores CSV) to ``out``: one HTML file holding its pictures, readable offline. By
    default ``report.html`` in the folder, or beside a backtest's CSV under its name
    (``backtest.html``). Returns the path written. Example::

        page = api.report("m")
        assert page.name == "report.html" and "<section id=\"training\">" in page.read_text()
    """
    from forecast_cli.artifacts import write_text
    from forecast_cli.report_run import run_report

    path = Path(path)
    out = report_path(path) if out is None else Path(out)
    check_outputs(out, None)
    write_text(run_report(path).html, out)
    return out


def report_path(path: Path) -> Path:
    """Where ``report`` writes the report of ``path`` by default."""
    from forecast_cli.artifacts import REPORT_FILE

    return path / REPORT_FILE if path.is_dir() else path.with_suffix(".html")


def check_outputs(out: str | Path | None, plot: str | Path | None) -> None:
    """Refuse the files to write before the work: a folder, a missing folder, a picture
    format matplotlib cannot draw."""
    from forecast_cli.artifacts import check_output_file

    if out is not None:
        check_output_file(Path(out), "--out")
    if plot is not None:
        check_output_file(Path(plot), "--plot", picture=True)


def _source(source: Source) -> Path | pd.DataFrame:
    return source if isinstance(source, pd.DataFrame) else Path(source)


def _quiet(report: Report | None) -> Report:
    return report if report is not None else Report(quiet=True)
