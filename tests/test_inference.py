"""The NumPy evaluator forecasts as Keras does, for every network forecast builds, and
``forecast predict`` runs on it without importing TensorFlow."""

import io
import shutil
import zipfile
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest
from conftest import flat, invoke, made_once
from test_startup import modules_loaded_by

from forecast_cli import inference
from forecast_cli.artifacts import MODEL_FILE, load_forecaster, load_model_dir
from forecast_cli.config import Anchor, Cell, Head, MergeMode, ModelConfig, parse_layers
from forecast_cli.forecasting import roll
from forecast_cli.network import build_model, describe, ensemble
from forecast_cli.runtime import keras

LOOKBACK, FEATURES, HORIZON, TARGETS = 6, 3, 2, 2  # two targets, one extra feature
TOLERANCE = {"rtol": 1e-5, "atol": 1e-5}
DIRECTIONS = ["uni", *(f"bi-{mode}" for mode in MergeMode)]


def network(layers: str, head: Head, anchor: Anchor = Anchor.LINEAR, name: str = "network"):
    """A Keras network as forecast builds it, with dropout layers and the seasonal
    anchor's period 3, its weights still as initialised."""
    config = ModelConfig(parse_layers(layers), head, dropout=0.1, anchor=anchor, season=3)
    return build_model(config, LOOKBACK, FEATURES, HORIZON, TARGETS, name=name)


def randomised(model, seed: int):
    """``model`` with every weight drawn at random: the zero-initialised ones too (the
    anchored output layer, the linear anchor), so that no part of it is trivial."""
    rng = np.random.default_rng(seed)
    model.set_weights([rng.normal(0, 0.5, w.shape).astype(np.float32) for w in model.weights])
    return model


def saved_and_evaluated(model, tmp_path, seed: int = 0) -> inference.Network:
    """Save ``model``, read it back with NumPy, and check both forecast the same and
    describe the same layers (the report's layer table, made without TensorFlow)."""
    path = tmp_path / MODEL_FILE
    model.save(path)
    loaded = inference.load(path)
    windows = np.random.default_rng(seed).normal(size=(5, LOOKBACK, FEATURES))
    windows = windows.astype(np.float32)
    expected = np.asarray(model(windows, training=False))
    np.testing.assert_allclose(loaded(windows), expected, **TOLERANCE)
    assert loaded.output_shape == tuple(model.output_shape)
    assert loaded.layers == tuple(describe(model))
    assert sum(row.params for row in loaded.layers) == model.count_params()
    return loaded


def spec(cell: Cell, direction: str) -> str:
    """``--layers`` text for one layer of ``cell`` in ``direction`` (uni or bi-MERGE)."""
    if direction == "uni":
        return f"{cell}:3"
    return f"bi{cell}:3:{direction.removeprefix('bi-')}"


@pytest.mark.parametrize("anchor", [Anchor.NONE, Anchor.LAST, Anchor.SEASONAL, Anchor.LINEAR])
@pytest.mark.parametrize("head", list(Head))
@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize("cell", list(Cell))
def test_every_layer_head_and_anchor_forecasts_as_keras(cell, direction, head, anchor, tmp_path):
    model = randomised(network(spec(cell, direction), head, anchor), seed=0)
    saved_and_evaluated(model, tmp_path)


@pytest.mark.parametrize("head", list(Head))
@pytest.mark.parametrize(
    "layers", ["lstm:3,bigru:3:concat,rnn:4", "bilstm:3:mul,birnn:2:ave,bigru:3:sum"]
)
def test_stacked_layers_forecast_as_keras(layers, head, tmp_path):
    saved_and_evaluated(randomised(network(layers, head), seed=1), tmp_path)


@pytest.mark.parametrize(("members", "head"), [(3, Head.MANY_TO_ONE), (2, Head.MANY_TO_MANY)])
def test_an_ensemble_forecasts_its_members_median_as_keras(members, head, tmp_path):
    nets = [network("bigru:3:ave", head, name=f"member_{i}") for i in range(members)]
    model = ensemble([randomised(net, seed) for seed, net in enumerate(nets)], "network")
    saved_and_evaluated(model, tmp_path)


def test_a_mixed_precision_network_is_evaluated_in_float32(tmp_path):
    k = keras()
    k.mixed_precision.set_dtype_policy("mixed_float16")
    try:
        model = randomised(network("bilstm:3:concat", Head.MANY_TO_ONE), seed=2)
    finally:
        k.mixed_precision.set_dtype_policy("float32")
    path = tmp_path / MODEL_FILE
    model.save(path)
    windows = np.random.default_rng(0).normal(size=(5, LOOKBACK, FEATURES)).astype(np.float32)
    expected = np.asarray(model(windows, training=False))
    np.testing.assert_allclose(inference.load(path)(windows), expected, rtol=1e-2, atol=1e-2)


def test_the_python_roll_matches_the_compiled_one(tmp_path):
    model = randomised(network("gru:3,bilstm:3:sum", Head.MANY_TO_MANY), seed=3)
    loaded = saved_and_evaluated(model, tmp_path)
    rng = np.random.default_rng(4)
    windows = rng.normal(size=(4, LOOKBACK, FEATURES)).astype(np.float32)
    future = rng.normal(size=(4, 6, FEATURES - TARGETS)).astype(np.float32)
    expected = roll(model, windows, 7, Head.MANY_TO_MANY, future)  # one tf.function
    actual = roll(loaded, windows, 7, Head.MANY_TO_MANY, future)  # a Python loop
    np.testing.assert_allclose(actual, expected, **TOLERANCE)


def test_a_layer_it_does_not_know_is_named(tmp_path):
    k = keras()
    inputs = k.Input((LOOKBACK, FEATURES))
    hidden = k.layers.LayerNormalization(name="norm")(k.layers.LSTM(3)(inputs))
    k.Model(inputs, k.layers.Dense(2)(hidden)).save(tmp_path / MODEL_FILE)
    with pytest.raises(inference.Unsupported, match="layer 'norm' of type LayerNormalization"):
        inference.load(tmp_path / MODEL_FILE)


def test_weights_filed_under_another_layer_are_refused(tmp_path):
    """Keras records each layer's name beside its weights: they must be the layer's."""
    path = tmp_path / MODEL_FILE
    randomised(network("lstm:3", Head.MANY_TO_ONE), seed=5).save(path)
    with zipfile.ZipFile(path) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    weights = io.BytesIO(files["model.weights.h5"])
    with h5py.File(weights, "r+") as h5:
        h5["layers/dense/vars"].attrs["name"] = "lstm_1"
    files["model.weights.h5"] = weights.getvalue()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    with pytest.raises(inference.Unsupported, match="the weights of 'lstm_1' where those of"):
        inference.load(path)


def promo_panel(rows: int = 90) -> pd.DataFrame:
    """Two stores' daily sales, which rise on promotion days planned ahead."""
    rng = np.random.default_rng(0)
    frames = []
    for store, level in (("north", 10.0), ("south", 200.0)):
        promo = (rng.random(rows) < 0.3).astype(float)
        frames.append(
            pd.DataFrame(
                {
                    "store": store,
                    "date": pd.date_range("2026-01-01", periods=rows, freq="D"),
                    "promo": promo,
                    "sales": level * (1 + 0.3 * promo + rng.normal(0, 0.05, rows)),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


TINY = ["--lookback", 8, "--horizon", 3, "--epochs", 1, "--batch-size", 32, "--combine", "none"]


def train_panel_model(folder: Path) -> None:
    data, future = folder / "sales.csv", folder / "plan.csv"
    promo_panel().to_csv(data, index=False)
    plan = pd.DataFrame({"store": ["north", "south"] * 9, "promo": [1.0, 0.0, 0.0] * 6})
    plan.to_csv(future, index=False)
    flags = ["--id-col", "store", "--target", "sales", "--future-features", "promo"]
    flags += ["--calendar", "--layers", "lstm:3,bigru:3:ave", "--head", "many-to-many"]
    flags += ["--members", 2, "--anchor", "linear", *TINY]
    trained = invoke("train", data, *flags, "--model-dir", folder / "model")
    assert trained.exit_code == 0, trained.output


@pytest.fixture(scope="module")
def panel_model(tmp_path_factory):
    """A model of two series with future features, the calendar, an ensemble of two and
    the many-to-many head, trained for an epoch once in the run; its data and the
    promotions after it."""
    folder, _ = made_once(tmp_path_factory, "panel_model", train_panel_model)
    return folder / "model", folder / "sales.csv", folder / "plan.csv"


def predicted(model_dir, out, *flags) -> tuple[pd.DataFrame, str]:
    result = invoke("predict", "--model", model_dir, "--out", out, "--no-plot", *flags)
    assert result.exit_code == 0, result.output
    return pd.read_csv(out), result.output


def as_keras_only(model_dir, folder):
    """A copy of ``model_dir`` whose network is wrapped in a layer the NumPy evaluator does
    not know, so that predict evaluates it with Keras."""
    copy = folder / "keras-model"
    shutil.copytree(model_dir, copy)
    k = keras()
    model, _ = load_model_dir(model_dir)
    inputs = k.Input(model.inputs[0].shape[1:])
    k.Model(inputs, k.layers.Identity(name="unknown")(model(inputs))).save(copy / MODEL_FILE)
    return copy


def assert_same_forecasts(fast: pd.DataFrame, slow: pd.DataFrame) -> None:
    assert list(fast.columns) == list(slow.columns) and len(fast) == len(slow)
    numbers = fast.select_dtypes("number").columns
    pd.testing.assert_frame_equal(fast.drop(columns=numbers), slow.drop(columns=numbers))
    np.testing.assert_allclose(fast[numbers], slow[numbers], rtol=1e-5, atol=1e-4)


@pytest.mark.slow
def test_predict_forecasts_many_series_with_covariates_as_keras(panel_model, tmp_path):
    model_dir, data, future = panel_model
    flags = ["--data", data, "--steps", 7, "--intervals", "80,95", "--future-data", future]
    fast, output = predicted(model_dir, tmp_path / "fast.csv", *flags)  # beyond the horizon
    assert "TensorFlow" not in output
    network, _, notes = load_forecaster(model_dir)
    assert isinstance(network, inference.Network) and notes == ()
    slow, output = predicted(as_keras_only(model_dir, tmp_path), tmp_path / "slow.csv", *flags)
    note = flat(output)  # folded where the console wraps it
    assert "layer 'unknown' of type Identity" in note and "loaded with TensorFlow" in note
    assert len(fast) == 14 and {"sales_lower_95", "sales_upper_80"} <= set(fast.columns)
    assert_same_forecasts(fast, slow)


def test_predict_forecasts_with_features_known_up_to_now_as_keras(write_csv, tmp_path):
    frame = promo_panel().query("store == 'south'").drop(columns="store")
    data = write_csv("south.csv", frame)
    flags = ["--target", "sales", "--features", "promo", "--layers", "birnn:3:mul", *TINY]
    trained = invoke("train", data, *flags, "--anchor", "seasonal", "--model-dir", tmp_path / "m")
    assert trained.exit_code == 0, trained.output
    predict = ["--data", data, "--steps", 3, "--intervals", "90"]
    fast, _ = predicted(tmp_path / "m", tmp_path / "fast.csv", *predict)
    slow, _ = predicted(as_keras_only(tmp_path / "m", tmp_path), tmp_path / "slow.csv", *predict)
    assert_same_forecasts(fast, slow)


def test_predict_imports_neither_tensorflow_nor_keras(panel_model, tmp_path):
    model_dir, data, future = panel_model
    args = ["predict", "--model", model_dir, "--data", data, "--steps", 7, "--intervals", "80"]
    args += ["--future-data", future, "--out", tmp_path / "f.csv", "--plot", tmp_path / "f.png"]
    code, heavy = modules_loaded_by([str(arg) for arg in args])
    assert code == 0 and (tmp_path / "f.png").is_file()
    assert "tensorflow" not in heavy and "keras" not in heavy, heavy
