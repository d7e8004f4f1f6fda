"""The Python API, model cards that round-trip, and one season and anchor rule everywhere."""

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest
from conftest import sine_frame

from forecast_cli import api
from forecast_cli.artifacts import CARD_FILE, ModelCard, load_model_dir, version_notes
from forecast_cli.config import (
    Anchor,
    Device,
    Fill,
    Head,
    Loss,
    MergeMode,
    Scale,
    Strategy,
)
from forecast_cli.errors import ForecastError

TINY = dict(
    model=api.ModelConfig(layers="lstm:4", anchor=Anchor.LINEAR),
    training=api.TrainConfig(epochs=2, batch_size=16),
)
# A 40-step cycle sampled hourly: the frequency says 24, the rows say 40.
CYCLE = sine_frame(rows=400, period=40.0)


def test_train_and_predict_from_a_dataframe(tmp_path):
    trained = api.train(CYCLE, model_dir=tmp_path / "m", **TINY)
    assert trained.saved and (tmp_path / "m" / "model.keras").is_file()
    assert trained.card.model.label == "lstm:4" and trained.card.window.season == 40
    forecast = api.predict(tmp_path / "m", data=CYCLE, steps=5, intervals=(80,))
    assert list(forecast.frame.columns) == [
        "timestamp",
        "value",
        "value_lower_80",
        "value_upper_80",
    ]
    assert forecast.frame["timestamp"].iloc[0] == CYCLE["timestamp"].iloc[-1] + pd.Timedelta("1h")
    assert np.isfinite(forecast.frame["value"]).all()


@pytest.mark.slow
def test_one_file_gives_the_same_season_and_anchor_in_every_command(cli, write_csv, tmp_path):
    path = write_csv("cycle.csv", CYCLE)
    flags = ["--layers", "lstm:4", "--epochs", 1, "--batch-size", 16, "--json"]
    trained = cli("train", path, *flags)
    assert trained.exit_code == 0, trained.output
    card = json.loads((tmp_path / "forecast-model" / CARD_FILE).read_text())
    compared = cli("compare", path, *flags, "--steps", 10)
    backtested = cli("backtest", path, *flags, "--folds", 1, "--steps", 10, "--intervals", "none")
    assert compared.exit_code == 0 and backtested.exit_code == 0, compared.output
    seasons = [
        json.loads(result.stdout.splitlines()[-1])["season"]
        for result in (trained, compared, backtested)
    ]
    assert seasons == [40, 40, 40] and card["data"]["season"] == 40
    for result in (trained, compared, backtested):
        expected = "Anchor: linear, from the season of 40 steps (the training rows repeat every 40"
        assert expected in result.stderr


@pytest.mark.slow
def test_compare_and_backtest_through_the_api(tmp_path):
    short = api.WindowConfig(lookback=8)
    comparison = api.compare(
        sine_frame(),
        window=short,
        out_dir=tmp_path / "cmp",
        layers=["bilstm:3"],
        merge_modes=[MergeMode.SUM, MergeMode.AVE],
        training=TINY["training"],
        options=api.CompareConfig(steps=5, jobs=1),
    )
    names = {row.name for row in comparison.rows}
    assert names == {
        "bilstm:3:sum",
        "bilstm:3:ave",
        "naive",
        "seasonal naive",
        "AutoETS",
        "AutoTheta",
    }
    assert (tmp_path / "cmp" / "comparison.csv").is_file()
    result = api.backtest(
        sine_frame(),
        window=short,
        options=api.BacktestConfig(folds=2, steps=5, levels=(), jobs=1),
        out=tmp_path / "bt.csv",
        **TINY,
    )
    assert list(result.table["fold"].unique()) == ["1", "2", "all"]
    assert pd.read_csv(tmp_path / "bt.csv").shape == result.table.shape


def test_a_loaded_card_gives_back_the_same_configurations_with_enums(tmp_path):
    trained = api.train(
        CYCLE,
        model_dir=tmp_path / "m",
        data=api.DataConfig(fill=Fill.FFILL),
        window=api.WindowConfig(scale=Scale.MINMAX),
        model=api.ModelConfig(layers="bigru:3:ave", head=Head.MANY_TO_MANY, anchor=Anchor.LAST),
        training=api.TrainConfig(epochs=1, loss=Loss.HUBER),
        runtime=api.RuntimeConfig(device=Device.CPU, strategy=Strategy.NONE),
    )
    _, card = load_model_dir(tmp_path / "m")
    assert card == dataclasses.replace(trained.card, data=card.data)  # data holds resolved names
    assert card.data.fill is Fill.FFILL and card.window.scale is Scale.MINMAX
    assert card.training.loss is Loss.HUBER and card.runtime.device is Device.CPU
    assert card.model.head is Head.MANY_TO_MANY and card.model.layers[0].merge_mode is MergeMode.AVE
    assert ModelCard.from_dict(json.loads(json.dumps(card.to_dict()))) == card


def test_versions_are_checked_on_load(tmp_path):
    from importlib import metadata

    keras = metadata.version("keras")
    major = int(keras.split(".")[0])
    assert version_notes({"keras": keras}) == ()
    older = version_notes({"keras": f"{major - 1}.9.0"})
    assert len(older) == 1 and f"saved with keras {major - 1}.9.0" in older[0]
    with pytest.raises(ForecastError, match=f"saved with keras {major + 1}.0.0, newer than"):
        version_notes({"keras": f"{major + 1}.0.0"})


def test_a_model_of_a_newer_keras_is_refused_in_one_line(cli, sine_csv, tmp_path):
    assert cli("train", sine_csv, "--layers", "lstm:4", "--epochs", 1).exit_code == 0
    path = tmp_path / "forecast-model" / CARD_FILE
    card = json.loads(path.read_text())
    card["versions"]["keras"] = "99.0.0"
    path.write_text(json.dumps(card))
    result = cli("predict", "--steps", 3)
    assert result.exit_code == 2
    assert result.stderr.strip().startswith("Error: The model was saved with keras 99.0.0")
