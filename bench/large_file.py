"""A million-row univariate CSV: load time, training time per epoch and peak memory.

The file (one value a minute for 1,000,000 minutes, a daily cycle plus noise, 27 MB) is
made in a scratch directory. Loading is timed in this process; training runs as a
whole ``forecast train`` process with two epochs of a small network (``--layers
lstm:16``; the default twin doubles the networks), and its peak resident memory is read
from the operating system. Results go to ``bench/large_file.json``.

    python bench/large_file.py
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from publish import machine, publish

from forecast_cli.config import DataConfig
from forecast_cli.loading import load_series

FORECAST = str(Path(sys.executable).with_name("forecast"))
ROWS = 1_000_000
EPOCHS = 2


def make_file(path: Path) -> None:
    minutes = np.arange(ROWS)
    values = np.sin(2 * np.pi * minutes / 1440) + np.random.default_rng(0).normal(0, 0.1, ROWS)
    pd.DataFrame(
        {
            "timestamp": pd.date_range("2020-01-01", periods=ROWS, freq="min"),
            "value": np.round(values, 4),
        }
    ).to_csv(path, index=False)


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        data = Path(scratch) / "million.csv"
        make_file(data)
        file_mb = data.stat().st_size / 1e6
        started = time.perf_counter()
        series = load_series(data, DataConfig())
        load_s = time.perf_counter() - started
        done = subprocess.run(
            [
                FORECAST,
                "train",
                str(data),
                "--layers",
                "lstm:16",
                "--epochs",
                str(EPOCHS),
                "--model-dir",
                str(Path(scratch) / "model"),
                "--json",
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        summary = json.loads(done.stdout.splitlines()[-1])
        peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    publish(
        {
            "machine": machine(),
            "rows": len(series.values),
            "file_mb": round(file_mb, 1),
            "load_s": round(load_s, 2),
            "epochs": summary["epochs_run"],
            "train_s": round(summary["train_seconds"], 1),
            "train_s_per_epoch": round(summary["train_seconds"] / summary["epochs_run"], 1),
            "peak_memory_mib": round(peak_mib),
        },
        "large_file",
    )


if __name__ == "__main__":
    main()
