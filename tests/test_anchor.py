"""Anchored networks and the defaults that choose them."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecast_cli.config import Anchor, Head, ModelConfig, WindowConfig, parse_layers
from forecast_cli.errors import ForecastError
from forecast_cli.loading import Series
from forecast_cli.network import build_model
from forecast_cli.train_run import resolve_defaults


def series(freq: str | None, rows: int = 100) -> Series:
    times = pd.date_range("2026-01-01", periods=rows, freq=freq) if freq else None
    values = np.zeros((rows, 1), dtype=np.float32)
    return Series(values, ("y",), (), times, "t" if freq else None, freq, Path("s.csv"), "")


def resolve(freq, lookback=None, anchor=Anchor.AUTO, season=None):
    return resolve_defaults(
        WindowConfig(lookback=lookback), ModelConfig(anchor=anchor), series(freq), season
    )


def test_auto_is_seasonal_with_a_season_long_enough_lookback():
    window, model, notes = resolve("h")
    assert (model.anchor, model.season, window.lookback) == (Anchor.SEASONAL, 24, 24)
    assert notes == ["Anchor: seasonal (season 24); --anchor none|last|seasonal overrides it."]
    window, model, _ = resolve("MS")
    assert (model.anchor, model.season, window.lookback) == (Anchor.SEASONAL, 12, 20)


def test_auto_falls_back_to_the_last_value():
    window, model, notes = resolve(None)
    assert (model.anchor, window.lookback) == (Anchor.LAST, 20)
    assert "no season known; --season N sets one" in notes[0]
    _, model, notes = resolve("h", lookback=8)
    assert model.anchor is Anchor.LAST and "shorter than the season 24" in notes[0]
    _, model, _ = resolve(None, season=5)
    assert (model.anchor, model.season) == (Anchor.SEASONAL, 5)


def test_explicit_choices_are_kept_or_refused_clearly():
    window, model, notes = resolve("h", anchor=Anchor.NONE)
    assert (model.anchor, window.lookback, notes) == (Anchor.NONE, 20, [])
    with pytest.raises(ForecastError, match="--anchor seasonal needs a season length"):
        resolve(None, anchor=Anchor.SEASONAL)
    with pytest.raises(ForecastError, match="--lookback must be at least 24, got 10"):
        resolve("h", lookback=10, anchor=Anchor.SEASONAL)


@pytest.mark.parametrize(
    ("anchor", "season", "expected"),
    [
        (Anchor.LAST, 1, [[9, 9, 9, 9, 9]]),  # the last value, repeated
        (Anchor.SEASONAL, 4, [[6, 7, 8, 9, 6]]),  # the last season, repeated
    ],
)
@pytest.mark.parametrize("head", list(Head))
def test_an_untrained_anchored_network_is_its_anchor(anchor, season, expected, head):
    config = ModelConfig(parse_layers("bilstm:3"), head, anchor=anchor, season=season)
    model = build_model(config, lookback=10, n_features=1, horizon=5, n_targets=1)
    window = np.arange(10, dtype=np.float32).reshape(1, 10, 1)
    output = np.asarray(model(window))
    if head is Head.MANY_TO_MANY:  # every step starts at the anchor
        assert output.shape == (1, 10, 5, 1)
        output = output[:, -1]
    np.testing.assert_allclose(output[..., 0], expected)
