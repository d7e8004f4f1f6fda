"""The network's forecast averaged with statistical models: the choice on validation, the
mean, the card, predict and its intervals, and the backtest's network-alone row."""

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest
from conftest import FAST, flat
from test_anchor import series

from forecast_cli import api, combination
from forecast_cli.artifacts import CARD_FILE
from forecast_cli.combination import AHEAD, LONGEST_ARIMA_SEASON, choose, combined, pool
from forecast_cli.config import Baseline, Combine, Scale, Windows
from forecast_cli.forecasting import Origins
from forecast_cli.pipeline import combine, prepare
from forecast_cli.scaling import Scaler
from forecast_cli.statistical import statistical

ETS, THETA, ARIMA = Baseline.ETS, Baseline.THETA, Baseline.ARIMA
RNG = np.random.default_rng(21)


def monthly(rows: int = 120, noise: float = 0.3, seed: int = 0) -> np.ndarray:
    """A trended yearly season with noise: what ETS is made for."""
    rng = np.random.default_rng(seed)
    steps = np.arange(rows)
    return 10 + 0.05 * steps + 2 * np.sin(2 * np.pi * steps / 12) + rng.normal(0, noise, rows)


def test_autoarima_joins_the_pool_only_on_seasons_it_fits_in_seconds():
    assert pool(LONGEST_ARIMA_SEASON) == (ETS, THETA, ARIMA)
    assert pool(None) == (ETS, THETA, ARIMA)  # no season: a non-seasonal ARIMA
    assert pool(LONGEST_ARIMA_SEASON + 1) == (ETS, THETA)


def test_choose_takes_the_subset_whose_mean_is_closest_and_the_network_alone_on_a_tie():
    actual = RNG.normal(0, 1, (10, 4, 1))
    others = {ETS: actual - 1.0, THETA: actual + 3.0, ARIMA: actual - 3.0}
    assert choose(actual + 1.0, others, actual) == (ETS,)  # their mean is the truth
    assert choose(actual + 4.0, others, actual) == (ETS, ARIMA)  # (4 - 1 - 3) / 3 = 0
    assert choose(actual.copy(), others, actual) == ()  # any mean would add error
    assert choose(actual + 1.0, {ETS: actual + 1.0}, actual) == ()  # a tie: the network


def test_combined_averages_with_the_models_fitted_before_the_first_origin():
    values = monthly(100)[:, None].astype(np.float32)
    source = Origins(values, Scaler.fit(Scale.NONE, values), np.array([80, 85]))
    network = [np.zeros((2, 6, 1), dtype=np.float32)]
    (forecast,), notes = combined(network, [source], [(ETS, THETA)], 6, 12, 1)
    expected = sum(statistical(m, values, np.array([80, 85]), 6, 12) for m in (ETS, THETA)) / 3
    np.testing.assert_allclose(forecast, expected, rtol=1e-6)
    assert notes == []
    # the forecast from row 85 reads no row after it
    later = values.copy()
    later[85:] += 100
    moved = Origins(later, source.scaler, np.array([80, 85]))
    (again,), _ = combined(network, [moved], [(ETS, THETA)], 6, 12, 1)
    np.testing.assert_allclose(again, forecast, rtol=1e-6)
    # one series alone, or with its network's forecast: nothing is fitted
    (alone,), _ = combined(network, [source], [()], 6, 12, 1)
    assert alone is network[0]


def test_a_model_that_cannot_be_fitted_is_left_out_and_said():
    values = np.array([[1.0], [2.0], [1.5], [2.5], [2.0], [3.0]], dtype=np.float32)
    source = Origins(values, Scaler.fit(Scale.NONE, values), np.array([4]))
    network = [np.full((1, 2, 1), 7.0, dtype=np.float32)]
    (forecast,), notes = combined(network, [source], [(ETS,)], 2, 1, 1)  # ETS: 4 rows
    np.testing.assert_array_equal(forecast, network[0])
    assert notes == [
        "AutoETS could not be fitted on 1 series: their forecast is the network's without it."
    ]


@pytest.fixture(scope="module")
def two_series():
    """Two monthly series prepared together, and their validation truth."""
    panel = tuple(
        dataclasses.replace(series("MS", monthly(120, seed=seed)), name=name, id_col="id")
        for seed, name in ((1, "a"), (2, "b"))
    )
    return prepare(panel, Windows(12, 6, 0.2, Scale.STANDARD, 12))


def test_validation_chooses_per_series_and_scores_what_it_chose(two_series):
    prepared = two_series
    truth = prepared.val_actual
    first = len(prepared.parts[0].val_actual)
    network = truth.copy()
    network[first:] += 5.0  # perfect on series a, far off on series b
    chosen, forecast, note = combine(prepared, network, Combine.AUTO)
    assert chosen[0] == () and chosen[1]
    np.testing.assert_array_equal(forecast[:first], network[:first])
    fits = [prepared.val_fitted(m)[1] for m in chosen[1]]
    np.testing.assert_allclose(forecast[first:], np.mean([network[first:], *fits], axis=0))
    assert prepared.val_fitted(ETS) is prepared.val_fitted(ETS)  # fitted once
    counts = ", ".join(f"{m.title} in 1" for m in chosen[1])
    assert note == (
        "Forecast: per series the mean of the network and whichever of AutoETS, AutoTheta or "
        f"AutoARIMA beat it on that series' validation windows: {counts} of 2 series, the "
        "network alone in 1 (--combine none keeps the network alone)."
    )
    nothing, same, said = combine(prepared, network, Combine.NONE)
    assert nothing == ((), ()) and same is network and said is None


@pytest.fixture
def seasonal_csv(write_csv):
    rows = 96
    frame = pd.DataFrame(
        {"date": pd.date_range("2015-01-01", periods=rows, freq="MS"), "sales": monthly(rows)}
    )
    return write_csv("sales.csv", frame)


def test_train_keeps_the_choice_and_predict_averages_the_models_fitted_on_the_data(
    cli, seasonal_csv, tmp_path
):
    # A window of 8 months cannot see the yearly season that ETS models: it helps.
    trained = cli("train", seasonal_csv, *FAST, "--json")
    assert trained.exit_code == 0, trained.output
    summary = json.loads(trained.stdout)
    card_path = tmp_path / "forecast-model" / CARD_FILE
    card = json.loads(card_path.read_text())
    assert card["model"]["combine"] == "auto"
    chosen = [Baseline(m) for m in card["combination"]]
    assert chosen and summary["combined_with"] == [m.title for m in chosen]
    assert (
        summary["val_mase"]
        < summary["network"]["val_mase"]
        == card["metrics"]["network"]["val_mase"]
    )
    steps, flags = 8, ["--intervals", 80, "--no-plot"]
    predicted = cli("predict", "--steps", steps, "--out", "mixed.csv", *flags)
    assert predicted.exit_code == 0, predicted.output
    named = " + ".join(["lstm:4", *(m.title for m in chosen)])  # the title says what it averages
    assert f"Forecast: next {steps} steps ({named})" in flat(predicted.output)
    card["combination"] = []  # the same network, alone
    card_path.write_text(json.dumps(card))
    assert cli("predict", "--steps", steps, "--out", "alone.csv", *flags).exit_code == 0
    frames = [pd.read_csv(tmp_path / f) for f in ("mixed.csv", "alone.csv")]
    mixed, alone = (frame["sales"].to_numpy() for frame in frames)
    # the intervals' widths do not depend on the combination; they centre on its forecast
    for frame in frames:
        frame["width"] = frame["sales_upper_80"] - frame["sales_lower_80"]
    np.testing.assert_allclose(frames[0]["width"], frames[1]["width"], rtol=1e-5)
    assert np.allclose(frames[0]["sales_upper_80"] - mixed, frames[0]["width"] / 2, rtol=1e-4)
    values = pd.read_csv(seasonal_csv)["sales"].to_numpy(dtype=np.float32)[:, None]
    fitted = [statistical(m, values, np.array([len(values)]), steps, 12)[0, :, 0] for m in chosen]
    np.testing.assert_allclose(mixed, np.mean([alone, *fitted], axis=0), rtol=1e-5)


def test_predict_reads_the_models_forecasts_that_train_kept_while_the_data_is_the_same(
    cli, seasonal_csv, tmp_path, monkeypatch
):
    assert cli("train", seasonal_csv, *FAST).exit_code == 0
    card_path = tmp_path / "forecast-model" / CARD_FILE
    saved = card_path.read_text()
    card = json.loads(saved)
    kept = card["statistical_forecasts"]
    assert card["combination"] and set(kept) == set(card["combination"])
    assert all(np.shape(forecast) == (AHEAD, 1) for forecast in kept.values())
    fits = []
    monkeypatch.setattr(combination, "statistical", lambda *a: fits.append(a) or statistical(*a))

    def predict(steps: int, out: str) -> pd.DataFrame:
        assert cli("predict", "--steps", steps, "--out", out, "--no-plot").exit_code == 0
        return pd.read_csv(tmp_path / out)

    read = predict(AHEAD, "kept.csv")
    assert fits == []
    del card["statistical_forecasts"]  # a card without them: predict fits the models
    card_path.write_text(json.dumps(card))
    pd.testing.assert_frame_equal(predict(AHEAD, "fitted.csv"), read)
    assert len(fits) == len(card["combination"])
    card_path.write_text(saved)
    predict(AHEAD + 1, "longer.csv")  # more steps than kept: fitted again
    assert len(fits) == 2 * len(card["combination"])
    frame = pd.read_csv(seasonal_csv)
    frame.loc[len(frame) - 1, "sales"] += 100.0  # the data changed since training
    frame.to_csv(seasonal_csv, index=False)
    assert predict(5, "changed.csv")["sales"].iloc[0] != read["sales"].iloc[0]
    assert len(fits) == 3 * len(card["combination"])


def test_combine_none_keeps_the_network_alone(cli, seasonal_csv, tmp_path):
    result = cli("train", seasonal_csv, *FAST, "--combine", "none")
    assert result.exit_code == 0, result.output
    card = json.loads((tmp_path / "forecast-model" / CARD_FILE).read_text())
    assert (card["model"]["combine"], card["combination"]) == ("none", [])
    assert "network" not in card["metrics"] and "Forecast:" not in flat(result.output)


def test_backtest_scores_the_network_alone_beside_the_model(seasonal_csv):
    fast = api.TrainConfig(epochs=2, batch_size=16)
    window = api.WindowConfig(lookback=8)
    model = api.ModelConfig(layers="lstm:4")
    options = api.BacktestConfig(folds=2, steps=6, jobs=1)
    result = api.backtest(seasonal_csv, window=window, model=model, training=fast, options=options)
    table = result.table[result.table["fold"] == "all"].set_index("method")
    assert {"model", "network alone", "AutoETS"} <= set(table.index)
    assert table.loc["model", "mase"] < table.loc["network alone", "mase"]
    assert all(fold.combined != "none" for fold in result.folds)  # e.g. 'AutoETS + AutoTheta'
