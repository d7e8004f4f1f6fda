"""Extra inputs: --features (known up to now) and --future-features (known ahead)."""

import json

import numpy as np
import pandas as pd
import pytest
from conftest import error_line

from forecast_cli.config import DataConfig, Windows
from forecast_cli.loading import load_series
from forecast_cli.pipeline import prepare_part
from forecast_cli.windows import lead

FLAGS = ["--target", "sales", "--layers", "lstm:16", "--lookback", 8, "--horizon", 4]
FLAGS += ["--anchor", "none"]


def promo_frame(rows: int = 400) -> pd.DataFrame:
    """Daily sales that jump by 5 on promotion days, which are planned ahead."""
    rng = np.random.default_rng(0)
    promo = (rng.random(rows) < 0.3).astype(float)
    return pd.DataFrame(
        {
            "date": pd.date_range("2026-01-01", periods=rows, freq="D"),
            "promo": promo,
            "sales": 10 + 5 * promo + rng.normal(0, 0.3, rows),
        }
    )


@pytest.fixture
def promo_csv(write_csv):
    return write_csv("promo.csv", promo_frame())


def test_lead_moves_the_known_columns_a_horizon_earlier():
    values = np.arange(12, dtype=np.float32).reshape(6, 2)
    led = lead(values, slice(1, 2), 2)
    np.testing.assert_array_equal(led[:, 0], values[:, 0])
    np.testing.assert_array_equal(led[:4, 1], values[2:, 1])
    assert np.isnan(led[4:, 1]).all()
    assert lead(values, slice(2, 2), 2) is values  # nothing known ahead: untouched


def test_each_window_reads_the_future_features_of_the_steps_it_forecasts(promo_csv):
    series = load_series(promo_csv, DataConfig(targets=("sales",), future_features=("promo",)))
    assert series.columns == ("sales", "promo") and series.known_ahead == slice(1, 2)
    part = prepare_part(series, Windows(lookback=8, horizon=4))
    (inputs, targets), scaler = part.train, part.scaler
    promo = scaler.transform(series.values)[:, 1]
    starts = np.arange(len(inputs))
    # The last 4 rows of window i hold the promotions of its 4 target rows i+8 .. i+11.
    np.testing.assert_allclose(inputs[:, -4:, 1], promo[starts[:, None] + 8 + np.arange(4)])
    np.testing.assert_allclose(
        targets[:, :, 0], scaler.transform(series.values)[8:][starts[:, None] + np.arange(4), 0]
    )
    assert not np.isnan(inputs).any() and not np.isnan(part.val[0]).any()


def test_a_network_that_knows_the_promotions_ahead_forecasts_them(cli, promo_csv, tmp_path):
    rmse = {}
    for kind in ("--features", "--future-features"):
        result = cli("train", promo_csv, *FLAGS, kind, "promo", "--epochs", 60, "--json")
        assert result.exit_code == 0, result.output
        rmse[kind] = json.loads(result.stdout.strip().splitlines()[-1])["val_rmse"]
    # Known only up to now, a promotion cannot be foreseen: the error is its spread (2.3).
    assert rmse["--features"] > 2.0
    assert rmse["--future-features"] < 0.6 * rmse["--features"]


def test_predict_takes_the_future_features_from_future_data(cli, promo_csv, write_csv, tmp_path):
    card_flags = [*FLAGS, "--future-features", "promo", "--epochs", 100]
    assert cli("train", promo_csv, *card_flags).exit_code == 0
    card = json.loads((tmp_path / "forecast-model" / "forecast.json").read_text())
    assert card["data"]["future_features"] == ["promo"] and card["data"]["features"] == []
    missing = error_line(cli("predict", "--steps", 6))
    assert "pass --future-data FILE with columns promo for the next 8 step(s)." in missing
    plan = [1.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 0.0]
    short = write_csv("short.csv", pd.DataFrame({"promo": plan[:6]}))
    line = error_line(cli("predict", "--steps", 6, "--future-data", short))
    assert line.endswith(
        "has 6 rows; forecasting 6 steps needs the future features for 8 step(s) after the "
        "data's end (the network reads them 4 at a time)."
    )
    future = write_csv("plan.csv", pd.DataFrame({"promo": plan}))
    result = cli("predict", "--steps", 6, "--future-data", future, "--no-plot")
    assert result.exit_code == 0, result.output
    sales = pd.read_csv(tmp_path / "forecast.csv")["sales"].to_numpy()
    promoted = np.array(plan[:6]) == 1
    # Past the horizon of 4 too, the forecast follows the plan: about 15 on promotion days.
    assert sales[promoted].min() > sales[~promoted].max() + 2


def test_features_known_only_up_to_now_stop_at_the_horizon(cli, promo_csv):
    assert cli("train", promo_csv, *FLAGS, "--features", "promo", "--epochs", 1).exit_code == 0
    assert cli("predict", "--steps", 4, "--no-plot").exit_code == 0
    assert error_line(cli("predict", "--steps", 6)) == (
        "Error: This model reads --features promo, known only up to the data's end, so it "
        "forecasts at most its --horizon of 4 step(s): use --steps 4, or retrain with "
        "--horizon 6, or with --future-features for columns whose future values you know."
    )
    backtest = cli("backtest", promo_csv, *FLAGS, "--features", "promo", "--steps", 6)
    assert "--features promo are known only up to each cut-off" in error_line(backtest)


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (
            ["--features", "promo", "--future-features", "promo"],
            "Column 'promo' is in both --features (known up to now) and --future-features",
        ),
        (
            ["--future-features", "promo", "--steps", 6],
            "each fold needs them for 8 rows after its cut-off, more than the last fold has "
            "(--steps 6): make --steps a multiple of --horizon.",
        ),
    ],
)
def test_backtest_refuses_inputs_it_cannot_know(cli, promo_csv, flags, message):
    assert message in error_line(cli("backtest", promo_csv, *FLAGS, *flags))
