"""Fit one or several networks together, with per-network early stopping and a clean Ctrl-C.

Several candidate networks (``forecast compare``) train as *branches* of one Keras model
that feeds them the same batches and sums their losses. Their weights are disjoint and
Adam's state and the clipping (``clipnorm`` clips each weight's gradient on its own) are
per weight, so every branch receives exactly the updates it would receive alone: joint
training only saves the per-step overhead of running the fits one after another. Each
branch keeps its own early stopping: once its patience runs out its best weights are
final and the rest of its history is ignored, as if it had stopped. ``forecast train`` is
the one-branch case.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from forecast_cli.config import Head, Loss, TrainConfig
from forecast_cli.runtime import keras, tensorflow

# Called after each epoch with (epoch, {branch name: (loss, val_loss)} of the branches
# still training).
EpochHook = Callable[[int, dict[str, tuple[float, float]]], None]


@dataclass(frozen=True)
class Branch:
    """A network to train, by name, and the head that decides its targets' shape."""

    name: str
    model: object  # keras.Model
    head: Head


@dataclass(frozen=True)
class TrainResult:
    """What happened to one branch: per-epoch losses and where its kept weights came from."""

    history: dict[str, list[float]]
    epochs_run: int
    best_epoch: int  # epoch whose weights the network now holds (0: untrained)
    best_loss: float  # its validation loss
    interrupted: bool
    seconds: float


@dataclass
class _Progress:
    """Early-stopping state of one branch."""

    best: float = math.inf
    best_epoch: int = 0
    wait: int = 0
    weights: list = field(default_factory=list)
    done: bool = False
    history: dict[str, list[float]] = field(default_factory=lambda: {"loss": [], "val_loss": []})


def fit(
    branches: list[Branch],
    train: tuple[np.ndarray, np.ndarray],
    val: tuple[np.ndarray, np.ndarray],
    config: TrainConfig,
    on_epoch: EpochHook | None = None,
    keep: Callable[[list[float]], int] | None = None,
) -> dict[str, TrainResult]:
    """Train every branch in place; each ends holding the weights of its best validation epoch.

    ``train`` and ``val`` are ``(windows, targets)`` with targets ``(samples, horizon,
    targets)``; many-to-many branches get them repeated at every step on the fly.
    With ``keep`` (only one branch will be kept: the index ``keep`` picks from the best
    validation losses) training is a race that ends as soon as the branch it would pick
    stops: the others, not chosen after as many epochs, are not worth waiting for.
    Ctrl-C stops training after the current step and keeps the best weights so far.
    """
    k, tf = keras(), tensorflow()
    window = k.Input(shape=train[0].shape[1:], name="window")
    joint = k.Model(window, {b.name: b.model(window) for b in branches}, name="joint")
    joint.compile(
        optimizer=k.optimizers.Adam(learning_rate=config.learning_rate, clipnorm=config.clipnorm),
        loss={b.name: _loss(config.loss) for b in branches},
    )
    progress = {b.name: _Progress() for b in branches}

    def leader() -> _Progress:  # the branch ``keep`` picks as things stand
        states = list(progress.values())
        return states[keep([state.best for state in states])]

    # Keras names a lone output's losses plainly, and each of several by its name.
    keys = {
        b.name: ("loss", "val_loss")
        if len(branches) == 1
        else (f"{b.name}_loss", f"val_{b.name}_loss")
        for b in branches
    }

    class Stopper(k.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            active = {}
            for branch in branches:
                state = progress[branch.name]
                if state.done:
                    continue
                losses = tuple(float(logs[key]) for key in keys[branch.name])
                _record(state, branch, epoch + 1, *losses, config.patience)
                active[branch.name] = losses
            if on_epoch is not None:
                on_epoch(epoch + 1, active)
            if all(state.done for state in progress.values()) or (keep and leader().done):
                self.model.stop_training = True

    workers = isinstance(tf.distribute.get_strategy(), tf.distribute.MultiWorkerMirroredStrategy)
    if workers:
        _fix_keras_for_multi_worker(joint)
    started = time.perf_counter()
    validation = _dataset(tf, val, branches, config.batch_size, workers=workers)
    # Epoch 0, the untrained network, is the first candidate for the best weights: an
    # anchored network starts as its anchor, and training only keeps what beats it.
    initial = joint.evaluate(validation, verbose=0, return_dict=True)
    for branch in branches:
        state = progress[branch.name]
        state.best, state.weights = float(initial[keys[branch.name][0]]), branch.model.get_weights()
    interrupted = False
    try:
        joint.fit(
            _dataset(
                tf, train, branches, config.batch_size, shuffle_seed=config.seed, workers=workers
            ),
            validation_data=validation,
            epochs=config.epochs,
            shuffle=False,  # the pipeline shuffles, with its own seed
            callbacks=[Stopper()],
            verbose=0,
        )
    except KeyboardInterrupt:
        interrupted = True
    seconds = time.perf_counter() - started
    kept = [leader()] if keep else progress.values()
    if interrupted and any(state.best_epoch == 0 for state in kept):
        raise KeyboardInterrupt  # nothing trained beat the untrained network yet: keep nothing
    results = {}
    for branch in branches:
        state = progress[branch.name]
        branch.model.set_weights(state.weights)
        results[branch.name] = TrainResult(
            state.history,
            len(state.history["loss"]),
            state.best_epoch,
            state.best,
            interrupted,
            seconds,
        )
    return results


def _fix_keras_for_multi_worker(joint) -> None:
    """Keras 3.15's ``fit`` fails twice under ``MultiWorkerMirroredStrategy``
    (keras-team/keras#20585): building the model reduces a batch eagerly across workers,
    and each step's scalar losses are averaged over axis 0. The model is built when
    called instead, and scalars are averaged whole; ``tests/test_multi_worker.py`` fails
    if a Keras upgrade changes either."""
    from keras.src.backend.tensorflow import trainer

    joint._distribute_strategy = None  # Keras then takes the default strategy, ours
    original = getattr(trainer.reduce_per_replica, "original", trainer.reduce_per_replica)

    def reduce_per_replica(values, strategy, reduction="auto"):
        if reduction != "auto":
            return original(values, strategy, reduction)
        return keras().tree.map_structure(
            lambda value: strategy.reduce("MEAN", value, axis=None), values
        )

    reduce_per_replica.original = original
    trainer.reduce_per_replica = reduce_per_replica


def _record(
    state: _Progress, branch: Branch, epoch: int, loss: float, val_loss: float, patience: int
) -> None:
    """Keras' EarlyStopping rule for one branch: keep the best, stop after ``patience``."""
    state.history["loss"].append(loss)
    state.history["val_loss"].append(val_loss)
    if val_loss < state.best:
        weights = branch.model.get_weights()  # first: a Ctrl-C here leaves the state whole
        state.best, state.best_epoch, state.wait, state.weights = val_loss, epoch, 0, weights
    else:
        state.wait += 1
        state.done = state.wait >= patience


def _loss(loss: Loss):
    return {Loss.MSE: "mse", Loss.MAE: "mae", Loss.HUBER: keras().losses.Huber()}[loss]


def _dataset(
    tf,
    data,
    branches: list[Branch],
    batch_size: int,
    shuffle_seed: int | None = None,
    workers: bool = False,
):
    """One ``tf.data`` pipeline for all branches: batches of windows and per-branch targets.

    The pipeline shuffles window *indices* and gathers each batch's windows from the
    series' rows, held once (``_gatherer``): memory grows with the rows, not with rows x
    lookback. Shuffling uses an explicit seed, so the batch order depends on the seed
    alone and is the same for a network trained alone or among others.
    """
    inputs, targets = data
    windows, futures = _gatherer(tf, inputs), _gatherer(tf, targets)
    dataset = tf.data.Dataset.range(len(inputs))
    if shuffle_seed is not None:
        dataset = dataset.shuffle(len(inputs), seed=shuffle_seed, reshuffle_each_iteration=True)
    lookback = inputs.shape[1]

    def per_branch(index):
        x, y = windows(index), futures(index)

        def per_step(y):  # many-to-many: the same future targets at every step
            return tf.broadcast_to(
                y[:, None], tf.concat([tf.shape(y)[:1], [lookback], tf.shape(y)[1:]], axis=0)
            )

        return x, {b.name: per_step(y) if b.head is Head.MANY_TO_MANY else y for b in branches}

    batches = dataset.batch(batch_size).map(per_branch).prefetch(tf.data.AUTOTUNE)
    if not workers:
        return batches
    # Over several workers, each takes its part of each batch; one process reads them all.
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return batches.with_options(options)


def _gatherer(tf, windows: np.ndarray):
    """A function from a batch of indices to those windows ``(batch, length, columns)``.

    Windows cut by ``make_windows`` are views whose consecutive windows share all but one
    row (the first two strides are equal): then only the rows they span are copied into
    the graph, and each batch is gathered from them. Other arrays are copied whole.
    """
    length = windows.shape[1]
    if length > 1 and windows.strides[0] == windows.strides[1]:
        rows = np.lib.stride_tricks.as_strided(
            windows,
            (len(windows) + length - 1, windows.shape[2]),
            (windows.strides[0], windows.strides[2]),
            writeable=False,
        )
        table = tf.constant(np.ascontiguousarray(rows, dtype=np.float32))
        span = tf.range(length, dtype=tf.int64)
        return lambda index: tf.gather(table, index[:, None] + span)
    table = tf.constant(np.ascontiguousarray(windows, dtype=np.float32))
    return lambda index: tf.gather(table, index)
