"""``forecast backtest --jobs``: folds in worker processes against folds in turn.

Four folds of the sine's default backtest, so that two workers get two each; both as
whole processes, and the score tables must be identical.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SINE = ROOT / "sample_data" / "sine.csv"
FORECAST = str(Path(sys.executable).with_name("forecast"))


def measure() -> dict:
    seconds, tables = {}, {}
    with tempfile.TemporaryDirectory() as scratch:
        for jobs in (1, 2):
            out = Path(scratch) / f"jobs{jobs}.csv"
            args = [FORECAST, "backtest", str(SINE), "--folds", "4", "--jobs", str(jobs)]
            args += ["--out", str(out), "--plot", str(Path(scratch) / "plot.png")]
            started = time.perf_counter()
            subprocess.run(args, check=True, capture_output=True)
            seconds[jobs] = time.perf_counter() - started
            tables[jobs] = out.read_text()
    return {
        "folds": 4,
        "jobs_1_s": round(seconds[1], 1),
        "jobs_2_s": round(seconds[2], 1),
        "speedup": round(seconds[1] / seconds[2], 2),
        "same_scores": tables[1] == tables[2],
    }
