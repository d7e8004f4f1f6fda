"""Training throughput: ``forecast``'s fit against a plain Keras ``fit``, same everything.

Two networks, each trained by both from the same initial weights on the same scaled
windows of the sine, batch 32, with validation after each epoch and no early stopping:

- ``default``: the default ``bilstm:50``, anchored on the sine's 40-step cycle, windows
  of 40, 20 steps out, as ``forecast train sample_data/sine.csv`` resolves it (without
  its unanchored twin, which Keras would not train);
- ``seed_bilstm``: the hand-written script's plain Bi-LSTM, windows of 20, one step out.

``forecast`` also writes its per-epoch backup, as ``forecast train`` does; Keras writes
nothing. Each is timed for 1 and for ``1 + EPOCHS`` epochs: the difference is the time
of ``EPOCHS`` epochs after tracing (steady state), the 1-epoch run is the fixed cost
(tracing, first-epoch kernel choices). Throughput is training windows per second in
steady state, the runs interleaved ``REPEATS`` times and the medians compared; the final
validation losses of the two show that both learned the same.
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
    from forecast_cli.config import TrainConfig
    from forecast_cli.pipeline import build_network
    from forecast_cli.runtime import keras
    from forecast_cli.training import Branch, fit

    prepared, config = setup(network)
    (x, y), val = prepared.train, prepared.val

    def ours(epochs: int) -> tuple[float, float]:
        training = TrainConfig(epochs=epochs, batch_size=BATCH, patience=epochs + 1)
        model = build_network(config, prepared, training.seed)
        with tempfile.TemporaryDirectory() as directory:
            started = time.perf_counter()
            backup = Path(directory) / "model.backup.npz"
            branch = Branch(model.name, model, config.head)
            fitted = fit([branch], (x, y), val, training, backup_file=backup)
            seconds = time.perf_counter() - started
        return seconds, fitted[model.name].history["val_loss"][-1]

    def plain(epochs: int) -> tuple[float, float]:
        model = build_network(config, prepared, TrainConfig().seed)
        k = keras()
        model.compile(optimizer=k.optimizers.Adam(1e-3, clipnorm=1.0), loss="mse")
        started = time.perf_counter()
        history = model.fit(x, y, batch_size=BATCH, epochs=epochs, validation_data=val, verbose=0)
        return time.perf_counter() - started, history.history["val_loss"][-1]

    ours(1), plain(1)  # warm-up: the first traces and kernel choices
    epoch_s: dict[str, list[float]] = {"forecast": [], "keras": []}
    fixed_s: dict[str, list[float]] = {"forecast": [], "keras": []}
    val_loss = {}
    for _ in range(REPEATS):
        for name, train in (("forecast", ours), ("keras", plain)):
            short, _ = train(1)
            long, val_loss[name] = train(1 + EPOCHS)
            epoch_s[name].append((long - short) / EPOCHS)
            fixed_s[name].append(short)
    rate = {name: len(x) / statistics.median(s) for name, s in epoch_s.items()}
    pairs = [k / f for f, k in zip(epoch_s["forecast"], epoch_s["keras"], strict=True)]
    return {
        "windows": len(x),
        "epochs": EPOCHS,
        "forecast_windows_per_s": round(rate["forecast"]),
        "keras_fit_windows_per_s": round(rate["keras"]),
        "ratio": round(rate["forecast"] / rate["keras"], 2),
        "pair_ratio_range": [round(min(pairs), 2), round(max(pairs), 2)],
        "first_epoch_s": {name: round(statistics.median(s), 2) for name, s in fixed_s.items()},
        "val_loss": {name: round(loss, 5) for name, loss in val_loss.items()},
        "val_loss_difference": round(val_loss["forecast"] / val_loss["keras"] - 1, 4),
    }
