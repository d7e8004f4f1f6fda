"""LSTMs run as TensorFlow's fused kernel compute what Keras's own loop computes."""

import json
from types import SimpleNamespace

import numpy as np
import pytest

from forecast_cli import fused_lstm, training
from forecast_cli.artifacts import CARD_FILE
from forecast_cli.candidates import Candidate
from forecast_cli.compare_run import _jobs
from forecast_cli.config import (
    CompareConfig,
    DataConfig,
    Head,
    ModelConfig,
    RuntimeConfig,
    TrainConfig,
    Windows,
    Xla,
    parse_layers,
)
from forecast_cli.network import build_model
from forecast_cli.runtime import keras, seed_everything
from forecast_cli.training import MIN_XLA_RECURRENT_STEPS, Branch, _compiled, fit

LOOKBACK, FEATURES = 7, 2


def network(layers: str, head: Head = Head.MANY_TO_ONE):
    seed_everything(0)
    return build_model(ModelConfig(parse_layers(layers), head), LOOKBACK, FEATURES, 3, 1)


def outputs_and_gradients(model, windows: np.ndarray):
    import tensorflow as tf

    with tf.GradientTape() as tape:
        outputs = model(windows)
        loss = tf.reduce_sum(outputs**2)
    return np.asarray(outputs), tape.gradient(loss, model.trainable_variables)


@pytest.mark.parametrize(
    ("layers", "head"),
    [
        ("lstm:5", Head.MANY_TO_ONE),
        ("lstm:4,bilstm:3:concat", Head.MANY_TO_MANY),  # sequences, both directions
        ("bilstm:3:sum", Head.MANY_TO_ONE),
        ("bilstm:4:mul,bilstm:3:ave", Head.MANY_TO_MANY),
    ],
)
def test_fused_networks_compute_the_outputs_and_gradients_of_keras_loop(layers, head):
    windows = np.random.default_rng(1).normal(size=(6, LOOKBACK, FEATURES)).astype(np.float32)
    windows *= 3  # gates well away from 0.5: a swapped gate or a clipped cell would show
    plain, fused = network(layers, head), network(layers, head)
    assert fused_lstm.fuse([fused])
    expected, expected_gradients = outputs_and_gradients(plain, windows)
    got, gradients = outputs_and_gradients(fused, windows)
    np.testing.assert_allclose(got, expected, atol=1e-5)
    for mine, theirs in zip(gradients, expected_gradients, strict=True):
        np.testing.assert_allclose(mine, theirs, rtol=1e-4, atol=1e-5)


def test_a_masked_call_runs_keras_loop():
    windows = np.random.default_rng(2).normal(size=(4, LOOKBACK, FEATURES)).astype(np.float32)
    mask = np.arange(LOOKBACK)[None, :] < np.array([[3], [7], [5], [1]])
    seed_everything(0)
    plain = keras().layers.LSTM(3, return_sequences=True)
    plain(windows)
    fused = keras().layers.LSTM(3, return_sequences=True)
    fused(windows)
    fused.set_weights(plain.get_weights())
    assert fused_lstm.fuse([keras().Sequential([fused])])
    np.testing.assert_allclose(fused(windows, mask=mask), plain(windows, mask=mask), atol=1e-6)
    assert not np.allclose(fused(windows, mask=mask), fused(windows), atol=1e-3)


def test_only_lstms_of_the_kernel_equations_are_fused_and_never_on_a_gpu(monkeypatch):
    mixed = network("lstm:4,gru:3")
    assert not fused_lstm.fusable([mixed]) and fused_lstm.fusable([network("bilstm:3")])
    assert fused_lstm.fuse([mixed])  # its LSTM, not its GRU
    lstm, gru = [layer for layer in mixed.layers if "lstm" in layer.name or "gru" in layer.name]
    assert "inner_loop" in vars(lstm) and "inner_loop" not in vars(gru)
    assert not fused_lstm.fuse([mixed])  # nothing left to change

    dropping = build_model(
        ModelConfig(parse_layers("lstm:3"), recurrent_dropout=0.2), LOOKBACK, FEATURES, 3, 1
    )
    assert not fused_lstm.fusable([dropping]) and not fused_lstm.fuse([dropping])

    gpu = SimpleNamespace(config=SimpleNamespace(list_logical_devices=lambda kind: ["/GPU:0"]))
    monkeypatch.setattr(fused_lstm, "tensorflow", lambda: gpu)
    assert not fused_lstm.fuse([network("lstm:3")])  # cuDNN's kernel, by Keras


@pytest.mark.parametrize(
    ("layers", "xla", "fused"),
    [
        ("bilstm:3", Xla.OFF, True),
        ("bilstm:3", Xla.ON, False),
        ("bilstm:3", Xla.AUTO, True),  # however long the training: the kernel is faster
        ("bigru:3", Xla.AUTO, False),  # long enough to repay XLA's compilation
    ],
)
def test_fit_fuses_the_lstms_unless_xla_compiles_the_steps(layers, xla, fused, monkeypatch):
    monkeypatch.setattr(training, "MIN_XLA_RECURRENT_STEPS", 1)
    rng = np.random.default_rng(0)
    windows = rng.normal(size=(40, LOOKBACK, FEATURES)).astype(np.float32)
    targets = windows[:, -3:, :1]
    net = Branch("net", network(layers), Head.MANY_TO_ONE)
    config = TrainConfig(epochs=2, batch_size=20, xla=xla)
    result = fit([net], (windows[:30], targets[:30]), (windows[30:], targets[30:]), config)
    assert result["net"].compiled is not fused and result["net"].fused is fused
    # after the training, Keras's loop again: its forecasts of many windows at once
    # hold less memory
    assert "inner_loop" not in vars(net.model.layers[1].forward_layer)


def test_the_lstms_run_keras_loop_again_after_the_block_even_on_an_error():
    model = network("bilstm:3")
    forward = model.layers[1].forward_layer
    with pytest.raises(KeyboardInterrupt), fused_lstm.fused([model]) as fused:
        assert fused and "inner_loop" in vars(forward)
        raise KeyboardInterrupt
    assert "inner_loop" not in vars(forward)


def test_the_model_card_says_the_lstms_ran_fused(sine_model):
    card = json.loads((sine_model / CARD_FILE).read_text())
    assert card["training"]["fused_lstm"] is True and card["training"]["xla_compiled"] is False


@pytest.mark.parametrize(
    "model",
    [
        ModelConfig(parse_layers("bilstm:3,lstm:2")),
        ModelConfig(parse_layers("lstm:3,gru:2")),
        ModelConfig(parse_layers("rnn:3")),
        ModelConfig(parse_layers("lstm:3"), recurrent_dropout=0.1),
    ],
)
def test_a_configuration_is_fused_when_the_network_it_builds_is(model):
    built = build_model(model, LOOKBACK, FEATURES, 3, 1)
    assert fused_lstm.fused_config(model) is fused_lstm.fusable([built])


@pytest.mark.parametrize("shares", [1, 2])
def test_compare_never_trains_fused_and_unfused_candidates_in_one_job(shares):
    """In one model, XLA could compile the LSTMs' steps that train fused in a job of
    their own: their path and scores would depend on --jobs."""
    candidates = [
        Candidate(layers, ModelConfig(parse_layers(layers)))
        for layers in ("lstm:4", "gru:4", "bilstm:3", "rnn:2")
    ]
    options = CompareConfig(repeats=2)
    jobs = _jobs(
        Windows(8, 1),
        candidates,
        shares,
        DataConfig(),
        TrainConfig(),
        RuntimeConfig(),
        options,
    )
    for job in jobs:
        assert len({fused_lstm.fused_config(c.model) for c in job.candidates}) == 1
    for seed in (42, 43):
        labels = [c.label for job in jobs if job.training.seed == seed for c in job.candidates]
        assert sorted(labels) == sorted(c.label for c in candidates)
    assert len(jobs) == 2 * 2 * shares  # seeds x (fused, unfused) x shares


def test_xla_auto_leaves_a_network_of_fused_lstms_to_the_kernel():
    import tensorflow as tf

    many = MIN_XLA_RECURRENT_STEPS * 10
    assert not _compiled(tf, TrainConfig(), many, fusable=True)
    assert _compiled(tf, TrainConfig(), many, fusable=False)
    assert _compiled(tf, TrainConfig(xla=Xla.ON), 1, fusable=True)
