"""Training throughput: ``forecast``'s fit against a plain Keras ``fit``, same everything.

Two networks, each trained by both from the same initial weights on the same scaled
windows of the sine, batch 32, with validation after each epoch and no early stopping:

- ``default``: the default ``bilstm:50``, anchored on the sine's 40-step cycle, windows
  of 40, 20 steps out, as ``forecast train sample_data/sine.csv`` resolves it (without
  its unanchored twin, which Keras would not train);
- ``seed_bilstm``: the hand-written script's plain Bi-LSTM, windows of 20, one step out.

``forecast`` trains twice, as it does by default (the LSTMs run by TensorFlow's fused
kernel, ``fused_lstm``) and with its steps compiled by XLA (``--xla on``, Keras's loop),
and writes its per-epoch backup, as ``forecast train`` does; Keras writes nothing.
Each trains ``1 + EPOCHS`` epochs, timed at the end of each: the time from the first
epoch's end to the last's is ``EPOCHS`` epochs in steady state; the first epoch holds
the fixed cost (tracing, XLA's compilation, first-epoch kernel choices). Throughput is
training windows per second in steady state, the runs interleaved ``REPEATS`` times and
the medians compared; the final validation losses show that all learned the same.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SINE = ROOT / "sample_data" / "sine.csv"
EPOCHS, REPEATS, BATCH = 10, 3, 32


def setup(network: str = "default"):
    """The sine's windows, scaled, and the network to train on them."""
    from forecast_cli.config import Anchor, DataConfig, ModelConfig, Windows, parse_layers
    from forecast_cli.loading import load_series
    from forecast_cli.pipeline import prepare

    layers = parse_layers("bilstm:50")
    windows, config = {
        "default": (Windows(40, 20), ModelConfig(layers, anchor=Anchor.SEASONAL, season=40)),
        "seed_bilstm": (Windows(20, 1), ModelConfig(layers, anchor=Anchor.NONE)),
    }[network]
    return prepare((load_series(SINE, DataConfig()),), windows), config


def measure() -> dict:
    return {network: measure_network(network) for network in ("default", "seed_bilstm")}


def measure_network(network: str) -> dict:
    from forecast_cli.config import TrainConfig, Xla
    from forecast_cli.pipeline import build_network
    from forecast_cli.runtime import keras
    from forecast_cli.training import Branch, fit

    prepared, config = setup(network)
    (x, y), val = prepared.train, prepared.val
    epochs = 1 + EPOCHS

    def ours(xla: Xla) -> tuple[list[float], float]:
        training = TrainConfig(epochs=epochs, batch_size=BATCH, patience=epochs, xla=xla)
        model = build_network(config, prepared, training.seed)
        ends = []
        with tempfile.TemporaryDirectory() as directory:
            started = time.perf_counter()
            backup = Path(directory) / "model.backup.npz"
            branch = Branch(model.name, model, config.head)
            fitted = fit(
                [branch],
                (x, y),
                val,
                training,
                on_epoch=lambda *_: ends.append(time.perf_counter() - started),
                backup_file=backup,
            )
        return ends, fitted[model.name].history["val_loss"][-1]

    def plain() -> tuple[list[float], float]:
        model = build_network(config, prepared, TrainConfig().seed)
        k = keras()
        optimizer = k.optimizers.Adam(1e-3, clipnorm=1.0)
        model.compile(optimizer=optimizer, loss=str(TrainConfig().loss))  # forecast's default
        ends = []
        timer = k.callbacks.LambdaCallback(
            on_epoch_end=lambda *_: ends.append(time.perf_counter() - started)
        )
        started = time.perf_counter()
        history = model.fit(
            x, y, batch_size=BATCH, epochs=epochs, validation_data=val, callbacks=[timer], verbose=0
        )
        return ends, history.history["val_loss"][-1]

    runs = {
        "forecast": lambda: ours(Xla.OFF),
        "forecast_xla": lambda: ours(Xla.ON),
        "keras": plain,
    }
    epoch_s: dict[str, list[float]] = {name: [] for name in runs}
    fixed_s: dict[str, list[float]] = {name: [] for name in runs}
    val_loss = {}
    for _ in range(REPEATS):
        for name, run in runs.items():
            ends, val_loss[name] = run()
            epoch_s[name].append((ends[-1] - ends[0]) / EPOCHS)
            fixed_s[name].append(ends[0])
    rate = {name: len(x) / statistics.median(s) for name, s in epoch_s.items()}

    def pairs(name: str) -> list[float]:
        ratios = [k / f for f, k in zip(epoch_s[name], epoch_s["keras"], strict=True)]
        return [round(min(ratios), 2), round(max(ratios), 2)]

    return {
        "windows": len(x),
        "epochs": EPOCHS,
        "forecast_windows_per_s": round(rate["forecast"]),
        "forecast_xla_windows_per_s": round(rate["forecast_xla"]),
        "keras_fit_windows_per_s": round(rate["keras"]),
        "ratio": round(rate["forecast"] / rate["keras"], 2),
        "pair_ratio_range": pairs("forecast"),
        "xla_ratio": round(rate["forecast_xla"] / rate["keras"], 2),
        "xla_pair_ratio_range": pairs("forecast_xla"),
        "first_epoch_s": {name: round(statistics.median(s), 2) for name, s in fixed_s.items()},
        "val_loss": {name: round(loss, 5) for name, loss in val_loss.items()},
        "val_loss_difference": round(val_loss["forecast"] / val_loss["keras"] - 1, 4),
        "xla_val_loss_difference": round(val_loss["forecast_xla"] / val_loss["keras"] - 1, 4),
    }
