"""Forecast quality checks from the issue's definition of done, trained for real."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecast_cli.config import Head, ModelConfig, TrainConfig, parse_layers
from forecast_cli.network import build_model
from forecast_cli.runtime import seed_everything
from forecast_cli.training import Branch, fit

SINE = Path(__file__).parents[1] / "sample_data" / "sine.csv"
NOISE_SD = 0.1  # the noise in sample_data/sine.csv


@pytest.mark.slow
def test_default_model_reaches_the_noise_floor_on_the_bundled_sine(cli):
    result = cli("train", SINE, "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.splitlines()[-1])
    assert summary["val_rmse"] <= 1.25 * NOISE_SD


@pytest.mark.slow
def test_bidirectional_many_to_many_cannot_see_its_targets_on_white_noise(cli, write_csv):
    rng = np.random.default_rng(3)
    noise = write_csv("noise.csv", pd.DataFrame({"value": rng.normal(0, 1.0, 600)}))
    result = cli(
        "train",
        noise,
        "--layers",
        "bilstm:16",
        "--head",
        "many-to-many",
        "--horizon",
        2,
        "--epochs",
        15,
        "--patience",
        15,
        "--scale",
        "none",
        "--json",
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout.splitlines()[-1])["val_rmse"] >= 0.8 * 1.0


def test_the_leak_this_guards_against_is_real():
    """With the textbook target (the input shifted by one step) the backward pass copies it."""
    seed_everything(0)
    inputs = np.random.default_rng(4).normal(size=(400, 11, 1)).astype(np.float32)
    leaky_inputs, leaky_targets = inputs[:, :-1], inputs[:, 1:, None]  # target t = input t+1
    model = build_model(ModelConfig(parse_layers("bilstm:16"), Head.MANY_TO_MANY), 10, 1, 1, 1)
    # The targets are given per step already, so the branch takes them as they are.
    results = fit(
        [Branch("leaky", model, Head.MANY_TO_ONE)],
        (leaky_inputs[:320], leaky_targets[:320]),
        (leaky_inputs[320:], leaky_targets[320:]),
        TrainConfig(epochs=15, learning_rate=0.01),
    )
    assert min(results["leaky"].history["val_loss"]) < 0.5  # far below the noise variance of 1.0
