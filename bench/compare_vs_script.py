"""``forecast compare`` against the hand-written merge-mode script, in the same run.

Both train one bidirectional LSTM(50) per merge mode on ``sample_data/sine.csv`` with 50
epochs and batch 32, and forecast 20 steps. Each is timed as a whole process (start-up
included), alternately, ``REPEATS`` times; the medians give the time ratio. The RMSE
compared is the mean over the four merge modes of the validation RMSE (the same 200
validation rows for both). Results go to ``bench/compare_vs_script.json``.
"""

from __future__ import annotations

import csv
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from publish import machine, publish

ROOT = Path(__file__).resolve().parents[1]
SINE = ROOT / "sample_data" / "sine.csv"
FORECAST = str(Path(sys.executable).with_name("forecast"))
REPEATS = 2
EPOCHS, BATCH = "50", "32"


def run_script() -> tuple[float, float]:
    started = time.perf_counter()
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "handwritten_merge_modes.py"),
            str(SINE),
            EPOCHS,
            BATCH,
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - started
    rmse = json.loads(done.stdout.splitlines()[-1])["rmse"]
    return seconds, statistics.fmean(rmse.values())


def run_compare(scratch: Path) -> tuple[float, float]:
    out = scratch / "comparison"
    started = time.perf_counter()
    subprocess.run(
        [
            FORECAST,
            "compare",
            str(SINE),
            "--merge-modes",
            "--epochs",
            EPOCHS,
            "--batch-size",
            BATCH,
            "--out-dir",
            str(out),
            "--overwrite",
        ],
        check=True,
        capture_output=True,
    )
    seconds = time.perf_counter() - started
    with (out / "comparison.csv").open() as handle:
        rows = [row for row in csv.DictReader(handle) if row["params"] != "0"]
    return seconds, statistics.fmean(float(row["val_rmse"]) for row in rows)


def main() -> None:
    script, compare = [], []
    with tempfile.TemporaryDirectory() as scratch:
        for _ in range(REPEATS):
            script.append(run_script())
            compare.append(run_compare(Path(scratch)))
    script_s = statistics.median(s for s, _ in script)
    compare_s = statistics.median(s for s, _ in compare)
    script_rmse, compare_rmse = script[0][1], compare[0][1]
    results = {
        "machine": machine(),
        "repeats": REPEATS,
        "script_s": round(script_s, 2),
        "compare_s": round(compare_s, 2),
        "time_ratio": round(compare_s / script_s, 3),
        "script_mean_rmse": round(script_rmse, 5),
        "compare_mean_rmse": round(compare_rmse, 5),
        "rmse_difference_pct": round(100 * (compare_rmse - script_rmse) / script_rmse, 2),
    }
    publish(results, "compare_vs_script")


if __name__ == "__main__":
    main()
