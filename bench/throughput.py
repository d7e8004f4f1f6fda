"""Training throughput: ``forecast``'s fit against a plain Keras ``fit``, same everything.

Both train the same network (the default ``bilstm:50``, anchored on the sine's 40-step
cycle, windows of 40, 20 steps out, as ``forecast train sample_data/sine.csv`` resolves
it) from the same initial weights on the same scaled windows, batch 32, for ``EPOCHS``
epochs with validation after each, no early stopping. ``forecast`` also writes its
per-epoch backup, as ``forecast train`` does; Keras writes nothing. Throughput is
training windows per second, the runs interleaved ``REPEATS`` times and the medians
compared; the range of the ratio within each interleaved pair shows the noise, about
10% on a 2-core machine, against which a ratio near 1 must be read.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SINE = ROOT / "sample_data" / "sine.csv"
EPOCHS, REPEATS, BATCH = 5, 5, 32


def setup():
    """The sine's windows, scaled, and the network ``forecast train`` resolves for them."""
    from forecast_cli.config import Anchor, DataConfig, ModelConfig, Windows, parse_layers
    from forecast_cli.loading import load_series
    from forecast_cli.pipeline import prepare

    prepared = prepare((load_series(SINE, DataConfig()),), Windows(lookback=40, horizon=20))
    return prepared, ModelConfig(parse_layers("bilstm:50"), anchor=Anchor.SEASONAL, season=40)


def measure() -> dict:
    from forecast_cli.config import TrainConfig
    from forecast_cli.pipeline import build_network
    from forecast_cli.runtime import keras
    from forecast_cli.training import Branch, fit

    prepared, config = setup()
    training = TrainConfig(epochs=EPOCHS, batch_size=BATCH, patience=EPOCHS + 1)
    (x, y), val = prepared.train, prepared.val

    def ours() -> float:
        model = build_network(config, prepared, training.seed)
        with tempfile.TemporaryDirectory() as directory:
            started = time.perf_counter()
            backup = Path(directory) / "model.backup.npz"
            fit([Branch(model.name, model, config.head)], (x, y), val, training, backup_file=backup)
            return time.perf_counter() - started

    def plain() -> float:
        model = build_network(config, prepared, training.seed)
        k = keras()
        model.compile(optimizer=k.optimizers.Adam(1e-3, clipnorm=1.0), loss="mse")
        started = time.perf_counter()
        model.fit(x, y, batch_size=BATCH, epochs=EPOCHS, validation_data=val, verbose=0)
        return time.perf_counter() - started

    ours(), plain()  # warm-up: the first traces and kernel choices
    times: dict[str, list[float]] = {"forecast": [], "keras": []}
    for _ in range(REPEATS):
        times["forecast"].append(ours())
        times["keras"].append(plain())
    rate = {name: len(x) * EPOCHS / statistics.median(t) for name, t in times.items()}
    pairs = [k / f for f, k in zip(times["forecast"], times["keras"], strict=True)]
    return {
        "windows": len(x),
        "epochs": EPOCHS,
        "forecast_windows_per_s": round(rate["forecast"]),
        "keras_fit_windows_per_s": round(rate["keras"]),
        "ratio": round(rate["forecast"] / rate["keras"], 2),
        "pair_ratio_range": [round(min(pairs), 2), round(max(pairs), 2)],
    }
