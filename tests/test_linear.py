"""The linear anchor: its closed-form fit, its place in the network, and the CLI flag."""

import json

import numpy as np
import pandas as pd
import pytest
from conftest import flat
from test_anchor import resolve, series

from forecast_cli.artifacts import CARD_FILE, load_model_dir
from forecast_cli.config import Anchor, ModelConfig, Scale, Windows, parse_layers
from forecast_cli.linear import PENALTIES, _fit_span, base_rows, fit_linear_anchor, spans
from forecast_cli.network import final_step
from forecast_cli.pipeline import build_network, prepare
from forecast_cli.windows import make_windows

RNG = np.random.default_rng(11)


def windows_of(values: np.ndarray, lookback: int, horizon: int):
    return make_windows(values[:, None].astype(np.float32), lookback, horizon, 1)


def linear_forecast(fitted, inputs: np.ndarray, period: int) -> np.ndarray:
    """What the Anchored layer computes, in numpy: base + regression's change."""
    window = inputs[:, :, 0]
    horizon = fitted.bias.shape[1]
    base = window[:, base_rows(window.shape[1], horizon, period)]
    return base + (window - window[:, -1:]) @ fitted.kernel[0] + fitted.bias[0]


def test_the_regression_continues_a_trend_the_last_value_would_flatten():
    trend = 0.5 * np.arange(200) + RNG.normal(0, 0.05, 200)
    inputs, targets = windows_of(trend, 12, 6)
    fitted = fit_linear_anchor([(inputs[:150], targets[:150])], 1, period=1)
    forecast = linear_forecast(fitted, inputs[150:], 1)
    error = np.abs(forecast - targets[150:, :, 0]).mean()
    flat = np.abs(inputs[150:, -1:, 0] - targets[150:, :, 0]).mean()
    assert error < 0.1 < 1.0 < flat  # the last value misses by 1.75 on average


def test_on_a_noisy_season_it_averages_seasons_rather_than_repeat_the_last():
    # White noise around a fixed season: the best linear forecast averages the window's
    # seasons, which seasonal naive (the base) cannot.
    season = np.tile([0.0, 3.0, 1.0, -2.0], 60) + RNG.normal(0, 0.3, 240)
    inputs, targets = windows_of(season, 8, 4)
    fitted = fit_linear_anchor([(inputs[:180], targets[:180])], 1, period=4)
    later, actual = inputs[180:], targets[180:, :, 0]
    error = np.abs(linear_forecast(fitted, later, 4) - actual).mean()
    repeated = np.abs(later[:, base_rows(8, 4, 4), 0] - actual).mean()
    assert error < 0.9 * repeated


def test_the_penalty_is_the_largest_when_a_series_has_too_few_windows_to_hold_out():
    inputs, targets = windows_of(np.arange(10.0), 8, 2)
    assert len(inputs) == 1
    assert fit_linear_anchor([(inputs, targets)], 1, 1).penalties == ((PENALTIES[-1],) * 2,)


def test_the_anchor_is_the_mean_of_a_last_season_and_a_whole_window_regression():
    season = np.tile([0.0, 3.0, 1.0, -2.0], 40) + 0.02 * np.arange(160) + RNG.normal(0, 0.3, 160)
    inputs, targets = windows_of(season, 12, 4)
    assert spans(12, 4) == [4, 12] and spans(12, 1) == [2, 12] and spans(8, 24) == [8]
    both = fit_linear_anchor([(inputs, targets)], 1, period=4)
    short = fit_linear_anchor([(inputs[:, -4:], targets)], 1, period=4)  # the last season only
    whole, whole_bias, _ = _fit_span([(inputs[..., 0], targets[..., 0])], base_rows(12, 4, 4), 12)
    padded = np.concatenate([np.zeros((8, 4)), short.kernel[0]])
    np.testing.assert_allclose(both.kernel[0], (padded + whole) / 2, atol=1e-6)
    np.testing.assert_allclose(both.bias[0], (short.bias[0] + whole_bias) / 2, atol=1e-6)
    assert np.abs(whole[:8]).max() > 0.01  # the whole window's regression reads older rows


@pytest.fixture(scope="module")
def trended():
    values = np.linspace(0, 30, 120) + np.tile([0.0, 2.0, -1.0, 1.0], 30) + RNG.normal(0, 0.2, 120)
    return prepare((series("QS", values),), Windows(8, 4, 0.2, Scale.STANDARD, 4))


def test_the_fit_never_sees_the_validation_tail(trended):
    config = ModelConfig(parse_layers("lstm:3"), anchor=Anchor.LINEAR, season=4)
    before = build_network(config, trended, seed=1).get_layer("anchored").get_weights()
    part = trended.parts[0]
    changed = part.series.values.copy()
    changed[part.split.train_rows :] += 100.0  # the validation rows only
    shifted = series("QS", changed[:, 0])
    after = prepare((shifted,), trended.windows)
    np.testing.assert_array_equal(after.train[0], trended.train[0])
    weights = build_network(config, after, seed=1).get_layer("anchored").get_weights()
    for old, new in zip(before, weights, strict=True):
        np.testing.assert_array_equal(old, new)


def test_an_untrained_linear_network_is_its_regression_and_survives_saving(trended, tmp_path):
    config = ModelConfig(parse_layers("bigru:3"), anchor=Anchor.LINEAR, season=4)
    model = build_network(config, trended, seed=1)
    inputs, targets = trended.val
    fitted = fit_linear_anchor([part.train for part in trended.parts], 1, 4)
    assert trended.linear_anchor(4) is trended.linear_anchor(4)  # fitted once per period
    np.testing.assert_array_equal(trended.linear_anchor(4).kernel, fitted.kernel)
    expected = linear_forecast(fitted, inputs, 4)
    output = final_step(np.asarray(model(inputs)), config.head)[..., 0]
    np.testing.assert_allclose(output, expected, atol=1e-5)
    assert (
        np.abs(expected - targets[..., 0]).mean()
        < 0.5 * np.abs(inputs[:, base_rows(8, 4, 4), 0] - targets[..., 0]).mean()
    )  # the regression halves seasonal naive's error on this trended season
    path = tmp_path / "model.keras"
    model.save(path)
    import keras

    loaded = keras.saving.load_model(path)
    np.testing.assert_allclose(np.asarray(loaded(inputs)), np.asarray(model(inputs)), atol=1e-6)


def test_resolve_takes_autos_base_and_drops_a_season_longer_than_the_window():
    daily = np.sin(2 * np.pi * np.arange(400) / 24) + RNG.normal(0, 0.1, 400)
    window, model, notes = resolve("h", anchor=Anchor.LINEAR, values=daily)
    assert (model.anchor, model.season, window.lookback, window.season) == (
        Anchor.LINEAR,
        24,
        24,
        24,
    )
    assert notes == ["Anchor: linear, from the season of 24 steps (season 24 of frequency h)."]
    window, model, notes = resolve("h", lookback=8, anchor=Anchor.LINEAR, values=daily)
    assert (model.anchor, model.season, window.lookback) == (Anchor.LINEAR, 1, 8)
    assert notes[0].startswith("Anchor: linear, from the last value")


def test_train_and_predict_with_the_linear_anchor(cli, write_csv, tmp_path):
    # A short trended quarterly series, the kind on which the last value falls behind.
    rows = 60
    values = 100 + 2.0 * np.arange(rows) + np.tile([3.0, -1.0, -4.0, 2.0], 15)
    frame = pd.DataFrame(
        {"date": pd.date_range("2010-01-01", periods=rows, freq="QS"), "gdp": values}
    )
    path = write_csv("gdp.csv", frame)
    result = cli("train", path, "--anchor", "linear", "--layers", "lstm:4", "--epochs", 2)
    assert result.exit_code == 0, result.output
    assert "Anchor: linear, from the season of 4 steps" in flat(result.output)
    card = json.loads((tmp_path / "forecast-model" / CARD_FILE).read_text())
    assert (card["model"]["anchor"], card["model"]["season"]) == ("linear", 4)
    assert (
        card["metrics"]["val_mase"]
        < 0.2 * card["metrics"]["baselines"]["seasonal naive"]["val_mase"]
    )
    assert load_model_dir(tmp_path / "forecast-model")  # loads in safe mode
    forecast = cli("predict", "--steps", 8, "--out", "f.csv")
    assert forecast.exit_code == 0, forecast.output
    ahead = pd.read_csv(tmp_path / "f.csv")["gdp"].to_numpy()
    assert np.all(np.diff(ahead[::4]) > 5)  # the trend goes on, year on year (+8 a year)
