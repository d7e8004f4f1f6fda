"""``forecast compare`` against the hand-written merge-mode script, in the same run.

Both train one bidirectional LSTM(50) per merge mode on ``sample_data/sine.csv`` with 50
epochs and batch 32, and forecast 20 steps. Each is timed as a whole process (start-up
included), one after the other, ``REPEATS`` times; the medians give the time ratio. One
repeat is enough: over four runs of two repeats the ratio stayed between 0.44 and 0.54,
and the scores are the same on every repeat. The RMSE compared is the mean over the
four merge modes of the validation RMSE (the same 200 validation rows for both).
``forecast compare`` runs twice: with the script's network (``--anchor none --horizon
1``: the same plain BiLSTM on windows of 20, scored one step ahead) for the like-for-like
time ratio, and with its defaults (anchored on the series' 40-step cycle, windows of 40,
the 20 steps emitted at once and scored over all 20), whose cost and accuracy a user
actually gets.
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

ROOT = Path(__file__).resolve().parents[1]
SINE = ROOT / "sample_data" / "sine.csv"
FORECAST = str(Path(sys.executable).with_name("forecast"))
REPEATS = 1
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


def run_compare(scratch: Path, *flags: str) -> tuple[float, float]:
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
            *flags,
        ],
        check=True,
        capture_output=True,
    )
    seconds = time.perf_counter() - started
    with (out / "comparison.csv").open() as handle:
        rows = [row for row in csv.DictReader(handle) if row["params"] != "0"]
    return seconds, statistics.fmean(float(row["val_rmse"]) for row in rows)


def measure() -> dict:
    runs = {"script": [], "same network": [], "defaults": []}
    with tempfile.TemporaryDirectory() as scratch:
        for _ in range(REPEATS):
            runs["script"].append(run_script())
            runs["same network"].append(
                run_compare(Path(scratch), "--anchor", "none", "--horizon", "1")
            )
            runs["defaults"].append(run_compare(Path(scratch)))
    seconds = {name: statistics.median(s for s, _ in done) for name, done in runs.items()}
    rmse = {name: done[0][1] for name, done in runs.items()}  # the same on every repeat

    def versus_script(name: str) -> dict:
        return {
            "compare_s": round(seconds[name], 2),
            "time_ratio": round(seconds[name] / seconds["script"], 3),
            "compare_mean_rmse": round(rmse[name], 5),
        }

    same = versus_script("same network")
    same["rmse_difference_pct"] = round(100 * (rmse["same network"] / rmse["script"] - 1), 2)
    return {
        "repeats": REPEATS,
        "script_s": round(seconds["script"], 2),
        "script_mean_rmse": round(rmse["script"], 5),  # one step ahead
        "same_network": same,
        "defaults": versus_script("defaults"),  # RMSE over 20 steps ahead: not comparable
    }
