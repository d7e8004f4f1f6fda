"""--calendar: cyclic encodings of the position in the day, week and year."""

import numpy as np
import pandas as pd
import pytest
from conftest import sine_frame

from forecast_cli.artifacts import load_model_dir
from forecast_cli.calendar_features import calendar_names, calendar_values
from forecast_cli.config import DataConfig
from forecast_cli.errors import ForecastError
from forecast_cli.forecasting import after_end
from forecast_cli.loading import load_series


def test_encodings_on_hand_computed_times():
    # Monday 1 January 2024 (a leap year) at midnight, then 06:00 the same day.
    times = pd.DatetimeIndex(["2024-01-01 00:00", "2024-01-01 06:00", "2024-01-01 12:00"])
    names = calendar_names(times)
    assert names == ("day_sin", "day_cos", "week_sin", "week_cos", "year_sin", "year_cos")
    values = calendar_values(times, names)
    np.testing.assert_allclose(values[0], [0, 1, 0, 1, 0, 1], atol=1e-6)
    quarter_week = 2 * np.pi * 0.25 / 7  # 06:00 on Monday is a quarter of a day in
    np.testing.assert_allclose(
        values[1][:4], [1, 0, np.sin(quarter_week), np.cos(quarter_week)], atol=1e-6
    )
    year = 2 * np.pi * 0.25 / 366
    np.testing.assert_allclose(values[1][4:], [np.sin(year), np.cos(year)], atol=1e-6)


@pytest.mark.parametrize(
    ("freq", "cycles"),
    [("h", ["day", "week", "year"]), ("D", ["week", "year"]), ("MS", ["year"]), ("YS", [])],
)
def test_only_cycles_longer_than_the_step_are_used(freq, cycles):
    names = calendar_names(pd.date_range("2026-01-01", periods=4, freq=freq))
    assert names == tuple(f"{c}_{p}" for c in cycles for p in ("sin", "cos"))


def test_calendar_needs_a_regular_time_column(write_csv):
    with pytest.raises(ForecastError, match="--calendar needs a time column"):
        load_series(write_csv("v.csv", "value\n1\n2\n3\n"), DataConfig(calendar=True))


def test_train_then_predict_past_the_horizon_with_no_future_data(cli, sine_csv, tmp_path):
    flags = ["--calendar", "--layers", "lstm:4", "--epochs", 1, "--horizon", 2, "--lookback", 8]
    trained = cli("train", sine_csv, *flags, "--anchor", "none")
    assert trained.exit_code == 0, trained.output
    assert "inputs value, day_sin, day_cos, week_sin, week_cos, year_sin, year_cos" in " ".join(
        trained.output.split()
    )
    _, card = load_model_dir(tmp_path / "forecast-model")
    series = load_series(sine_csv, card.data)
    # The roll is fed the encodings of the steps after the data's end, scaled.
    # three calls of 2 steps: the rows appended after the first two
    end = len(series.values)
    fed = card.scalers[None].transform(after_end(series, None, 6))[end : end + 4, 1:]
    after = pd.date_range(sine_frame()["timestamp"].iloc[-1], periods=5, freq="h")[1:]
    expected = card.scalers[None].transform(calendar_values(after, series.calendar), first=1)
    np.testing.assert_allclose(fed, expected, rtol=1e-6)
    predicted = cli("predict", "--steps", 5, "--no-plot")
    assert predicted.exit_code == 0, predicted.output
    assert len(pd.read_csv(tmp_path / "forecast.csv")) == 5
