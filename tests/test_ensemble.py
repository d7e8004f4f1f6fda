"""Ensembles (``--members N``): several networks trained together, their median saved as one."""

import json

import numpy as np
import pandas as pd
from conftest import error_line, flat

from forecast_cli.artifacts import CARD_FILE, load_model_dir
from forecast_cli.config import Anchor, Head, ModelConfig, parse_layers
from forecast_cli.network import build_model, ensemble


def test_the_ensemble_forecasts_its_members_median_and_saves_as_one_model(tmp_path):
    import keras

    config = ModelConfig(parse_layers("gru:3"), Head.MANY_TO_MANY, anchor=Anchor.NONE)
    members = []
    for seed in range(3):
        keras.utils.set_random_seed(seed)
        members.append(build_model(config, 6, 1, 2, 1, name=f"network_m{seed}"))
    combined = ensemble(members, "network")
    window = np.random.default_rng(0).normal(size=(5, 6, 1)).astype(np.float32)
    each = np.stack([np.asarray(m(window)) for m in members])
    assert each.shape == (3, 5, 6, 2, 1) and np.ptp(each, axis=0).min() > 0
    np.testing.assert_allclose(np.asarray(combined(window)), np.median(each, axis=0), atol=1e-6)
    assert ensemble(members[:1], "network") is members[0]
    combined.save(tmp_path / "model.keras")
    loaded = keras.saving.load_model(tmp_path / "model.keras", safe_mode=True)
    np.testing.assert_allclose(np.asarray(loaded(window)), np.asarray(combined(window)), atol=1e-6)


def test_train_with_members_saves_their_median_and_predict_uses_it(cli, sine_csv, tmp_path):
    tiny = ["--layers", "lstm:4", "--epochs", 2, "--batch-size", 16, "--lookback", 8]
    result = cli("train", sine_csv, *tiny, "--members", 2, "--json")
    assert result.exit_code == 0, result.output
    assert "the forecast is the median of 2 such" in flat(result.output)
    directory = tmp_path / "forecast-model"
    card = json.loads((directory / CARD_FILE).read_text())
    assert card["model"]["members"] == 2
    model, _ = load_model_dir(directory)
    assert [layer.name for layer in model.layers][-1] == "median"
    assert card["model"]["params"] == model.count_params() == 2 * model.layers[1].count_params()
    single = cli("train", sine_csv, *tiny, "--model-dir", "one", "--json")
    one = json.loads((tmp_path / "one" / CARD_FILE).read_text())
    assert one["model"]["members"] == 1
    assert one["metrics"]["val_mase"] != card["metrics"]["val_mase"]  # a second network counts
    assert single.exit_code == 0
    forecast = cli("predict", "--steps", 12, "--out", "f.csv")
    assert forecast.exit_code == 0, forecast.output
    assert len(pd.read_csv(tmp_path / "f.csv")) == 12


def test_fine_tuned_backtests_refuse_members(cli, sine_csv):
    result = cli("backtest", sine_csv, "--refit", "fine-tune", "--members", 2)
    assert "leave out --members" in error_line(result)
