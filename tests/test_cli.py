"""The commands end to end, as a user runs them."""

import json
import re

import numpy as np
import pandas as pd
import pytest
from conftest import FAST, error_line, flat, sine_frame

from forecast_cli.artifacts import CARD_FILE


def last_json(result) -> dict:
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_train_then_predict_with_no_flags(cli, sine_csv, tmp_path):
    trained = cli("train", sine_csv, *FAST, "--json")
    assert trained.exit_code == 0, trained.output
    summary = last_json(trained)
    assert set(summary) >= {
        "val_mae",
        "val_rmse",
        "params",
        "epochs_run",
        "train_seconds",
        "model_dir",
    }
    assert summary["model_dir"] == str(tmp_path / "forecast-model")
    lstm, dense, regression = 4 * (4 * (1 + 4) + 4), 5 * 20, (8 + 1) * 20  # the anchor's, fixed
    assert summary["epochs_run"] == 2 and summary["params"] == lstm + dense + regression
    assert 0 < summary["val_mae"] <= summary["val_rmse"] < 1.0
    # The human report (on stderr with --json) shows the tensor shapes before training:
    # 128 training rows and 32 validation rows, cut into windows of 8 steps followed by
    # the default horizon of 20 (predict's default --steps).
    assert "X train, y train (101, 8, 1), (101, 20, 1)" in flat(trained.stderr)
    assert "X val, y val (13, 8, 1), (13, 20, 1)" in flat(trained.stderr)
    assert "Target: 'value' (the only numeric column)" in trained.stderr
    assert "XLA" not in trained.stderr  # --xla auto: far too short a training to compile

    predicted = cli("predict")
    assert predicted.exit_code == 0, predicted.output
    frame = pd.read_csv(tmp_path / "forecast.csv", parse_dates=["timestamp"])
    assert list(frame.columns) == ["timestamp", "value"] and len(frame) == 20
    last = sine_frame()["timestamp"].iloc[-1]
    assert frame["timestamp"].tolist() == list(pd.date_range(last, periods=21, freq="h")[1:])
    assert frame["value"].between(-2, 2).all()
    assert (tmp_path / "forecast.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "Forecast CSV: forecast.csv" in predicted.stdout
    assert str(frame["timestamp"].iloc[0]) in predicted.stdout  # the first rows are shown


def test_predict_json_steps_and_newer_data(cli, sine_csv, write_csv, tmp_path):
    assert cli("train", sine_csv, *FAST, "--model-dir", "m").exit_code == 0
    newer = write_csv("newer.csv", sine_frame(rows=60, seed=5))
    result = cli("predict", "--model", "m", "--data", newer, "--steps", 7, "--no-plot", "--json")
    assert result.exit_code == 0, result.output
    payload = last_json(result)
    assert payload["steps"] == 7 and payload["plot"] is None
    assert len(payload["forecast"]) == 7 and set(payload["forecast"][0]) == {"timestamp", "value"}
    assert payload["forecast"][0]["timestamp"] == "2026-01-03 12:00:00"
    assert not (tmp_path / "forecast.png").exists()


def test_a_series_without_time_column_gets_step_numbers(cli, write_csv, tmp_path):
    data = write_csv("plain.csv", sine_frame()[["value"]])
    assert cli("train", data, *FAST).exit_code == 0
    assert cli("predict", "--steps", 3).exit_code == 0
    frame = pd.read_csv(tmp_path / "forecast.csv")
    assert frame["step"].tolist() == [1, 2, 3]


def test_same_seed_same_forecast(cli, sine_csv, tmp_path):
    forecasts = []
    for run in range(2):
        assert cli("train", sine_csv, *FAST, "--seed", 7, "--model-dir", f"m{run}").exit_code == 0
        assert (
            cli("predict", "--model", f"m{run}", "--out", f"f{run}.csv", "--no-plot").exit_code == 0
        )
        forecasts.append((tmp_path / f"f{run}.csv").read_text())
    assert forecasts[0] == forecasts[1]
    assert cli("train", sine_csv, *FAST, "--seed", 8, "--model-dir", "m2").exit_code == 0
    assert cli("predict", "--model", "m2", "--out", "f2.csv", "--no-plot").exit_code == 0
    assert (tmp_path / "f2.csv").read_text() != forecasts[0]


def test_multi_target_many_to_many_horizon_and_features(cli, write_csv, tmp_path):
    rows = 200
    hours = np.arange(rows)
    frame = pd.DataFrame(
        {
            "timestamp": pd.date_range("2026-03-01", periods=rows, freq="h"),
            "temperature": np.sin(hours / 4),
            "humidity": np.cos(hours / 4),
            "pressure": np.sin(hours / 8),
        }
    )
    data = write_csv("multi.csv", frame)
    args = [
        "--target",
        "temperature",
        "--target",
        "humidity",
        "--features",
        "pressure",
        "--layers",
        "gru:4,bigru:4:ave",
        "--head",
        "many-to-many",
        "--horizon",
        3,
        "--epochs",
        2,
        "--lookback",
        6,
    ]
    trained = cli("train", data, *args)
    assert trained.exit_code == 0, trained.output
    assert "X train, y train (152, 6, 3), (152, 6, 3, 2)" in flat(trained.stdout)
    # Within the horizon the features are not needed...
    assert cli("predict", "--steps", 3).exit_code == 0
    forecast = pd.read_csv(tmp_path / "forecast.csv")
    assert list(forecast.columns) == ["timestamp", "temperature", "humidity"]
    # ...and past it they are unknown (see test_covariates).
    assert "forecasts at most its --horizon of 3" in error_line(cli("predict", "--steps", 5))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["predict", "--steps", "0"],
            "Error: Invalid value for '--steps': Input should be greater than or equal to 1. "
            "See 'forecast predict --help'.",
        ),
        (
            ["train", "x.csv", "--layers", "bilstm:8:max"],
            "Error: --layers: unknown merge mode 'max' in 'bilstm:8:max'; "
            "use one of concat, sum, mul, ave.",
        ),
        (
            ["train", "x.csv", "--merge-mode", "max"],
            "Error: Invalid value for '--merge-mode': 'max' is not one of 'concat', 'sum', "
            "'mul', 'ave'. See 'forecast train --help'.",
        ),
        (["train", "x.csv", "--head", "one-to-one"], "Error: Invalid value for '--head'"),
        (
            ["train", "x.csv", "--learning-rate", "0"],
            "Error: --learning-rate must be greater than 0, got 0.0.",
        ),
        (["train", "missing.csv"], "Error: missing.csv: no such file."),
        # repeated columns are refused before the file is read (it does not exist)
        (
            ["train", "x.csv", "--target", "value", "--target", "value"],
            "Error: --target names column 'value' twice; name it once.",
        ),
        (
            ["backtest", "x.csv", "--features", "a,b,a"],
            "Error: --features names column 'a' twice; name it once.",
        ),
        (["predict", "--model", "nowhere"], "Error: Model directory nowhere does not exist."),
        (["train"], "Error: Missing argument 'DATA.csv'. See 'forecast train --help'."),
        (["trian"], "Error: No such command 'trian'. Did you mean 'train'?"),
    ],
)
def test_bad_usage_gives_one_error_line_and_status_2(cli, args, message):
    assert error_line(cli(*args)).startswith(message)


def test_no_arguments_print_the_help_and_no_error(cli):
    result = cli()
    assert result.exit_code == 2  # click's status for a command line that does nothing
    assert result.stdout.lstrip().startswith("Usage: forecast [OPTIONS] COMMAND")
    assert result.stderr == ""


def test_future_data_for_a_model_without_future_features_is_refused(cli, sine_model, sine_csv):
    assert error_line(cli("predict", "--model", sine_model, "--future-data", sine_csv)) == (
        f"Error: --future-data: the model in {sine_model} reads no future features (it was "
        "trained without --future-features), so it has no use for them: leave out "
        "--future-data."
    )


def test_data_errors_reach_the_user_as_one_line(cli, write_csv):
    short = write_csv("short.csv", sine_frame(rows=20))
    assert error_line(cli("train", short)).startswith(
        "Error: The series has 20 rows, too few for --lookback 20, --horizon 1 and "
        "--val-fraction 0.2: they need at least 27 rows."
    )
    gaps = write_csv("gaps.csv", "value\n" + "1\n2\nNA\n4\n" * 10)
    assert "has 10 missing value(s): 'value' 10 (first at line 4)" in error_line(cli("train", gaps))
    empty = write_csv("empty.csv", "")
    assert error_line(cli("train", empty)).endswith(
        "is empty. It needs a header row and one row per time step."
    )


def test_debug_shows_the_traceback(cli):
    result = cli("train", "missing.csv", "--debug")
    assert result.exit_code == 2
    assert "Traceback" in result.stderr and result.stderr.strip().endswith(
        "no such file. Check the path and the working directory."
    )


def test_refuses_to_overwrite_a_directory_that_is_not_a_model(cli, sine_csv, tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.txt").write_text("mine")
    assert "is not a forecast model directory" in error_line(
        cli("train", sine_csv, "--model-dir", "docs")
    )
    assert (tmp_path / "docs" / "a.txt").read_text() == "mine"


def test_train_says_when_xla_compiled_its_steps(cli, sine_csv, tmp_path):
    """The compilation is seconds before the first epoch: the report and the card say so."""
    trained = cli("train", sine_csv, *FAST, "--xla", "on")
    assert trained.exit_code == 0, trained.output
    assert re.search(r"time +[\d.]+ s, steps compiled with XLA", trained.output)
    card = json.loads((tmp_path / "forecast-model" / CARD_FILE).read_text())
    assert card["training"]["xla_compiled"] is True and card["training"]["xla"] == "on"
    assert card["training"]["fused_lstm"] is False  # XLA cannot compile the fused kernel


def test_predict_when_the_training_file_has_gone(cli, sine_csv):
    assert cli("train", sine_csv, *FAST).exit_code == 0
    sine_csv.unlink()
    assert error_line(cli("predict")).endswith(
        "no longer exists; pass the series to forecast from with --data FILE."
    )


def test_output_paths_are_checked_before_any_work(cli, sine_model, sine_csv, tmp_path):
    (tmp_path / "blocker").write_text("a file, not a folder")
    (tmp_path / "adir").mkdir()
    refused = {
        ("--plot", "out.txt"): "--plot out.txt: matplotlib draws no .txt pictures; end the "
        "name in .png, .svg or .pdf.",
        ("--out", "missing/x.csv"): "--out missing/x.csv: the folder missing does not exist; "
        "create it first or choose another path.",
        ("--out", "adir"): "--out adir is a folder; name a file in it, e.g. adir/out.csv.",
        ("--plot", "adir"): "--plot adir is a folder; name a file in it, e.g. adir/out.png.",
        ("--out", "blocker/f.csv"): "--out blocker/f.csv: blocker is a file, not a folder; "
        "choose another path.",
        ("--model", "blocker"): "--model blocker is a file; pass the model folder that "
        "'forecast train' saved (its --model-dir).",
    }
    for args, message in refused.items():
        assert error_line(cli("predict", "--model", sine_model, *args)) == f"Error: {message}"
    assert not (tmp_path / "forecast.csv").exists() and not (tmp_path / "missing").exists()
    assert list((tmp_path / "adir").iterdir()) == []
    # backtest refuses them before it trains
    backtest = cli("backtest", sine_csv, "--plot", "folds.txt")
    assert "matplotlib draws no .txt pictures" in error_line(backtest)
    assert "training" not in backtest.output
    assert cli("predict", "--model", sine_model, "--plot", "adir/f.svg").exit_code == 0
    assert (tmp_path / "adir" / "f.svg").read_text().startswith("<?xml")


def test_tables_keep_every_digit_when_the_output_is_not_a_terminal(
    cli, sine_model, tmp_path, monkeypatch
):
    """Piped or written to a file, a table is as wide as it needs: at 80 columns these six
    columns were cut ('value_lowe…', '-0.12…')."""
    monkeypatch.delenv("COLUMNS", raising=False)
    result = cli("predict", "--model", sine_model, "--intervals", "80,95", "--no-plot")
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(tmp_path / "forecast.csv")
    header = next(line for line in result.stdout.splitlines() if "timestamp" in line)
    assert [cell.strip() for cell in header.split("┃")[1:-1]] == list(frame.columns)
    for row in frame.head(10).itertuples(index=False):
        assert " │ ".join([row[0], *(f"{v:.4f}" for v in row[1:])]) in flat(result.stdout)


def test_predict_says_when_the_training_file_has_changed(cli, sine_csv):
    assert cli("train", sine_csv, *FAST).exit_code == 0
    sine_frame(rows=170).to_csv(sine_csv, index=False)
    result = cli("predict", "--no-plot")
    assert result.exit_code == 0
    assert "has changed since the model was trained; forecasting from its current end." in flat(
        result.stdout
    )
    assert pd.read_csv("forecast.csv")["timestamp"].iloc[0] == "2026-01-08 02:00:00"


def test_predict_can_fill_gaps_in_newer_data(cli, sine_model, write_csv):
    frame = sine_frame(rows=60, seed=9)
    frame.loc[50, "value"] = None
    newer = write_csv("gappy.csv", frame)
    assert "--fill interpolate" in error_line(
        cli("predict", "--model", sine_model, "--data", newer)
    )
    result = cli(
        "predict", "--model", sine_model, "--data", newer, "--fill", "interpolate", "--no-plot"
    )
    assert result.exit_code == 0, result.output


def test_repeated_timestamps_through_train_and_predict(cli, write_csv, tmp_path):
    frame = sine_frame()
    repeated = pd.concat([frame, frame.iloc[[10, 50]]]).sort_index(kind="stable")
    data = write_csv("repeats.csv", repeated)
    message = error_line(cli("train", data))
    assert message.startswith("Error: Time column 'timestamp' in ") and "--aggregate" in message
    fast = ["--layers", "lstm:4", "--epochs", 1, "--lookback", 8, "--anchor", "none"]
    assert cli("train", data, *fast, "--aggregate", "mean").exit_code == 0
    card = json.loads((tmp_path / "forecast-model" / "forecast.json").read_text())
    assert card["data"]["aggregate"] == "mean" and card["data"]["freq"] == "h"
    assert cli("predict", "--steps", 3).exit_code == 0  # reloads the file the same way
    forecast = pd.read_csv(tmp_path / "forecast.csv", parse_dates=["timestamp"])
    last = frame["timestamp"].iloc[-1]
    assert list(forecast["timestamp"]) == list(pd.date_range(last, periods=4, freq="h")[1:])


def test_a_semicolon_decimal_comma_file_piped_through_standard_input(cli, tmp_path):
    """``-`` reads the data from stdin, for train and then for predict."""
    text = sine_frame(rows=80).to_csv(index=False, sep=";", decimal=",")
    train = ["train", "-", "--layers", "rnn:2", "--epochs", 1, "--lookback", 5, "--horizon", 2]
    trained = cli(*train, "--anchor", "none", input=text)
    assert trained.exit_code == 0, trained.output
    assert "- (80 rows, time column 'timestamp', frequency h)" in flat(trained.output)
    predicted = cli("predict", "--steps", 3, "--no-plot", input=text)
    assert predicted.exit_code == 0, predicted.output
    assert len(pd.read_csv(tmp_path / "forecast.csv")) == 3


def test_a_control_character_quoted_from_the_data_stays_on_the_error_line(cli, write_csv):
    line = error_line(cli("train", write_csv("ff.csv", "value\n\x0c\n1\n")))
    assert "line 2 holds '\\x0c'" in line


@pytest.mark.slow
def test_several_targets_go_through_every_command(cli, write_csv, tmp_path):
    """Wide format: two target columns forecast together by train, predict, backtest and
    compare."""
    frame = sine_frame()
    frame["other"] = np.cos(np.arange(len(frame)) / 4)
    data = write_csv("wide.csv", frame)
    both = ["--target", "value", "--target", "other", "--layers", "lstm:3", "--epochs", 1]
    assert cli("train", data, *both).exit_code == 0
    assert cli("predict", "--steps", 4, "--no-plot").exit_code == 0
    assert list(pd.read_csv(tmp_path / "forecast.csv").columns) == ["timestamp", "value", "other"]
    assert cli("backtest", data, *both, "--folds", 1, "--steps", 4).exit_code == 0
    assert set(pd.read_csv(tmp_path / "backtest.csv")["method"]) == {
        "model",
        "network alone",  # without the statistical models it is averaged with
        "naive",
        "seasonal naive",
        "AutoETS",
        "AutoTheta",
    }
    assert cli("compare", data, *both, "--steps", 4).exit_code == 0
    forecasts = pd.read_csv(tmp_path / "comparison" / "forecasts.csv")
    assert {"lstm:3 value", "lstm:3 other", "naive other"} <= set(forecasts.columns)
