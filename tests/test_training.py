import dataclasses
import json
import signal
import sys

import numpy as np
import pytest
from conftest import Freed, ctrl_c_as_at_a_terminal

from forecast_cli import signals
from forecast_cli.config import (
    Anchor,
    Head,
    ModelConfig,
    TrainConfig,
    Xla,
    parse_layers,
)
from forecast_cli.network import build_model
from forecast_cli.report import Report
from forecast_cli.runtime import seed_everything
from forecast_cli.training import Branch, fit


def data(seed: int = 0, windows: int = 64, training: int = 48):
    rng = np.random.default_rng(seed)
    inputs = rng.normal(size=(windows, 5, 1)).astype(np.float32)
    targets = inputs[:, -1:, :1] * 0.5
    return (inputs[:training], targets[:training]), (inputs[training:], targets[training:])


def branch(
    layers: str = "lstm:3",
    head: Head = Head.MANY_TO_ONE,
    name: str = "net",
    dropout: float = 0.0,
    anchor: Anchor = Anchor.NONE,
) -> Branch:
    seed_everything(0)  # the weights depend on the seed alone, as in forecast train
    config = ModelConfig(parse_layers(layers), head, dropout=dropout, anchor=anchor)
    return Branch(name, build_model(config, 5, 1, 1, 1, name), head)


def val_loss_now(net: Branch, val) -> float:
    """The validation loss of ``net`` as it stands: the mean absolute error, the default."""
    predicted = np.asarray(net.model(val[0]))
    if net.head is Head.MANY_TO_MANY:
        return float(np.mean(np.abs(predicted - val[1][:, None])))
    return float(np.mean(np.abs(predicted - val[1])))


def test_early_stopping_keeps_the_best_validation_epoch():
    net, (train, val) = branch(), data()
    result = fit([net], train, val, TrainConfig(epochs=30, patience=2, learning_rate=0.5))["net"]
    best = int(np.argmin(result.history["val_loss"]))
    assert result.best_epoch == best + 1 and not result.interrupted
    assert result.epochs_run == len(result.history["loss"]) == best + 1 + 2  # stopped by patience
    np.testing.assert_allclose(val_loss_now(net, val), result.history["val_loss"][best], rtol=1e-4)


def test_ctrl_c_ends_training_and_keeps_the_best_weights_so_far():
    net, (train, val) = branch(), data()
    seen = []

    def press_ctrl_c_at_epoch_4(epoch, active, seconds):
        seen.append(active["net"][1])
        if epoch == 4:
            raise KeyboardInterrupt

    config = TrainConfig(epochs=50, learning_rate=0.5)
    result = fit([net], train, val, config, press_ctrl_c_at_epoch_4)["net"]
    assert result.interrupted and result.epochs_run == 4
    assert result.backed_up == 0  # no backup file: the message offers no resume
    assert result.best_epoch == int(np.argmin(seen)) + 1
    np.testing.assert_allclose(val_loss_now(net, val), min(seen), rtol=1e-4)


def train_with_a_signal(monkeypatch, signum: int, at: int, epochs: int, inside: str):
    """``fit`` under the command's signal handlers, signal ``signum`` taken at the end of
    epoch ``at`` where raising its exception would go wrong, and ``fit`` defers it:
    ``inside`` a "destructor", where Python would drop the exception and print it as
    "Exception ignored" (checked here: nothing is printed), or inside the exception
    "tensorflow"'s C++ builds when the epoch's validation pass ends, where it would
    replace the one pybind11 is handling."""

    from tensorflow.python.eager.core import _NotOkStatusException as EndOfData

    built = EndOfData.__init__

    def build_with_the_signal(self, *args):
        monkeypatch.setattr(EndOfData, "__init__", built)
        signal.raise_signal(signum)
        built(self, *args)

    def take_the_signal(epoch, active, seconds):
        if inside == "destructor" and epoch == at:
            Freed(signum)
        elif inside == "tensorflow" and epoch == at - 1:  # the next validation pass's end
            monkeypatch.setattr(EndOfData, "__init__", build_with_the_signal)

    net, (train, val) = branch(), data()
    printed = []
    monkeypatch.setattr(sys, "unraisablehook", printed.append)
    try:
        with ctrl_c_as_at_a_terminal(), signals.handlers():
            config = TrainConfig(epochs=epochs, learning_rate=0.5)
            return fit([net], train, val, config, take_the_signal)["net"]
    finally:
        assert printed == []


@pytest.mark.parametrize(
    "inside, at, epochs",
    [("destructor", 3, 20), ("destructor", 4, 4), ("tensorflow", 3, 20)],
)
def test_a_ctrl_c_where_raising_goes_wrong_still_stops_training(monkeypatch, inside, at, epochs):
    """At the training's next step, or once its last epoch is over."""
    result = train_with_a_signal(monkeypatch, signal.SIGINT, at, epochs, inside)
    assert result.interrupted and result.epochs_run == at


@pytest.mark.parametrize("inside", ["destructor", "tensorflow"])
def test_a_sigterm_where_raising_goes_wrong_still_ends_the_run(monkeypatch, inside):
    with pytest.raises(SystemExit) as ended:
        train_with_a_signal(monkeypatch, signal.SIGTERM, 2, 20, inside)
    assert ended.value.code == 128 + signal.SIGTERM


def test_ctrl_c_before_any_epoch_improves_keeps_nothing():
    net, (train, val) = branch(), data()
    untrained = net.model.get_weights()
    calls = []

    def interrupt_when_epoch_1_is_kept():
        calls.append(1)
        if len(calls) > 1:  # the first call saves the untrained weights as epoch 0
            raise KeyboardInterrupt
        return untrained

    net.model.get_weights = interrupt_when_epoch_1_is_kept
    with pytest.raises(KeyboardInterrupt):
        fit([net], train, val, TrainConfig(epochs=5))
    assert len(calls) == 2  # interrupted inside training, not before it


def test_ctrl_c_keeps_a_network_that_stopped_at_its_untrained_state():
    """A frozen network that forecasts perfectly from epoch 0 stops after its patience,
    having chosen its untrained state for good; a Ctrl-C later, while the other still
    learns, keeps both rather than nothing."""
    steps = np.arange(200, dtype=np.float32)
    series = np.sin(2 * np.pi * steps / 8)[:, None]
    windows = np.lib.stride_tricks.sliding_window_view(series[:-1], 8, axis=0)
    inputs = np.ascontiguousarray(windows.transpose(0, 2, 1))
    targets = series[8:, None]  # (samples, 1 step, 1 target)
    seed_everything(0)
    exact = ModelConfig(parse_layers("lstm:2"), anchor=Anchor.SEASONAL, season=8)
    frozen = build_model(exact, 8, 1, 1, 1, "frozen")  # starts as seasonal naive: exact
    frozen.trainable = False
    learner = build_model(ModelConfig(parse_layers("lstm:3")), 8, 1, 1, 1, "learner")
    branches = [
        Branch("frozen", frozen, Head.MANY_TO_ONE),
        Branch("learner", learner, Head.MANY_TO_ONE),
    ]

    def interrupt_at_epoch_5(epoch, active, seconds):
        if epoch == 5:
            raise KeyboardInterrupt

    config = TrainConfig(epochs=12, patience=2, learning_rate=0.01)
    split = (inputs[:150], targets[:150]), (inputs[150:], targets[150:])
    results = fit(branches, *split, config, interrupt_at_epoch_5)
    assert results["frozen"].best_epoch == 0 and results["frozen"].epochs_run == 2
    assert results["learner"].interrupted and results["learner"].epochs_run == 5
    assert results["learner"].best_epoch > 0


@pytest.mark.slow
def test_joint_training_gives_each_network_what_it_gets_alone():
    """Same seed, same data: a network trained among others ends where it ends alone,
    including where its own early stopping stopped it. The last batches of both splits
    hold fewer windows than the others: the losses must weigh every window alike, alone
    or beside others."""
    specs = [
        ("bilstm:4:sum", Head.MANY_TO_ONE, "a"),
        ("gru:3", Head.MANY_TO_MANY, "b"),
        ("rnn:5", Head.MANY_TO_ONE, "c"),
    ]
    train, val = data(windows=120, training=80)  # batches of 32: 32, 32, 16 and 32, 8
    config = TrainConfig(epochs=12, patience=3, learning_rate=0.05)
    alone = {}
    for layers, head, name in specs:
        net = branch(layers, head, name)
        alone[name] = (fit([net], train, val, config)[name], net.model.get_weights())
    together = [branch(layers, head, name) for layers, head, name in specs]
    joint = fit(together, train, val, config)
    for net in together:
        result, weights = alone[net.name]
        assert joint[net.name].epochs_run == result.epochs_run
        assert joint[net.name].best_epoch == result.best_epoch
        for losses in ("loss", "val_loss"):
            np.testing.assert_allclose(
                joint[net.name].history[losses], result.history[losses], rtol=1e-4
            )
        for mine, theirs in zip(net.model.get_weights(), weights, strict=True):
            np.testing.assert_allclose(mine, theirs, rtol=1e-4, atol=1e-5)
    assert len({result.epochs_run for result, _ in alone.values()}) > 1  # stops differ


def test_batches_gather_windows_from_rows_held_once():
    """Consecutive window views are rebuilt from their rows; any other array as it is."""
    import tensorflow as tf

    from forecast_cli.training import _gatherer
    from forecast_cli.windows import make_windows

    series = np.arange(60, dtype=np.float32).reshape(30, 2)
    inputs, targets = make_windows(series, lookback=5, horizon=3, n_targets=1)
    index = tf.constant([7, 0, 11], dtype=tf.int64)
    per_step = inputs[:, 1:, None]  # (samples, steps, 1, columns): many-to-many targets
    for windows in (inputs, targets, np.ascontiguousarray(inputs[::2]), per_step):
        np.testing.assert_array_equal(_gatherer(tf, windows)(index), windows[[7, 0, 11]])


@pytest.mark.parametrize("workers", [False, True])
def test_the_batches_are_made_without_autotuning(workers):
    """tf.data's autotuning thread held up the deletion of an iterator stopped early, up
    to 39 s of a compare worker's 50 (docs/development.md). A multi-worker training still
    shards each batch."""
    import tensorflow as tf

    from forecast_cli.training import _dataset

    data = (np.zeros((10, 4, 1), np.float32), np.zeros((10, 2, 1), np.float32))
    branch = Branch("network", None, Head.MANY_TO_ONE)
    options = _dataset(tf, data, [branch], 4, shuffle=(1, 0, 3), workers=workers).options()
    assert options.autotune.enabled is False
    sharded = options.experimental_distribute.auto_shard_policy
    assert (sharded == tf.data.experimental.AutoShardPolicy.DATA) is workers


def crash_at(epoch: int):
    """An epoch hook that fails like a machine would, after ``epoch`` epochs."""

    def hook(reached, active, seconds):
        if reached == epoch:
            raise RuntimeError("the machine fails")

    return hook


@pytest.mark.slow
def test_a_crashed_training_resumes_from_its_backup_as_if_never_stopped(tmp_path):
    """Two networks, one with dropout (whose random state must be restored too): the run
    that crashes after epoch 5 and resumes ends exactly where the whole run ends."""
    train, val = data()
    config = TrainConfig(epochs=12, patience=4, learning_rate=0.05)

    def networks():
        return [branch("lstm:3", name="a", dropout=0.3), branch("gru:3", Head.MANY_TO_MANY, "b")]

    def train_them(nets, hook=None, backup=None):
        return fit(nets, train, val, config, hook, backup)

    whole = networks()
    expected = train_them(whole)
    backup = tmp_path / "model.backup.npz"
    with pytest.raises(RuntimeError, match="the machine fails"):
        train_them(networks(), crash_at(5), backup)
    trained_before = json.loads(str(np.load(backup)["meta"]))["state"]["seconds"]
    seen = []
    resumed = networks()
    results = train_them(resumed, lambda epoch, active, seconds: seen.append(epoch), backup)
    assert results["a"].resumed == f"Resumed after epoch 5 from the backup {backup}."
    assert results["a"].resumed_after == 5 and results["a"].seconds > trained_before > 0
    assert seen[0] == 5 and seen[-1] == expected["a"].epochs_run > 5
    for mine, theirs in zip(resumed, whole, strict=True):
        assert results[mine.name].history == expected[mine.name].history
        assert results[mine.name].best_epoch == expected[mine.name].best_epoch
        for a, b in zip(mine.model.get_weights(), theirs.model.get_weights(), strict=True):
            np.testing.assert_array_equal(a, b)


@pytest.mark.slow
def test_a_backup_of_other_settings_or_data_or_damaged_is_not_resumed(tmp_path):
    train, val = data()
    config = TrainConfig(epochs=6, learning_rate=0.05)
    backup = tmp_path / "model.backup.npz"
    with pytest.raises(RuntimeError):
        fit([branch()], train, val, config, crash_at(3), backup_file=backup)
    fresh = fit([branch()], train, val, config)["net"]
    for changed_config, changed_data in (
        (dataclasses.replace(config, learning_rate=0.01), data()),
        (config, data(seed=1)),
        (dataclasses.replace(config, epochs=50), data()),  # this may change
    ):
        result = fit([branch()], *changed_data, changed_config, backup_file=backup)["net"]
        if changed_config.epochs == 50:
            assert result.resumed.startswith("Resumed after epoch 3")
            continue
        assert result.resumed == (
            f"Started afresh: the backup {backup} was made with other data or settings."
        )
        with pytest.raises(RuntimeError):  # puts back the first backup, for the next case
            fit([branch()], train, val, config, crash_at(3), backup_file=backup)
    for damaged in (b"half a file", None):  # None: a whole .npz whose text is not ours
        if damaged is None:
            np.savez(backup, meta=np.array("[1, 2]"))
        else:
            backup.write_bytes(damaged)
        result = fit([branch()], train, val, config, backup_file=backup)["net"]
        assert result.resumed == f"Started afresh: the backup {backup} cannot be read."
    assert result.history == fresh.history  # a training started afresh is a fresh training


def test_a_training_that_had_finished_resumes_to_its_end_without_training(tmp_path):
    """A crash between the last epoch and the saving of the model: the backup already
    holds the final state, which the rerun takes as it is (through the real progress
    bar, which then has no losses to show)."""
    train, val = data()
    config = TrainConfig(epochs=30, patience=2, learning_rate=0.5)
    whole = branch()
    expected = fit([whole], train, val, config)["net"]
    assert expected.epochs_run < config.epochs  # stopped early: its last epoch is the end
    backup = tmp_path / "model.backup.npz"
    with pytest.raises(RuntimeError):
        fit([branch()], train, val, config, crash_at(expected.epochs_run), backup_file=backup)
    resumed = branch()
    with Report().epochs(config.epochs) as hook:
        result = fit([resumed], train, val, config, hook, backup_file=backup)["net"]
    assert result.resumed_after == expected.epochs_run == result.epochs_run
    assert result.history == expected.history and result.best_epoch == expected.best_epoch
    for a, b in zip(resumed.model.get_weights(), whole.model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_a_backup_past_the_epochs_asked_for_is_not_resumed(tmp_path):
    """The run asked for would have stopped before the backup's epoch: its weights are
    not that run's, so it starts afresh."""
    train, val = data()
    config = TrainConfig(epochs=6, learning_rate=0.05)
    backup = tmp_path / "model.backup.npz"
    with pytest.raises(RuntimeError):
        fit([branch()], train, val, config, crash_at(4), backup_file=backup)
    fewer = dataclasses.replace(config, epochs=3)
    result = fit([branch()], train, val, fewer, backup_file=backup)["net"]
    assert result.resumed == f"Started afresh: the backup {backup} is past epoch 3 (--epochs)."
    assert result.resumed_after == 0 and result.epochs_run == 3


def test_the_backup_key_covers_mixed_precision_but_not_where_or_how_long():
    """--mixed-precision changes the numbers, so a backup made without it is not resumed;
    --epochs may change between a run and its resumption (--device and --strategy are
    runtime settings, not training's, and never part of the key)."""
    from forecast_cli.runtime import keras
    from forecast_cli.training import _backup_key

    train, val = data()
    config = TrainConfig()

    def key(policy="float32", **changes):
        previous = keras().mixed_precision.global_policy()
        keras().mixed_precision.set_dtype_policy(policy)
        try:
            net = branch()
            window = keras().Input(shape=(5, 1))
            joint = keras().Model(window, {net.name: net.model(window)})
            return _backup_key(joint, train, val, dataclasses.replace(config, **changes))
        finally:
            keras().mixed_precision.set_dtype_policy(previous)

    assert key(epochs=7) == key() == key(xla=Xla.ON)
    assert key("mixed_float16") != key()


@pytest.mark.slow
def test_xla_compiled_steps_train_as_the_executor_does():
    """--xla on: the same networks, trained as one model (both directions, a merge mode,
    both heads, an anchor), end with the validation losses and weights of --xla off.
    Dropout may draw its masks otherwise under XLA: it trains, to weights of its own."""
    specs = [
        ("bigru:3:mul", Head.MANY_TO_MANY, "plain", 0.0, Anchor.LAST),
        ("lstm:4", Head.MANY_TO_ONE, "dropout", 0.2, Anchor.NONE),
    ]
    train, val = data()
    ends = []
    for xla in (Xla.OFF, Xla.ON):  # batches of 16: one size, one compilation per step
        nets = [branch(*spec) for spec in specs]
        results = fit(
            nets, train, val, TrainConfig(epochs=3, batch_size=16, learning_rate=0.05, xla=xla)
        )
        ends.append(
            {n.name: (results[n.name].history["val_loss"], n.model.get_weights()) for n in nets}
        )
        assert {results[n.name].compiled for n in nets} == {xla is Xla.ON}
    plain, compiled = ends
    np.testing.assert_allclose(compiled["plain"][0], plain["plain"][0], rtol=1e-4)
    for mine, theirs in zip(compiled["plain"][1], plain["plain"][1], strict=True):
        np.testing.assert_allclose(mine, theirs, rtol=1e-4, atol=1e-5)
    assert compiled["dropout"][0][-1] < compiled["dropout"][0][0]  # it learns all the same


def test_xla_auto_compiles_only_a_training_long_enough_to_repay_it():
    import tensorflow as tf

    from forecast_cli.training import MIN_XLA_RECURRENT_STEPS, _compiled

    enough = MIN_XLA_RECURRENT_STEPS
    assert _compiled(tf, TrainConfig(), enough, fusable=False)
    assert not _compiled(tf, TrainConfig(), enough - 1, fusable=False)
    assert _compiled(tf, TrainConfig(xla=Xla.ON), 1, fusable=False)
    assert _compiled(tf, TrainConfig(xla="on"), 1, fusable=False)  # the Python API may pass strings
    assert not _compiled(tf, TrainConfig(xla="off"), enough * 10, fusable=False)


def test_xla_stays_off_on_a_gpu():
    """cuDNN's kernels cannot be compiled: XLA stays off there, asked for or not (stub of
    tf; use_device refuses --xla on on a GPU before the data is read)."""
    from types import SimpleNamespace

    from forecast_cli.training import MIN_XLA_RECURRENT_STEPS, _compiled

    gpu = SimpleNamespace(
        config=SimpleNamespace(list_logical_devices=lambda kind: ["/GPU:0"]),
        distribute=SimpleNamespace(has_strategy=lambda: False),
    )
    for xla in (Xla.AUTO, Xla.ON):
        assert not _compiled(gpu, TrainConfig(xla=xla), MIN_XLA_RECURRENT_STEPS * 10, fusable=False)


def test_fit_counts_the_recurrent_steps_before_early_stopping_may_end_it(monkeypatch):
    """Batches x lookback x (patience + 1) epochs, or fewer epochs if that is all."""
    import forecast_cli.training as training

    seen = []
    real = training._compiled
    monkeypatch.setattr(
        training,
        "_compiled",
        lambda tf, c, steps, fusable: seen.append(steps) or real(tf, c, steps, fusable),
    )
    train, val = data()  # 48 windows of 5 steps
    fit([branch()], train, val, TrainConfig(epochs=1, batch_size=16, patience=3))
    fit([branch()], train, val, TrainConfig(epochs=9, batch_size=16, patience=2, xla=Xla.OFF))
    assert seen == [3 * 5 * 1, 3 * 5 * 3]
