import numpy as np
import pytest

from forecast_cli.baselines import (
    fitted_errors,
    likely_period,
    naive,
    season_from_freq,
    seasonal_naive,
)
from forecast_cli.metrics import mae, rmse, smape

# A weekly pattern over two weeks: day d holds 10 * week + d.
SERIES = np.array([[10 * (t // 7) + t % 7] for t in range(14)], dtype=float)


def test_naive_repeats_the_last_value_before_each_origin():
    forecast = naive(SERIES, np.array([7, 10]), steps=3)
    assert forecast.shape == (2, 3, 1)
    np.testing.assert_array_equal(forecast[..., 0], [[6, 6, 6], [12, 12, 12]])


def test_seasonal_naive_repeats_the_last_observed_season():
    forecast = seasonal_naive(SERIES, np.array([7, 10]), steps=9, season=7)
    # From day 7: days 0..6 again, then days 0, 1 (not days 7, 8, which are unknown then).
    np.testing.assert_array_equal(forecast[0, :, 0], [0, 1, 2, 3, 4, 5, 6, 0, 1])
    # From day 10: days 3..6 (week 0), then 10..12 (week 1, known), then 3, 4 again.
    np.testing.assert_array_equal(forecast[1, :, 0], [3, 4, 5, 6, 10, 11, 12, 3, 4])


@pytest.mark.parametrize(
    ("freq", "season"),
    [
        ("h", 24),
        ("2h", 12),
        ("D", 7),
        ("B", 5),
        ("W-SUN", 52),
        ("ME", 12),
        ("MS", 12),
        ("QE-DEC", 4),
        ("YE-DEC", 1),
        ("min", None),
        ("7h", None),
        (None, None),
    ],
)
def test_season_follows_the_frequency(freq, season):
    assert season_from_freq(freq) == season


def test_metrics_on_hand_computed_values():
    actual, predicted = np.array([1.0, -2.0, 0.0, 4.0]), np.array([2.0, -2.0, 0.0, 2.0])
    assert mae(actual, predicted) == pytest.approx(0.75)
    assert rmse(actual, predicted) == pytest.approx(np.sqrt(5 / 4))
    # 2|a-p|/(|a|+|p|): 2/3, 0, 0 (both zero), 4/6 -> mean 1/3
    assert smape(actual, predicted) == pytest.approx(100 / 3)


def test_fitted_errors_on_a_ramp():
    # Origins 2..8, two steps ahead: the last value misses by 1 then 2, the value two steps
    # back by 2 and 2; both in units of the ramp's standard deviation.
    ramp = np.arange(10.0)[:, None]
    errors = fitted_errors(ramp, horizon=2, periods=[1, 2])
    assert errors == pytest.approx({1: 1.5 / ramp.std(), 2: 2.0 / ramp.std()})


def test_likely_period_is_the_shortest_repeating_one():
    pattern = np.tile([0.0, 3.0, 1.0], 40)[:, None]  # repeats every 3, and so every 6, 9...
    errors = fitted_errors(pattern, horizon=2, periods=list(range(1, 13)))
    assert errors[3] == errors[6] == 0.0
    assert likely_period(errors) == 3
    # A season that barely beats the last value is not worth anchoring on.
    assert likely_period({1: 1.0, 2: 0.85, 3: 0.9}) == 1
