"""Fit one or several networks together, with per-network early stopping and a clean Ctrl-C.

Several candidate networks (``forecast compare``) train as *branches* of one Keras model
that feeds them the same batches and sums their losses. Their weights are disjoint and
Adam's state and the clipping (``clipnorm`` clips each weight's gradient on its own) are
per weight, so every branch receives exactly the updates it would receive alone: joint
training only saves the per-step overhead of running the fits one after another. Each
branch keeps its own early stopping: once its patience runs out its best weights are
final and the rest of its history is ignored, as if it had stopped. ``forecast train`` is
the one-branch case.

With a backup file (``forecast train``), the state after each epoch is written there (by
a cluster's chief only), and a training that finds a backup of the same settings and data
resumes from it: every epoch's batch order depends on the seed and the epoch alone, so
the resumed run ends with the weights the uninterrupted run would have had.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from forecast_cli import backup as backups
from forecast_cli import fused_lstm, signals
from forecast_cli.config import Head, Loss, TrainConfig, Xla
from forecast_cli.runtime import is_chief, keras, tensorflow

# Called after each epoch with (epoch, {branch name: (loss, val_loss)} of the branches
# still training, seconds trained so far).
EpochHook = Callable[[int, dict[str, tuple[float, float]], float], None]


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
    resumed: str | None = None  # how a backup was used, if there was one
    resumed_after: int = 0  # the epoch a backup was resumed after (0: started afresh)
    backed_up: int = 0  # the last epoch whose state the backup file holds (0: none)
    compiled: bool = False  # its steps ran compiled by XLA (--xla)
    fused: bool = False  # its LSTMs ran as one kernel (``fused_lstm``)


@dataclass
class _Progress:
    """Early-stopping state of one branch."""

    best: float = math.inf
    best_epoch: int = 0
    wait: int = 0
    weights: list = field(default_factory=list)
    done: bool = False
    history: dict[str, list[float]] = field(default_factory=lambda: {"loss": [], "val_loss": []})


@signals.deferred()  # a signal raised inside TensorFlow's calls into Python breaks it
def fit(
    branches: list[Branch],
    train: tuple[np.ndarray, np.ndarray],
    val: tuple[np.ndarray, np.ndarray],
    config: TrainConfig,
    on_epoch: EpochHook | None = None,
    backup_file: Path | None = None,
) -> dict[str, TrainResult]:
    """Train every branch in place; each ends holding the weights of its best validation epoch.

    ``train`` and ``val`` are ``(windows, targets)`` with targets ``(samples, horizon,
    targets)``; many-to-many branches get them repeated at every step on the fly. Each
    branch stops early on its own, as it would if it trained alone.
    With ``backup_file``, each epoch's state is written there and a matching backup resumed.
    Ctrl-C stops training after the current step and keeps the best weights so far;
    SIGTERM ends it there.
    """
    k, tf = keras(), tensorflow()
    window = k.Input(shape=train[0].shape[1:], name="window")
    joint = k.Model(window, {b.name: b.model(window) for b in branches}, name="joint")
    joint.compile(
        optimizer=k.optimizers.Adam(learning_rate=config.learning_rate, clipnorm=config.clipnorm),
        loss={b.name: _loss(config.loss) for b in branches},
        metrics=_branch_losses(branches, config.loss),
    )
    progress = {b.name: _Progress() for b in branches}

    def finished() -> bool:
        return all(state.done for state in progress.values())

    keys = {
        b.name: ("loss", "val_loss")
        if len(branches) == 1
        else (f"{b.name}_{BRANCH_LOSS}", f"val_{b.name}_{BRANCH_LOSS}")
        for b in branches
    }
    workers = isinstance(tf.distribute.get_strategy(), tf.distribute.MultiWorkerMirroredStrategy)
    backup_key = _backup_key(joint, train, val, config) if backup_file else ""
    writes_backup = backup_file is not None and is_chief()
    backed_up = 0
    earlier = 0.0  # seconds trained by the runs a backup resumes

    def end_epoch(epoch: int, logs: dict) -> bool:
        """Record ``epoch`` (0-based) with its ``logs``; whether training is over."""
        nonlocal backed_up
        active = {}
        for branch in branches:
            state = progress[branch.name]
            if state.done:
                continue
            losses = tuple(float(logs[key]) for key in keys[branch.name])
            _record(state, branch, epoch + 1, *losses, config.patience)
            active[branch.name] = losses
        seconds = earlier + time.perf_counter() - started
        if writes_backup:
            backups.write(backup_file, backup_key, _snapshot(epoch + 1, joint, progress, seconds))
            backed_up = epoch + 1
        if on_epoch is not None:
            on_epoch(epoch + 1, active, seconds)
        return finished()

    if workers:
        _fix_keras_for_multi_worker(joint)
    started = time.perf_counter()
    validation = _dataset(tf, val, branches, config.batch_size, workers=workers)
    _build_state(tf, joint, validation)
    steps = math.ceil(len(train[0]) / config.batch_size)
    before_stopping = steps * min(config.epochs, config.patience + 1) * train[0].shape[1]
    models = [b.model for b in branches]
    compiled = _compiled(tf, config, before_stopping, fused_lstm.fusable(models))
    # XLA cannot compile the fused kernel; the LSTMs run it for this training only
    with fused_lstm.fused([] if compiled else models) as fused:
        # Keras's fit spreads the steps over a strategy's devices and workers; without one,
        # a plain loop around the same steps is faster.
        if tf.distribute.has_strategy():
            evaluate, run_epochs = _keras_runner(tf, joint, validation)
        else:
            evaluate, run_epochs = _plain_runner(tf, joint, validation, compiled)
        snapshot, resumed = (
            _resumable(tf, backup_file, backup_key, config.epochs, workers)
            if backup_file
            else (None, None)
        )
        if snapshot:
            earlier = _restore(snapshot, joint, progress)
            backed_up = snapshot.epoch if writes_backup else 0
            if on_epoch is not None:
                on_epoch(snapshot.epoch, _last_losses(progress), earlier)
        else:
            # Epoch 0, the untrained network, is the first candidate for the best weights: an
            # anchored network starts as its anchor, and training only keeps what beats it.
            initial = evaluate()
            for branch in branches:
                state = progress[branch.name]
                state.best = float(initial[keys[branch.name][0]])
                state.weights = branch.model.get_weights()
        first = snapshot.epoch if snapshot else 0
        interrupted = False
        if first < config.epochs and not finished():
            batches = _dataset(
                tf,
                train,
                branches,
                config.batch_size,
                shuffle=(config.seed, first, config.epochs),
                workers=workers,
            )
            try:
                run_epochs(batches, steps, first, config.epochs, end_epoch)
                signals.raise_pending()  # one left pending since the last step
            except KeyboardInterrupt:
                signals.handle_pending()
                interrupted = True
    seconds = earlier + time.perf_counter() - started
    # A network still training that nothing trained beat yet: keep nothing. One that
    # stopped at epoch 0 chose its untrained state (an anchored one's anchor) for good.
    if interrupted and any(s.best_epoch == 0 and not s.done for s in progress.values()):
        raise KeyboardInterrupt
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
            resumed,
            first,
            backed_up,
            compiled,
            fused,
        )
    return results


def _backup_key(joint, train, val, config: TrainConfig) -> str:
    """What a backup must match to be resumed: the networks, the data, the library
    versions and the training settings but how many epochs at most, which a resumed run
    may change. The device and strategy are not settings of training: the same ones
    resume exactly, others continue the same training with their own rounding; mixed
    precision changes the numbers, so it is part of the key."""
    settings = asdict(config)
    # XLA, like the device, rounds (and may draw dropout masks) otherwise: not a setting
    del settings["epochs"], settings["xla"]
    settings["layers"] = [
        (type(layer).__name__, _unnamed(layer.get_config())) for layer in _leaves(joint)
    ]
    settings["variables"] = [tuple(v.shape) for v in joint.variables]
    settings["shapes"] = [array.shape for array in (*train, *val)]
    settings["precision"] = keras().mixed_precision.global_policy().name  # --mixed-precision
    settings["versions"] = [keras().__version__, tensorflow().__version__]
    settings["branch_loss"] = BRANCH_LOSS  # histories read alike alone or beside others
    return backups.digest(settings, [_table(array) for array in (*train, *val)])


def _leaves(model):
    """The layers of ``model``, those of the networks inside it in their place."""
    for layer in model.layers:
        if isinstance(layer, keras().Model):
            yield from _leaves(layer)
        else:
            yield layer


def _unnamed(config):
    """A layer's configuration without names, which Keras numbers anew in each process."""
    if isinstance(config, dict):
        return {key: _unnamed(value) for key, value in config.items() if key != "name"}
    if isinstance(config, list | tuple):
        return [_unnamed(value) for value in config]
    return config


def _resumable(
    tf, backup: Path, key: str, epochs: int, workers: bool
) -> tuple[backups.Snapshot | None, str | None]:
    """The backup to resume from, if there is one that matches, and a note saying what
    was made of it."""
    snapshot, why_not = backups.read(backup, key)
    if snapshot and snapshot.epoch > epochs:
        snapshot, why_not = None, f"the backup {backup} is past epoch {epochs} (--epochs)"
    if workers and not _agreed(tf, snapshot.epoch if snapshot else 0):
        snapshot, why_not = None, f"not every worker sees the backup {backup}"
    if snapshot:
        return snapshot, f"Resumed after epoch {snapshot.epoch} from the backup {backup}."
    return None, why_not and f"Started afresh: {why_not}."


def _snapshot(
    epoch: int, joint, progress: dict[str, _Progress], seconds: float
) -> backups.Snapshot:
    """The training's whole state after ``epoch``: variables of the networks and of the
    optimiser (its moments and step count), each branch's early-stopping state, and the
    seconds trained so far."""
    variables = [*joint.variables, *joint.optimizer.variables]
    branches = {
        name: {
            "best": p.best,
            "best_epoch": p.best_epoch,
            "wait": p.wait,
            "done": p.done,
            "history": p.history,
        }
        for name, p in progress.items()
    }
    arrays = {"variables": [np.asarray(v.numpy()) for v in variables]}
    arrays |= {f"best {name}": p.weights for name, p in progress.items()}
    return backups.Snapshot(epoch, {"branches": branches, "seconds": seconds}, arrays)


def _restore(snapshot: backups.Snapshot, joint, progress: dict[str, _Progress]) -> float:
    """Put ``snapshot`` back into the networks, the optimiser and the early-stopping state;
    return the seconds trained before it."""
    joint.optimizer.build(joint.trainable_variables)
    variables = [*joint.variables, *joint.optimizer.variables]
    for variable, value in zip(variables, snapshot.arrays["variables"], strict=True):
        variable.assign(value)
    for name, state in snapshot.state["branches"].items():
        progress[name] = _Progress(weights=snapshot.arrays[f"best {name}"], **state)
    return snapshot.state["seconds"]


def _last_losses(progress: dict[str, _Progress]) -> dict[str, tuple[float, float]]:
    """The last epoch's losses of the branches still training (for the progress hook)."""
    return {
        name: (p.history["loss"][-1], p.history["val_loss"][-1])
        for name, p in progress.items()
        if not p.done and p.history["loss"]
    }


def _agreed(tf, epoch: int) -> bool:
    """Whether every worker of the cluster resumes from the same epoch: one that cannot
    see the chief's backup would otherwise run more steps than the others and hang them.
    Collectives reduce only by sum or mean, not min or max; but the mean of the squares
    equals the square of the mean only if all epochs are equal."""
    strategy = tf.distribute.get_strategy()
    local = tf.constant([epoch, epoch * epoch], tf.float64)
    mean = strategy.reduce("MEAN", strategy.run(lambda: tf.identity(local)), axis=None)
    return float(mean[1]) == float(mean[0]) ** 2 == epoch**2


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


# XLA's compilation (3 to 4 s per network on 2 cores, once per batch size) pays when the
# training runs enough recurrent steps (batches x lookback) before early stopping may end
# it. Measured on the sine, 2026-12-04, with the LSTMs in Keras's loop: on one thread the
# default network and the unanchored twin trained beside it then saved about 0.4 ms a
# recurrent step (train: 24.4 s with XLA, 29.3 s without), on two threads, where the
# executor runs the two side by side, XLA lost (28.3 s against 23.6 s), and so did
# backtest's folds (61 s against 45 s); a single network on 2 threads gained 1.44x per
# epoch, and on a 20,000-row series (219,000 recurrent steps) 1.5x to 1.8x. Networks of
# LSTMs alone now run faster still as ``fused_lstm``'s kernel, which XLA cannot compile:
# the threshold is for the networks with a layer the kernel does not run (GRU, simple
# RNN, recurrent dropout). One threshold whatever the threads: a run takes the same
# path, and gives the same scores, with any --jobs or --ray.
MIN_XLA_RECURRENT_STEPS = 80_000


def _compiled(tf, config: TrainConfig, recurrent_steps: int, fusable: bool) -> bool:
    """Whether to compile the training and validation steps with XLA (``--xla``).

    On a CPU, XLA fuses the dozen tiny operations of each recurrent step that the
    executor otherwise runs one by one. ``auto`` compiles when ``recurrent_steps``, the
    batches times the lookback that the training runs before early stopping may end it
    (``patience + 1`` epochs), reach ``MIN_XLA_RECURRENT_STEPS``, unless every recurrent
    layer is ``fusable``: an LSTM that ``fused_lstm`` runs as one kernel, twice as fast
    again as XLA's loop (which cannot compile that kernel). On a GPU the recurrent
    layers run cuDNN kernels, which XLA cannot compile, and a tf.distribute strategy
    trains through Keras's own ``fit``: there XLA stays off (``runtime.use_device``
    refuses ``--xla on`` before the data is read)."""
    if config.xla == Xla.OFF:  # ==: the Python API may give the value as a string
        return False
    if tf.config.list_logical_devices("GPU") or tf.distribute.has_strategy():
        return False
    return config.xla == Xla.ON or (not fusable and recurrent_steps >= MIN_XLA_RECURRENT_STEPS)


def _plain_runner(tf, joint, validation, compiled: bool):
    """``(evaluate, run_epochs)`` for one process without a tf.distribute strategy.

    ``run_epochs(batches, steps, first, epochs, end_epoch)`` trains epochs ``first`` to
    ``epochs`` of ``steps`` batches, each step one call of a tf.function around the model's
    own ``train_step`` (its loss, loss scaling for mixed precision, optimizer, metrics),
    and hands each epoch's losses and validation losses to ``end_epoch``, until it says
    training is over. ``evaluate()`` gives the validation losses by ``test_step``.

    Keras's ``fit`` does the same work around the same steps, yet its per-step machinery,
    built for strategies and ``steps_per_execution``, costs a good part of a small
    network's step: on 2 CPU cores this loop's epochs of the default network took 0.18 s
    against ``fit``'s 0.26 s (medians of three, after tracing; 2026-12-04)."""
    # Traced once for any batch size: the dataset's batches have no fixed size, and with
    # the size of the first batch a smaller last one would trace each function again.
    # ``compiled``: XLA compiles each function once per batch size it meets.
    batch = (validation.element_spec,)
    step, test = (
        tf.function(f, input_signature=batch, jit_compile=compiled)
        for f in (joint.train_step, joint.test_step)
    )

    def evaluate() -> dict:
        joint.reset_metrics()
        for batch in validation:
            signals.raise_pending()
            logs = test(batch)
        return {name: float(value) for name, value in logs.items()}

    def run_epochs(batches, steps: int, first: int, epochs: int, end_epoch) -> None:
        batch = iter(batches)
        for epoch in range(first, epochs):
            joint.reset_metrics()
            for _ in range(steps):
                signals.raise_pending()
                logs = step(next(batch))
            logs = {name: float(value) for name, value in logs.items()}
            logs |= {f"val_{name}": value for name, value in evaluate().items()}
            if end_epoch(epoch, logs):
                return

    return evaluate, run_epochs


def _keras_runner(tf, joint, validation):
    """``_plain_runner``'s two functions by Keras's ``evaluate`` and ``fit``, which spread
    each step over a strategy's devices and workers."""
    k = keras()

    def evaluate() -> dict:
        return joint.evaluate(validation, verbose=0, return_dict=True)

    def run_epochs(batches, steps: int, first: int, epochs: int, end_epoch) -> None:
        class Stopper(k.callbacks.Callback):
            def on_train_batch_begin(self, batch, logs=None):
                signals.raise_pending()

            def on_epoch_end(self, epoch, logs=None):
                if end_epoch(epoch, logs):
                    self.model.stop_training = True

        joint.fit(
            batches,
            validation_data=validation,
            initial_epoch=first,
            epochs=epochs,
            steps_per_epoch=steps,
            shuffle=False,  # the pipeline shuffles, with its own seed
            callbacks=[Stopper()],
            verbose=0,
        )

    return evaluate, run_epochs


def _loss(loss: Loss):
    """The per-window loss function of ``--loss`` (Keras averages it over a batch)."""
    k = keras()
    return {
        Loss.MSE: k.losses.mean_squared_error,
        Loss.MAE: k.losses.mean_absolute_error,
        Loss.HUBER: k.losses.huber,  # delta 1, as Huber()'s
    }[loss]


BRANCH_LOSS = "branch_loss"  # the metric that reads each of several branches' loss


def _branch_losses(branches: list[Branch], loss: Loss) -> dict | None:
    """Each branch's loss as a metric, when there are several: Keras's own loss of each of
    several outputs averages the batches' means whatever their sizes (ours have no fixed
    size), while a lone output's loss weighs every window alike. Read from this metric,
    a network's losses, and so its early stopping, are the same alone or beside others
    (``forecast compare``'s candidates, ensemble members)."""
    if len(branches) == 1:
        return None
    metric = keras().metrics.MeanMetricWrapper
    return {b.name: [metric(_loss(loss), name=BRANCH_LOSS)] for b in branches}


def _build_state(tf, joint, validation) -> None:
    """Create the optimizer's slots, the loss trackers and the branches' loss metrics
    before the first step.

    Without a tf.distribute strategy Keras leaves them to the first traced step, which
    tf.function then traces a second time: about a second per ``fit`` on a CPU.
    """
    joint.optimizer.build(joint.trainable_variables)
    if not tf.distribute.has_strategy():  # with one, Keras builds them itself
        x, y = next(iter(validation.take(1)))
        # The targets stand in for the predictions, which have their shapes: running the
        # networks eagerly here cost seconds for large joint models (compare's 8 BiLSTMs:
        # 2.3 s). Evaluate resets what the trackers hold.
        joint.compute_loss(x=x, y=y, y_pred=y)
        joint.compute_metrics(x=x, y=y, y_pred=y)


def _dataset(
    tf,
    data,
    branches: list[Branch],
    batch_size: int,
    shuffle: tuple[int, int, int] | None = None,
    workers: bool = False,
):
    """One ``tf.data`` pipeline for all branches: batches of windows and per-branch targets.

    The pipeline orders window *indices* and gathers each batch's windows from the
    series' rows, held once (``_gatherer``): memory grows with the rows, not with rows x
    lookback. With ``shuffle = (seed, first, epochs)`` it holds the batches of epochs
    ``first`` to ``epochs`` in a row, each epoch in an order drawn from the seed and the
    epoch alone: the same for a network trained alone or among others, and for a training
    resumed at ``first``.
    """
    inputs, targets = data
    windows, futures = _gatherer(tf, inputs), _gatherer(tf, targets)
    count = len(inputs)
    if shuffle is None:
        indices = tf.data.Dataset.range(count).batch(batch_size)
    else:
        seed, first, epochs = shuffle

        def epoch_order(epoch):
            order = tf.random.experimental.stateless_shuffle(
                tf.range(count, dtype=tf.int64), seed=tf.stack([tf.constant(seed, tf.int64), epoch])
            )
            return tf.data.Dataset.from_tensor_slices(order).batch(batch_size)

        indices = tf.data.Dataset.range(first, epochs).flat_map(epoch_order)
    lookback = inputs.shape[1]

    def per_branch(index):
        x, y = windows(index), futures(index)

        def per_step(y):  # many-to-many: the same future targets at every step
            return tf.broadcast_to(
                y[:, None], tf.concat([tf.shape(y)[:1], [lookback], tf.shape(y)[1:]], axis=0)
            )

        return x, {b.name: per_step(y) if b.head is Head.MANY_TO_MANY else y for b in branches}

    # Without tf.data's autotuning: deleting the iterator of a training stopped early
    # waited for its model thread, up to 39 s of a compare worker's 50 (measured around
    # the deletion; 0.00 s without it, the epochs as fast). Two batches ahead keep the
    # steps fed: a batch is a gather of rows, a step far longer.
    options = tf.data.Options()
    options.autotune.enabled = False
    if workers:  # each takes its part of each batch; one process reads them all
        policy = tf.data.experimental.AutoShardPolicy.DATA
        options.experimental_distribute.auto_shard_policy = policy
    return indices.map(per_branch).prefetch(2).with_options(options)


def _table(windows: np.ndarray) -> np.ndarray:
    """The rows that ``windows`` are cut from, contiguous: when the windows are views whose
    consecutive windows share all but one row (the first two strides are equal, as
    ``make_windows`` cuts them), each row once; otherwise the windows themselves."""
    length = windows.shape[1]
    if windows.ndim == 3 and length > 1 and windows.strides[0] == windows.strides[1]:
        windows = np.lib.stride_tricks.as_strided(
            windows,
            (len(windows) + length - 1, windows.shape[2]),
            (windows.strides[0], windows.strides[2]),
            writeable=False,
        )
    return np.ascontiguousarray(windows, dtype=np.float32)


def _gatherer(tf, windows: np.ndarray):
    """A function from a batch of indices to those windows ``(batch, length, columns)``,
    gathered from ``_table``'s rows held in the graph."""
    table = tf.constant(_table(windows))
    if table.shape.rank == windows.ndim:  # the windows themselves
        return lambda index: tf.gather(table, index)
    span = tf.range(windows.shape[1], dtype=tf.int64)
    return lambda index: tf.gather(table, index[:, None] + span)
