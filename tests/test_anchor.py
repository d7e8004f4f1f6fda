"""Anchored networks and the defaults that choose them."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import json_lines

from forecast_cli.artifacts import CARD_FILE
from forecast_cli.config import Anchor, Head, ModelConfig, WindowConfig, parse_layers
from forecast_cli.errors import ForecastError
from forecast_cli.loading import Series
from forecast_cli.network import build_model
from forecast_cli.resolve import resolve as resolve_panel


def series(freq: str | None, values: np.ndarray | None = None) -> Series:
    values = np.zeros(100) if values is None else values
    times = pd.date_range("2026-01-01", periods=len(values), freq=freq) if freq else None
    column = values.astype(np.float32)[:, None]
    return Series(column, ("y",), (), times, "t" if freq else None, freq, Path("s.csv"), "")


def resolve(freq, lookback=None, anchor=Anchor.AUTO, season=None, values=None):
    resolved = resolve_panel(
        WindowConfig(lookback=lookback, horizon=4, season=season),
        ModelConfig(anchor=anchor),
        (series(freq, values),),
    )
    return resolved.windows, resolved.model, list(resolved.notes)


RNG = np.random.default_rng(5)
STEPS = np.arange(400)


def test_auto_keeps_the_frequencys_season_when_it_fits():
    daily = np.sin(2 * np.pi * STEPS / 24) + RNG.normal(0, 0.1, 400)
    window, model, notes = resolve("h", values=daily)
    assert (model.anchor, model.season, window.lookback) == (Anchor.LINEAR, 24, 24)
    assert notes == [
        "Anchor: linear, from the season of 24 steps (season 24 of frequency h); --anchor "
        "none|last|seasonal overrides it."
    ]
    window, model, _ = resolve("MS", values=np.sin(2 * np.pi * STEPS[:120] / 12))
    assert (model.anchor, model.season, window.lookback) == (Anchor.LINEAR, 12, 20)


def test_auto_finds_the_period_the_frequency_does_not_imply():
    # A 40-step cycle sampled hourly: repeating the day before fits it far worse.
    cycle = np.sin(2 * np.pi * STEPS / 40) + RNG.normal(0, 0.1, 400)
    window, model, notes = resolve("h", values=cycle)
    assert (model.anchor, model.season, window.lookback) == (Anchor.LINEAR, 40, 40)
    assert "the training rows repeat every 40 steps" in notes[0]
    _, model, _ = resolve(None, values=cycle)  # no time column: found all the same
    assert (model.anchor, model.season) == (Anchor.LINEAR, 40)


@pytest.mark.parametrize("draw", range(3))
def test_auto_anchors_on_the_last_value_when_nothing_repeats(draw):
    rng = np.random.default_rng(draw)
    for values in (rng.normal(0, 1, 400), np.cumsum(rng.normal(0, 1, 400))):
        window, model, notes = resolve(None, values=values)
        assert (model.anchor, model.season, window.lookback) == (Anchor.LINEAR, 1, 20)
        assert "no season fits the training rows" in notes[0]


def test_auto_takes_season_as_given_and_stays_within_lookback():
    _, model, notes = resolve(None, season=5)
    assert (model.anchor, model.season) == (Anchor.LINEAR, 5)
    assert "--season 5" in notes[0]
    daily = np.sin(2 * np.pi * STEPS / 24)
    _, model, _ = resolve("h", lookback=8, values=daily)  # a day does not fit in 8 steps
    assert (model.anchor, model.season) == (Anchor.LINEAR, 1)  # from the last value


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


def test_the_default_horizon_is_the_forecast_shortened_to_fit_the_series():
    def horizon(rows, steps):
        resolved = resolve_panel(
            WindowConfig(lookback=8, horizon=None),
            ModelConfig(anchor=Anchor.NONE),
            (series(None, np.zeros(rows)),),
            steps,
        )
        return resolved.windows.horizon

    assert horizon(1000, 20) == 20  # the steps asked for
    assert horizon(1000, 500) == 200  # at most the validation tail (20%)
    assert horizon(60, 20) == 12
    assert horizon(20, 20) == 4  # 16 training rows hold 5 windows of 8 + 4 steps
    assert horizon(13, 20) == 2  # 10 training rows hold no window of 8 + 3 steps
    assert horizon(11, 20) == 1  # no window at all: train then says how many rows it needs


TINY = ["--layers", "lstm:4", "--epochs", 3, "--batch-size", 16, "--json"]


def test_auto_trains_one_network_anchored_on_the_linear_regression(cli, sine_csv, tmp_path):
    """``auto`` is the linear anchor from the base the training rows settle, one network
    (no unanchored twin beside it, which the evaluation set showed rarely wins)."""
    result = cli("train", sine_csv, *TINY, "--log-format", "json")
    assert result.exit_code == 0, result.output
    assert {line["candidate"] for line in json_lines(result)} == {"network"}
    assert "twin" not in result.output
    card = json.loads((tmp_path / "forecast-model" / CARD_FILE).read_text())
    assert card["model"]["anchor"] == "linear"
    assert card["model"]["season"] == 20  # the base: the cycle found in the training rows
    assert cli("predict", "--json").exit_code == 0

    explicit = cli("train", sine_csv, *TINY, "--anchor", "seasonal", "--model-dir", "m2")
    assert explicit.exit_code == 0
    assert json.loads((tmp_path / "m2" / CARD_FILE).read_text())["model"]["anchor"] == "seasonal"
