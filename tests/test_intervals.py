"""Conformal prediction intervals: levels, widths, coverage, and the predict columns."""

import numpy as np
import pandas as pd
import pytest
from conftest import FAST, flat, sine_frame

from forecast_cli.config import Baseline, Head, ModelConfig, Scale, parse_layers, parse_levels
from forecast_cli.errors import ForecastError
from forecast_cli.evaluation import MOST_FITTED_SERIES
from forecast_cli.intervals import Calibration, calibrate, floored
from forecast_cli.network import build_model
from forecast_cli.scaling import Scaler
from forecast_cli.statistical import interval_widths


def test_levels_are_parsed_and_checked():
    assert parse_levels("95,80") == (80, 95)
    for bad in ("0", "100", "eighty", ""):
        with pytest.raises(ForecastError, match="--intervals: expected coverage levels"):
            parse_levels(bad)


def constant_model(lookback: int):
    """A network that always forecasts 0 in scaled units: the training mean."""
    model = build_model(ModelConfig(parse_layers("lstm:2")), lookback, 1, 1, 1)
    model.set_weights([np.zeros_like(w) for w in model.get_weights()])
    return model


def test_widths_cover_the_nominal_share_of_fresh_noise():
    rng = np.random.default_rng(0)
    values = rng.normal(0, 1.0, (2000, 1)).astype(np.float32)
    scaler = Scaler.fit(Scale.STANDARD, values[:1000])
    (widths,) = calibrate(
        constant_model(5), Head.MANY_TO_ONE, [Calibration(values, scaler, 1000)], 5, 3, 1, (80, 95)
    )
    assert widths[80].shape == (3, 1)
    # The constant forecast's errors are the noise itself: |N(0, 1)| quantiles.
    np.testing.assert_allclose(widths[80], 1.2816, atol=0.12)
    np.testing.assert_allclose(widths[95], 1.96, atol=0.15)
    fresh = rng.normal(0, 1.0, 5000)
    for level in (80, 95):
        coverage = 100 * np.mean(np.abs(fresh - scaler.offset[0]) <= widths[level][0, 0])
        assert abs(coverage - level) < 5


def test_widths_never_shrink_with_the_step_ahead():
    # One outlier is the first step's worst error and no later step's: each later step's
    # quantile would be 0, but a forecast further ahead is no surer than a nearer one.
    values = np.zeros((60, 1), dtype=np.float32)
    values[40] = 50.0
    scaler = Scaler.fit(Scale.NONE, values)
    (widths,) = calibrate(
        constant_model(5), Head.MANY_TO_ONE, [Calibration(values, scaler, 40)], 5, 4, 1, (95,)
    )
    np.testing.assert_allclose(widths[95][:, 0], [50.0, 50.0, 50.0, 50.0])


@pytest.mark.parametrize("steps", [3, 60])  # 60: more steps than the series has rows
def test_too_few_calibration_origins_say_what_to_do(steps):
    values = np.zeros((40, 1), dtype=np.float32)
    with pytest.raises(ForecastError, match="needs at least 10 validation origins"):
        calibrate(
            constant_model(5),
            Head.MANY_TO_ONE,
            [Calibration(values, Scaler.fit(Scale.NONE, values), 32)],
            5,
            steps,
            1,
            (80,),
        )


def test_series_of_a_global_model_share_one_calibration_in_their_own_scale():
    """Two short tails, too short alone, calibrate together; each series' widths are the
    pooled quantile times its own spread, and cover its own fresh noise."""
    rng = np.random.default_rng(1)
    small, large = (rng.normal(0, sd, (208, 1)).astype(np.float32) for sd in (1.0, 100.0))
    parts = [Calibration(v, Scaler.fit(Scale.STANDARD, v[:200]), 200) for v in (small, large)]
    alone = [
        Calibration(v[:150], p.scaler, 142) for v, p in zip((small, large), parts, strict=True)
    ]
    with pytest.raises(ForecastError, match="this series has 6"):
        calibrate(constant_model(5), Head.MANY_TO_ONE, alone[:1], 5, 3, 1, (80,))
    wide = [Calibration(v, p.scaler, 100) for v, p in zip((small, large), parts, strict=True)]
    first, second = calibrate(constant_model(5), Head.MANY_TO_ONE, wide, 5, 3, 1, (80,))
    ratio = parts[1].scaler.scale[0] / parts[0].scaler.scale[0]
    np.testing.assert_allclose(second[80] / first[80], ratio, rtol=1e-5)
    for width, sd, part in zip((first, second), (1.0, 100.0), parts, strict=True):
        fresh = rng.normal(0, sd, 5000)
        coverage = 100 * np.mean(np.abs(fresh - part.scaler.offset[0]) <= width[80][0, 0])
        assert abs(coverage - 80) < 6


def test_a_random_walks_statistical_intervals_grow_as_the_square_root_of_the_steps():
    rng = np.random.default_rng(3)
    walk = np.cumsum(rng.normal(0, 2.0, (400, 1)), axis=0)
    ets = interval_widths(Baseline.ETS, walk, 9, None, (80, 95))
    assert ets[80].shape == (9, 1)
    np.testing.assert_allclose(ets[80][0, 0], 1.2816 * 2.0, rtol=0.15)  # one step: the noise
    np.testing.assert_allclose(ets[80][8, 0] / ets[80][0, 0], 3.0, rtol=0.1)  # sqrt(9)
    np.testing.assert_allclose(ets[95][0, 0] / ets[80][0, 0], 1.96 / 1.2816, rtol=1e-3)


def test_intervals_are_never_narrower_than_the_statistical_models_own():
    """A random walk whose validation tail stands still: the network's errors there say
    nothing of the steps the walk takes, the statistical models' intervals do."""
    rng = np.random.default_rng(4)
    values = np.concatenate([np.cumsum(rng.normal(0, 1.0, 200)), np.zeros(40)])[:, None]
    values = values.astype(np.float32)
    series = [Calibration(values, Scaler.fit(Scale.NONE, values[:200]), 200)]
    args = (constant_model(5), Head.MANY_TO_ONE, series, 5, 4, 1, (80, 95))
    (conformal,) = calibrate(*args)
    (widths,) = floored([conformal], [values], 4, 12)
    theirs = [interval_widths(m, values, 4, 12, (80, 95)) for m in (Baseline.ETS, Baseline.THETA)]
    for level in (80, 95):
        expected = np.maximum.reduce([conformal[level], *(t[level] for t in theirs)])
        np.testing.assert_array_equal(widths[level], expected)
        assert (widths[level] > conformal[level]).all()
    # With more series than the statistical models are fitted to, the conformal widths
    # pooled over them stand alone.
    many = [conformal] * (MOST_FITTED_SERIES + 1)
    np.testing.assert_array_equal(floored(many, [values] * len(many), 4, 12)[0][80], conformal[80])


def test_predict_adds_lower_and_upper_columns_per_level(cli, sine_model, tmp_path):
    result = cli("predict", "--model", sine_model, "--steps", 5, "--intervals", "95,80")
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(tmp_path / "forecast.csv")
    assert list(frame.columns) == [
        "timestamp",
        "value",
        "value_lower_80",
        "value_upper_80",
        "value_lower_95",
        "value_upper_95",
    ]
    assert (frame["value_lower_95"] < frame["value_lower_80"]).all()
    assert (frame["value_lower_80"] < frame["value"]).all()
    assert (frame["value"] < frame["value_upper_80"]).all()
    assert (frame["value_upper_80"] < frame["value_upper_95"]).all()


def test_a_never_negative_series_gets_no_forecast_or_bound_below_zero(cli, write_csv, tmp_path):
    """Counts: half of each period at zero. The raw lower bounds there fall below zero."""
    frame = sine_frame()
    frame["value"] = np.maximum(0, 3 * frame["value"]).round()
    data = write_csv("counts.csv", frame)
    assert cli("train", data, *FAST).exit_code == 0
    flags = ["--steps", 20, "--intervals", "80,95", "--no-plot"]
    clipped = cli("predict", *flags)
    assert clipped.exit_code == 0, clipped.output
    assert (
        "Forecasts and interval bounds below zero of 'value', never negative in the data, are "
        "raised to zero (--keep-negative keeps them)."
    ) in flat(clipped.stdout)
    kept = cli("predict", *flags, "--keep-negative", "--out", "raw.csv")
    assert kept.exit_code == 0 and "raised to zero" not in flat(kept.stdout)
    raw = pd.read_csv(tmp_path / "raw.csv", index_col="timestamp")
    assert (raw["value_lower_80"] < 0).any()
    pd.testing.assert_frame_equal(
        pd.read_csv(tmp_path / "forecast.csv", index_col="timestamp"), raw.clip(lower=0)
    )
