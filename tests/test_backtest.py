"""``forecast backtest``: fold cut-offs, no peeking past them, MASE, and the command."""

import json

import numpy as np
import pandas as pd
import pytest
from conftest import FAST, error_line, flat, sine_frame, tensorboard_losses

from forecast_cli.backtest_run import _fold, _Settings, cutoffs
from forecast_cli.config import DataConfig, ModelConfig, TrainConfig, Windows, parse_layers
from forecast_cli.loading import load_series
from forecast_cli.metrics import mase

NAIVE_ONES = ["--baselines", "naive,snaive"]  # checked by hand here; the others elsewhere


def test_cutoffs_are_consecutive_blocks_at_the_end():
    assert cutoffs(100, folds=3, steps=5) == [85, 90, 95]
    assert cutoffs(100, folds=1, steps=10) == [90]


def test_a_fold_never_sees_the_rows_after_its_cutoff(sine_csv, write_csv):
    """Garbage after the cut-off changes nothing the fold produces but its truth."""
    clean = load_series(sine_csv, DataConfig())
    frame = sine_frame()
    frame.loc[130:, "value"] = 1e6
    spoiled = load_series(write_csv("spoiled.csv", frame), DataConfig())
    window = Windows(lookback=8, horizon=2)  # rolled forward to 5 steps
    model = ModelConfig(parse_layers("lstm:4"))
    training = TrainConfig(epochs=2, batch_size=16)
    settings = _Settings(window, model, training, steps=5, season=20, levels=(80,))
    folds = [_fold(1, (series,), [130], settings, None, None)[0] for series in (clean, spoiled)]
    for method in folds[0].forecasts:
        np.testing.assert_array_equal(folds[0].forecasts[method], folds[1].forecasts[method])
    np.testing.assert_array_equal(folds[0].history, folds[1].history)
    np.testing.assert_array_equal(folds[0].widths[80], folds[1].widths[80])
    assert folds[1].actual.min() == 1e6


def test_mase_on_hand_computed_values():
    history = np.array([1.0, 2.0, 1.0, 2.0, 1.0, 3.0])
    # in-sample naive (season 1) errors: 1, 1, 1, 1, 2 -> scale 1.2; season 2: 0, 0, 0, 1 -> 0.25
    actual, predicted = np.array([2.0, 2.0]), np.array([1.4, 2.0])
    assert mase(actual, predicted, history, 1) == pytest.approx(0.3 / 1.2)
    assert mase(actual, predicted, history, 2) == pytest.approx(0.3 / 0.25)


def test_backtest_command_scores_every_fold_against_both_baselines(cli, sine_csv, tmp_path):
    flags = ["--folds", 3, "--steps", 4, "--season", 20, "--jobs", 1, *NAIVE_ONES]
    result = cli("backtest", sine_csv, *flags, *FAST, "--json")
    assert result.exit_code == 0, result.output
    table = pd.read_csv(tmp_path / "backtest.csv")
    assert list(table.columns) == [
        "fold",
        "cutoff",
        "method",
        "mae",
        "rmse",
        "smape",
        "mase",
        "coverage_80",
        "coverage_95",
    ]
    model_rows = table[table["method"] == "model"]
    assert model_rows["coverage_80"].between(0, 100).all()
    assert (model_rows["coverage_95"] >= model_rows["coverage_80"]).all()
    assert table[table["method"] != "model"]["coverage_80"].isna().all()
    # model, network alone (without the statistical models it is averaged with), naive,
    # seasonal naive
    assert table["fold"].astype(str).tolist() == ["1"] * 4 + ["2"] * 4 + ["3"] * 4 + ["all"] * 4
    assert table["cutoff"].dropna().astype(int).unique().tolist() == [149, 153, 157]
    values = sine_frame()["value"].to_numpy()
    naive = table[(table["method"] == "naive") & (table["fold"] == "1")].iloc[0]
    assert naive["mae"] == pytest.approx(np.mean(np.abs(values[148:152] - values[147])), rel=1e-5)
    assert (tmp_path / "backtest.png").read_bytes()[:4] == b"\x89PNG"
    payload = json.loads(result.stdout.splitlines()[-1])
    assert payload["season"] == 20 and len(payload["scores"]) == 16


def test_fine_tuning_continues_from_the_previous_fold(cli, sine_csv, tmp_path):
    retrain = cli(
        "backtest", sine_csv, "--folds", 2, "--steps", 4, *FAST, "--jobs", 1, "--out", "a.csv"
    )
    tuned = cli(
        "backtest",
        sine_csv,
        "--folds",
        2,
        "--steps",
        4,
        *FAST,
        "--refit",
        "fine-tune",
        "--out",
        "b.csv",
    )
    assert retrain.exit_code == tuned.exit_code == 0
    a, b = pd.read_csv(tmp_path / "a.csv"), pd.read_csv(tmp_path / "b.csv")
    model = (a["method"] == "model") & (a["fold"] == "1")
    assert a[model]["mae"].item() == pytest.approx(b[model]["mae"].item())  # same first fold
    later = (a["method"] == "model") & (a["fold"] == "2")
    assert a[later]["mae"].item() != pytest.approx(b[later]["mae"].item())


@pytest.mark.slow
def test_folds_in_worker_processes_score_as_folds_in_turn(cli, sine_csv, tmp_path):
    """...and log the same losses per fold in TensorBoard."""
    flags = ["--folds", 2, "--steps", 4, *FAST]
    runs = {
        jobs: cli(
            "backtest", sine_csv, *flags, "--jobs", jobs, "--out", f"{jobs}.csv",
            "--tensorboard", f"tb{jobs}",
        )
        for jobs in (1, 2)
    }  # fmt: skip
    assert runs[1].exit_code == runs[2].exit_code == 0, runs[2].output
    assert "retrain, 2 folds at a time" in flat(runs[2].output)
    assert "at a time" not in runs[1].output
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "1.csv"), pd.read_csv(tmp_path / "2.csv"))
    for fold in ("fold_1", "fold_2"):
        for split in ("train", "validation"):
            alone, parallel = (
                tensorboard_losses(tmp_path / tb / fold / "network" / split)
                for tb in ("tb1", "tb2")
            )
            assert list(alone) == list(parallel) == [1, 2]
            np.testing.assert_allclose(list(parallel.values()), list(alone.values()), rtol=1e-6)
    tuned = cli("backtest", sine_csv, *flags, "--refit", "fine-tune", "--jobs", 2)
    assert "folds train one after another: leave out --jobs" in error_line(tuned)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["backtest", "--folds", 30, "--steps", 5],
            "With --folds 30 and --steps 5 the first fold trains on the 10 rows before its "
            "cut-off, and windows of --lookback 20 need 27: use --folds 26 or fewer, or --steps "
            "4 or less.",
        ),
        (
            ["backtest", "--horizon", 100],
            "With --folds 5 and --steps 10 the first fold trains on the 110 rows before its "
            "cut-off. The series has 110 rows, too few for --lookback 20, --horizon 100 and "
            "--val-fraction 0.2: they need at least 220 rows. Use --horizon 45 or less, or a "
            "longer series.",
        ),
        (
            ["train", "--horizon", 100],
            "The series has 160 rows, too few for --lookback 20, --horizon 100 and "
            "--val-fraction 0.2: they need at least 220 rows. Use --horizon 70 or less, or a "
            "longer series.",
        ),
    ],
)
def test_too_few_rows_name_the_flag_that_fixes_it(cli, sine_csv, args, message):
    command, *flags = args
    assert error_line(cli(command, sine_csv, *flags)) == f"Error: {message}"


def test_one_fold_still_has_an_all_row_and_json_has_no_nan(cli, sine_csv, tmp_path):
    flags = ["--folds", 1, "--steps", 4, "--season", 20, *NAIVE_ONES]
    result = cli("backtest", sine_csv, *flags, *FAST, "--json")
    assert result.exit_code == 0, result.output
    table = pd.read_csv(tmp_path / "backtest.csv")
    assert table["fold"].astype(str).tolist() == ["1"] * 4 + ["all"] * 4
    line = result.stdout.splitlines()[-1]
    assert "NaN" not in line
    scores = json.loads(line)["scores"]
    assert scores[2]["method"] == "naive" and scores[2]["coverage_80"] is None


def test_a_season_longer_than_the_first_fold_is_refused(cli, sine_csv):
    message = error_line(
        cli("backtest", sine_csv, "--folds", 2, "--steps", 4, "--season", 155, *FAST)
    )
    assert message.startswith(
        "Error: --season 155 is not shorter than the 152 rows the first fold knows"
    )


def test_rolled_folds_read_future_features_from_the_data(cli, write_csv, tmp_path):
    """A future feature's values after the cut-off come from the data, as predict takes
    them from --future-data: changing them changes the forecast."""
    frame = sine_frame()
    frame["load"] = np.cos(np.arange(len(frame)) / 5)
    write_csv("a.csv", frame)
    frame.loc[len(frame) - 3 :, "load"] = 50.0
    write_csv("b.csv", frame)
    flags = ["--target", "value", "--future-features", "load", "--folds", 1, "--steps", 6, *FAST]
    flags += ["--horizon", 2, "--anchor", "none"]  # the linear anchor reads the target only
    for name in ("a", "b"):
        result = cli("backtest", tmp_path / f"{name}.csv", *flags, "--out", f"{name}-scores.csv")
        assert result.exit_code == 0, result.output
    a, b = (pd.read_csv(tmp_path / f"{name}-scores.csv") for name in ("a", "b"))
    model = a["method"] == "model"
    assert a[model]["mae"].iloc[0] != pytest.approx(b[model]["mae"].iloc[0])
    naive = a["method"] == "naive"
    assert a[naive]["mae"].iloc[0] == pytest.approx(b[naive]["mae"].iloc[0])
