"""AutoETS, AutoTheta and AutoARIMA beside the network, in every command's table."""

import json

import numpy as np
import pandas as pd
import pytest
from conftest import FAST, error_line, flat, sine_frame

from forecast_cli import evaluation, statistical
from forecast_cli.config import Baseline, parse_baselines
from forecast_cli.errors import ForecastError
from forecast_cli.evaluation import baselines

STATISTICAL = ("AutoETS", "AutoTheta")  # the default's statistical baselines
ONE_PROCESS = [*FAST, "--anchor", "none", "--jobs", 1]


def trend(rows: int = 80) -> np.ndarray:
    """A straight line, 2 per step from 1: what a forecast must continue is known."""
    return (1.0 + 2.0 * np.arange(rows, dtype=np.float32))[:, None]


def test_the_statistical_models_continue_a_trend_that_the_naive_forecast_misses():
    line = trend()
    forecasts, notes = baselines([line], [np.array([60, 70])], 5, None, tuple(Baseline))
    assert notes == [] and "seasonal naive" not in forecasts  # no season, no seasonal naive
    truth = np.stack([line[60:65], line[70:75]])
    for name in (*STATISTICAL, "AutoARIMA"):
        np.testing.assert_allclose(forecasts[name][0], truth, rtol=0.01, err_msg=name)
    np.testing.assert_allclose(forecasts["naive"][0][:, :, 0], [[119.0] * 5, [139.0] * 5])


def test_each_origin_reads_only_the_rows_before_it():
    """Rows from the first origin on change nothing of the first origin's forecast."""
    values = sine_frame()["value"].to_numpy(dtype=np.float32)[:, None]
    changed = values.copy()
    changed[100:] += 50.0
    each = [baselines([v], [np.array([100])], 10, 20)[0] for v in (values, changed)]
    for name in ("naive", "seasonal naive", *STATISTICAL):
        np.testing.assert_array_equal(each[0][name][0], each[1][name][0], err_msg=name)


def test_a_model_that_cannot_be_fitted_gives_way_to_the_naive_forecast(monkeypatch):
    def fails(*args):
        raise ValueError("no convergence")

    monkeypatch.setattr(evaluation, "statistical", fails)
    line = trend()
    forecasts, notes = baselines([line, line], [np.array([60])] * 2, 3, None, (Baseline.ETS,))
    np.testing.assert_array_equal(forecasts["AutoETS"][1], np.full((1, 3, 1), 119.0))
    assert notes == [
        "AutoETS could not be fitted on 2 of 2 series: the naive forecast stands in there."
    ]


def test_a_series_too_short_for_ets_gets_the_naive_forecast_not_a_crash():
    # statsforecast's AutoETS raises NotImplementedError ("tiny datasets") on four rows
    forecasts, notes = baselines([trend(6)], [np.array([4])], 2, None, (Baseline.ETS,))
    last = np.full((1, 2, 1), 7.0)  # the last of the 4 rows, repeated
    np.testing.assert_array_equal(forecasts["AutoETS"][0], last)
    assert notes[0].startswith("AutoETS could not be fitted on 1 of 1 series")


def test_many_series_leave_the_fitted_models_out_and_say_so():
    many = [trend(30)] * (evaluation.MOST_FITTED_SERIES + 1)
    forecasts, notes = baselines(many, [np.array([25])] * len(many), 2, None)
    assert set(forecasts) == {"naive"}
    assert notes[0].startswith("AutoETS, AutoTheta left out: fitted per series")


def test_a_long_validation_tail_leaves_the_fitted_models_out_and_says_so():
    origins = np.arange(10, 10 + evaluation.MOST_FITTED_ORIGINS + 1)
    forecasts, notes = baselines([trend(len(origins) + 20)], [origins], 2, None)
    assert set(forecasts) == {"naive"}
    assert f"of up to {len(origins)} origins" in notes[0]


def test_the_models_read_at_most_the_last_fitted_rows_before_the_first_origin():
    line = trend(statistical.FITTED_ROWS + 100)
    changed = line.copy()
    changed[:50] = -1000.0  # rows more than FITTED_ROWS before the origin
    at = [np.array([len(line) - 10])]
    each = [baselines([v], at, 5, None, (Baseline.ETS,))[0]["AutoETS"][0] for v in (line, changed)]
    np.testing.assert_array_equal(each[0], each[1])


def test_a_model_fitted_on_the_same_rows_again_is_fitted_once():
    """A backtest fold's baseline, its forecast's combination and its intervals' floor all
    fit on the rows before the cut-off: one fit serves them all, with the same results."""
    line = trend(120) + np.random.default_rng(5).normal(0, 1, (120, 1)).astype(np.float32)
    statistical._fit.cache_clear()
    first = statistical.statistical(Baseline.ETS, line, np.array([120]), 4, None)
    widths = statistical.interval_widths(Baseline.ETS, line, 4, None, (80,))
    again = statistical.statistical(Baseline.ETS, line, np.array([120]), 4, None)
    assert (statistical._fit.cache_info().misses, statistical._fit.cache_info().hits) == (1, 2)
    np.testing.assert_array_equal(first, again)
    assert widths[80].shape == (4, 1) and (widths[80] > 0).all()
    statistical.statistical(Baseline.ETS, line[:-1], np.array([119]), 4, None)  # other rows
    assert statistical._fit.cache_info().misses == 2


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, (Baseline.NAIVE, Baseline.SNAIVE, Baseline.ETS, Baseline.THETA)),
        ("ets, Naive,ets", (Baseline.ETS, Baseline.NAIVE)),
        ("all", tuple(Baseline)),
        ("none", ()),
    ],
)
def test_baselines_flag(text, expected):
    assert parse_baselines(text) == expected


def test_an_unknown_baseline_is_named():
    with pytest.raises(ForecastError, match="--baselines: unknown baseline prophet; use"):
        parse_baselines("ets,prophet")


def test_train_reports_its_mase_beside_the_baselines(cli, sine_csv, tmp_path):
    result = cli("train", sine_csv, *FAST, "--season", 20, "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.splitlines()[-1])
    assert set(summary["baselines"]) == {"naive", "seasonal naive", *STATISTICAL}
    for scores in summary["baselines"].values():
        assert set(scores) == {"val_mae", "val_rmse", "val_smape", "val_mase"}
    # MASE is scaled by the training rows' seasonal naive: seasonal naive itself is near 1.
    assert 0.5 < summary["baselines"]["seasonal naive"]["val_mase"] < 1.5
    assert summary["val_mase"] > 0
    card = json.loads((tmp_path / "forecast-model" / "forecast.json").read_text())
    assert card["metrics"]["baselines"]["AutoETS"]["val_rmse"] == pytest.approx(
        summary["baselines"]["AutoETS"]["val_rmse"]
    )
    assert "AutoETS" in result.output  # the validation facts name them
    # Two epochs of a 4-unit LSTM lose to the statistical models, and the notes say so.
    assert "beats the network on the validation windows (MASE" in flat(result.stderr)


def test_compare_and_backtest_rank_the_statistical_models_too(cli, sine_csv, tmp_path):
    flags = [*ONE_PROCESS, "--season", 20, "--baselines", "naive,ets"]  # arima: seconds more
    compared = cli("compare", sine_csv, *flags, "--steps", 5)
    assert compared.exit_code == 0, compared.output
    table = pd.read_csv(tmp_path / "comparison" / "comparison.csv")
    assert set(table["name"]) == {"lstm:4", "naive", "AutoETS"}
    assert table["val_mase"].notna().all()
    forecasts = pd.read_csv(tmp_path / "comparison" / "forecasts.csv")
    assert len(forecasts) == 5 and forecasts["AutoETS"].notna().all()
    assert "beats every network on the validation windows" in flat(compared.output)

    result = cli("backtest", sine_csv, *flags, "--folds", 2, "--steps", 5, "--json")
    assert result.exit_code == 0, result.output
    scores = pd.read_csv(tmp_path / "backtest.csv")
    assert set(scores["method"]) == {"model", "network alone", "naive", "AutoETS"}
    # On the noisy sine (noise 0.1) the models that see the season beat the last value.
    overall = scores[scores["fold"] == "all"].set_index("method")
    assert overall.loc["AutoETS", "mae"] < overall.loc["naive", "mae"]
    # the two-epoch network loses, and is told
    best = overall.drop(["model", "network alone"])["mase"].idxmin()
    assert overall.loc[best, "mase"] < overall.loc["model", "mase"]
    assert f"{best} beats the model over the folds" in flat(result.stderr)


def test_the_best_baseline_is_named_only_when_it_wins():
    assert evaluation.beaten(1.0, {"naive": 1.2, "AutoETS": 0.8}, "the network") == [
        "AutoETS beats the network (MASE 0.800 against 1.000)."
    ]
    assert evaluation.beaten(0.5, {"naive": 1.2, "AutoETS": 0.8}, "the network") == []
    assert evaluation.beaten(0.5, {}, "the network") == []


def test_a_bad_baseline_flag_is_one_error_line(cli, sine_csv):
    assert "--baselines: unknown baseline" in error_line(cli("train", sine_csv, "--baselines", "x"))
