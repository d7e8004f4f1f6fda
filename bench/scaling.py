"""How training time and memory grow with the series' length and with their number.

Each point is a whole ``forecast train`` process (one epoch of ``lstm:16``, unanchored,
windows of 20, one step out, batches of 256) on a generated file: one series of 10^3 to
10^6 rows, or 1 to 10^4 series of 100 rows each (long format, ``--id-col``). The batch
of 256 keeps an epoch of 10^6 windows near 20 s instead of 150 s with the default 32:
the growth is measured here, not one batch size's speed (``throughput.py`` measures the
default's). Each point runs once per pass over all points, ``PASSES`` times, and keeps
its shortest time: one run of 10^5 rows took from 2.5 to 4.9 s within an hour.

Time per epoch comes from ``--json``. Memory is read from ``/proc/PID/status`` while the
process runs (a child's rusage also counts what its parent held when it forked): the
peak resident memory (``VmHWM``), and the peak of the process' own, anonymous memory
(``RssAnon``, every 50 ms). The rest of the resident memory is pages of TensorFlow's
shared libraries, which vary with the page cache: the same run held 412 or 456 MiB of
them from two installs of the same packages, and about 150 MiB more late in ``make
bench`` than alone, with the same 310 MiB of its own. The load time of the largest file
is timed in this process.

The growth is the slope of log(time) against log(size) over the last decade (10^5 to
10^6 rows in all) once the fixed cost of a run, the time (or own memory) at the
smallest size, is taken off: 1 is linear. Left in, a fixed cost of half the 10^5-row
time reads as a slope near 0.7 where the work grew as 1.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

FORECAST = str(Path(sys.executable).with_name("forecast"))
ROWS = [10**3, 10**4, 10**5, 10**6]
SERIES = [1, 10, 100, 1000, 10**4]
SERIES_ROWS = 100
PASSES = 2  # over every point in turn; a host that slows for a minute slows one pass
FLAGS = ["--layers", "lstm:16", "--epochs", "1", "--anchor", "none", "--horizon", "1"]
FLAGS += ["--lookback", "20", "--batch-size", "256"]


def one_series(rows: int) -> pd.DataFrame:
    """A minute-by-minute daily cycle with noise."""
    minutes = np.arange(rows)
    noise = np.random.default_rng(0).normal(0, 0.1, rows)
    return pd.DataFrame(
        {
            "timestamp": pd.date_range("2020-01-01", periods=rows, freq="min"),
            "value": np.round(np.sin(2 * np.pi * minutes / 1440) + noise, 4),
        }
    )


def many_series(count: int) -> pd.DataFrame:
    """``count`` hourly series of ``SERIES_ROWS`` rows, of different levels."""
    hours = np.arange(SERIES_ROWS)
    rng = np.random.default_rng(0)
    levels = rng.uniform(1, 1000, count)
    values = levels[:, None] * (1 + 0.2 * np.sin(2 * np.pi * hours / 24))
    values += rng.normal(0, 1, values.shape)
    return pd.DataFrame(
        {
            "id": np.repeat([f"s{i}" for i in range(count)], SERIES_ROWS),
            "timestamp": np.tile(pd.date_range("2026-01-01", periods=SERIES_ROWS, freq="h"), count),
            "value": np.round(values.ravel(), 3),
        }
    )


def train(path: Path, *extra: str) -> dict:
    """One ``forecast train`` process: seconds per epoch, peak memory and peak own memory
    (MiB)."""
    with tempfile.TemporaryDirectory() as model_dir, tempfile.TemporaryFile() as output:
        args = [FORECAST, "train", str(path), *FLAGS, *extra, "--model-dir", model_dir, "--json"]
        process = subprocess.Popen(args, stdout=output, stderr=subprocess.DEVNULL)
        peak_kib = {"VmHWM": 0, "RssAnon": 0}
        while process.poll() is None:
            for key, kib in _memory_kib(process.pid).items():
                peak_kib[key] = max(peak_kib[key], kib)
            time.sleep(0.05)
        if process.returncode:
            raise RuntimeError(f"{' '.join(args)} failed ({process.returncode})")
        output.seek(0)
        summary = json.loads(output.read().decode().splitlines()[-1])
    return {
        "train_s_per_epoch": round(summary["train_seconds"] / summary["epochs_run"], 2),
        "peak_memory_mib": round(peak_kib["VmHWM"] / 1024),
        "peak_own_memory_mib": round(peak_kib["RssAnon"] / 1024),
    }


def _memory_kib(pid: int) -> dict[str, int]:
    """The process' peak resident memory so far (``VmHWM``) and its anonymous memory now
    (``RssAnon``); empty once it has gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return {}
    fields = (line.split() for line in status.splitlines())
    return {f[0].rstrip(":"): int(f[1]) for f in fields if f[0] in ("VmHWM:", "RssAnon:")}


def slope(sizes: list[int], values: list[float]) -> float | None:
    """The exponent of the growth above the smallest size's value over the last decade.

    1 is linear; None when the last two values are not above the first (noise).
    """
    above = [value - values[0] for value in values[-2:]]
    if min(above) <= 0:
        return None
    return round(math.log(above[1] / above[0]) / math.log(sizes[-1] / sizes[-2]), 2)


def measure() -> dict:
    from forecast_cli.config import DataConfig
    from forecast_cli.loading import load_series

    with tempfile.TemporaryDirectory() as scratch:
        files = {}
        for rows in ROWS:
            files["rows", rows] = Path(scratch) / f"rows{rows}.csv"
            one_series(rows).to_csv(files["rows", rows], index=False)
        for count in SERIES:
            files["series", count] = Path(scratch) / f"series{count}.csv"
            many_series(count).to_csv(files["series", count], index=False)
        points = {}
        for _ in range(PASSES):
            for (curve, size), path in files.items():
                extra = ("--id-col", "id") if curve == "series" else ()
                points[curve, size] = _best(points.get((curve, size)), train(path, *extra))
        largest = files["rows", ROWS[-1]]
        started = time.perf_counter()
        load_series(largest, DataConfig())
        load_s = round(time.perf_counter() - started, 2)
        file_mb = round(largest.stat().st_size / 1e6, 1)
    by_rows = {rows: points["rows", rows] for rows in ROWS}
    by_series = {count: points["series", count] for count in SERIES}
    by_rows[ROWS[-1]] |= {"load_s": load_s, "file_mb": file_mb}
    series_rows = [count * SERIES_ROWS for count in SERIES]

    def growth(sizes: list[int], curve: dict, key: str) -> float | None:
        return slope(sizes, [point[key] for point in curve.values()])

    return {
        "network": " ".join(FLAGS),
        "passes": PASSES,
        "by_rows": by_rows,
        "by_series": by_series,
        "time_growth_rows": growth(ROWS, by_rows, "train_s_per_epoch"),
        "time_growth_series": growth(series_rows, by_series, "train_s_per_epoch"),
        "memory_growth_rows": growth(ROWS, by_rows, "peak_own_memory_mib"),
        "memory_growth_series": growth(series_rows, by_series, "peak_own_memory_mib"),
    }


def _best(earlier: dict | None, point: dict) -> dict:
    """Two runs of one point as one: the shorter time, the higher memory peaks."""
    if earlier is None:
        return point
    return {
        key: (min if key == "train_s_per_epoch" else max)(earlier[key], value)
        for key, value in point.items()
    }
