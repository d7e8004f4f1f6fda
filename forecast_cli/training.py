"""Fit a network with Adam, clipping, early stopping and a clean Ctrl-C."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from forecast_cli.config import Loss, TrainConfig
from forecast_cli.runtime import keras

EpochHook = Callable[[int, dict[str, float]], None]


@dataclass(frozen=True)
class TrainResult:
    """What happened during ``fit``: per-epoch losses and where the kept weights came from."""

    history: dict[str, list[float]]
    epochs_run: int
    best_epoch: int  # 1-based epoch whose weights the model now holds
    interrupted: bool
    seconds: float


def fit(
    model,
    train: tuple[np.ndarray, np.ndarray],
    val: tuple[np.ndarray, np.ndarray],
    config: TrainConfig,
    on_epoch: EpochHook | None = None,
) -> TrainResult:
    """Train ``model`` in place and leave it holding the weights of its best validation epoch.

    Ctrl-C stops training after the current step; the best weights so far are kept.
    """
    k = keras()
    losses = {Loss.MSE: "mse", Loss.MAE: "mae", Loss.HUBER: k.losses.Huber()}
    model.compile(
        optimizer=k.optimizers.Adam(learning_rate=config.learning_rate, clipnorm=config.clipnorm),
        loss=losses[config.loss],
    )
    history: dict[str, list[float]] = {"loss": [], "val_loss": []}

    class Record(k.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            for key in history:
                history[key].append(float(logs[key]))
            if on_epoch is not None:
                on_epoch(epoch + 1, {key: values[-1] for key, values in history.items()})

    stopper = k.callbacks.EarlyStopping(
        monitor="val_loss", patience=config.patience, restore_best_weights=True
    )
    started = time.perf_counter()
    interrupted = False
    try:
        model.fit(
            *map(np.ascontiguousarray, train),
            validation_data=tuple(map(np.ascontiguousarray, val)),
            epochs=config.epochs,
            batch_size=config.batch_size,
            shuffle=True,
            callbacks=[Record(), stopper],
            verbose=0,
        )
    except KeyboardInterrupt:
        interrupted = True
        if stopper.best_weights is not None:
            model.set_weights(stopper.best_weights)
    if not history["val_loss"]:
        raise KeyboardInterrupt  # stopped before one epoch finished: nothing worth keeping
    return TrainResult(
        history=history,
        epochs_run=len(history["loss"]),
        best_epoch=int(np.argmin(history["val_loss"])) + 1,
        interrupted=interrupted,
        seconds=time.perf_counter() - started,
    )
