"""--device and --mixed-precision: what is used is said, and what cannot be is refused."""

import json

import numpy as np
import pytest
from conftest import FAST, error_line, flat

from forecast_cli.config import Anchor, Head, ModelConfig, TrainConfig, parse_layers
from forecast_cli.network import build_model
from forecast_cli.runtime import keras, tensorflow
from forecast_cli.training import Branch, fit


@pytest.fixture
def unread(tmp_path):
    """A data file that reading would refuse (it is empty): a refusal of the machine's
    instead shows that the file was never read."""
    path = tmp_path / "unread.csv"
    path.write_text("")
    return path


def test_training_says_which_device_it_used(cli, sine_csv):
    result = cli("train", sine_csv, *FAST, "--device", "cpu")
    assert result.exit_code == 0, result.output
    assert "device CPU (" in flat(result.output)


@pytest.mark.parametrize(
    ("flag", "message"),
    [
        (["--device", "gpu"], "--device gpu: TensorFlow sees no GPU"),
        (["--mixed-precision"], "--mixed-precision computes in float16, which only GPUs"),
    ],
)
@pytest.mark.parametrize("command", ["train", "compare", "backtest"])
def test_what_this_machine_lacks_is_refused_before_reading_the_data(
    cli, command, flag, message, unread
):
    # the tests run with no GPU visible, like CI
    assert message in error_line(cli(command, unread, *flag))


@pytest.mark.slow
def test_worker_processes_refuse_it_and_the_command_never_loads_tensorflow(cli, unread):
    """With worker processes the command's own process leaves TensorFlow to them: its
    import (seconds) would delay theirs. Their set-up refuses what the machine lacks,
    once, before the data is read (a worker pool whose set-up raises starts new workers
    forever)."""
    before = tensorflow.cache_info()
    two = ["--layers", "lstm:4", "--layers", "gru:4", "--jobs", 2]
    refused = cli("compare", unread, *two, "--mixed-precision")
    assert error_line(refused).startswith("Error: --mixed-precision computes in float16")
    assert tensorflow.cache_info() == before


@pytest.mark.parametrize(
    "command",
    [
        ["train"],
        ["compare"],
        ["backtest"],
        ["compare", "--ray", "local"],
        ["backtest", "--ray", "local"],
    ],
)
def test_xla_on_beside_a_strategy_is_refused_before_reading_the_data(cli, command, unread):
    """A strategy trains through Keras's own fit, whose steps --xla does not compile; on
    a Ray cluster too, whose tasks set the strategy up where they run."""
    flags = ["--xla", "on", "--strategy", "mirrored"]
    assert error_line(cli(*command, unread, *flags)) == (
        "Error: --xla on compiles the training steps of one process; with --strategy they "
        "run through Keras's own fit, which does not: leave out one of them."
    )


def test_xla_on_is_refused_for_the_gpus_of_a_ray_cluster(cli, unread):
    flags = ["--ray", "local", "--device", "gpu", "--xla", "on"]
    assert error_line(cli("compare", unread, *flags)).startswith(
        "Error: --xla on: on a GPU the recurrent layers run cuDNN kernels"
    )


@pytest.fixture
def mixed_float16():
    policy = keras().mixed_precision.global_policy()
    keras().mixed_precision.set_dtype_policy("mixed_float16")
    yield
    keras().mixed_precision.set_dtype_policy(policy)


@pytest.mark.parametrize("anchor", [Anchor.NONE, Anchor.LAST])
def test_under_mixed_precision_the_network_trains_and_answers_in_float32(mixed_float16, anchor):
    """What --mixed-precision sets on a GPU, run on the CPU: float16 layers, float32 output."""
    config = ModelConfig(parse_layers("lstm:4"), Head.MANY_TO_ONE, anchor=anchor)
    model = build_model(config, 5, 1, 2, 1)
    assert model.get_layer("lstm_1").compute_dtype == "float16"
    assert model.output.dtype == "float32"
    rng = np.random.default_rng(0)
    inputs = rng.normal(size=(64, 5, 1)).astype(np.float32)
    targets = inputs[:, -2:, :1]
    result = fit(
        [Branch("net", model, Head.MANY_TO_ONE)],
        (inputs[:48], targets[:48]),
        (inputs[48:], targets[48:]),
        TrainConfig(epochs=3),
    )["net"]
    assert np.isfinite(result.history["loss"]).all() and result.epochs_run == 3


def test_mirrored_training_on_one_device_matches_plain_training(cli, sine_csv, tmp_path):
    """--strategy mirrored (tf.distribute.MirroredStrategy) over this machine's one device:
    the batches are not split, so the result matches training without it. Two members,
    so that Keras's fit reads each branch's losses by name as the plain loop does."""
    scores = {}
    for strategy in ("none", "mirrored"):
        args = ["train", sine_csv, *FAST, "--members", 2, "--strategy", strategy]
        args += ["--model-dir", strategy]
        result = cli(*args, "--json")
        assert result.exit_code == 0, result.output
        scores[strategy] = json.loads(result.stdout.splitlines()[-1])["val_rmse"]
    assert "mirrored over 1 replica(s)" in flat(result.output)
    # the loss is reduced over replicas in another order: equal to float rounding
    assert scores["mirrored"] == pytest.approx(scores["none"], rel=5e-3)
    assert cli("predict", "--model", "mirrored", "--steps", 3, "--no-plot").exit_code == 0
