"""Start-up and forecast cost, measured side by side in one run.

* ``forecast --help`` wall time (the CLI must answer before any heavy import), and how
  long ``forecast train`` takes to reach its first training step;
* ``forecast predict --steps 20`` against ``--steps 500`` as whole processes: the
  recursive roll is one compiled loop, so 500 steps should cost little more than 20;
* inside one process, the compiled roll against a per-step ``model.predict`` loop, for
  500 steps of one series and 20 steps of 1,000 series at once.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FORECAST = str(Path(sys.executable).with_name("forecast"))
SINE = ROOT / "sample_data" / "sine.csv"
REPEATS = 3  # the --help goal has a margin of 2x; predict 20 vs 500 is no goal


def wall(args: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    subprocess.run(args, cwd=cwd, check=True, capture_output=True)
    return time.perf_counter() - started


def median_walls(commands: dict[str, list[str]], cwd: Path) -> dict[str, float]:
    """Median wall time of each command, run interleaved so machine noise hits all alike."""
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(REPEATS):
        for name, args in commands.items():
            times[name].append(wall(args, cwd))
    return {name: statistics.median(values) for name, values in times.items()}


def in_process(model_dir: Path) -> dict[str, float]:
    """Seconds of the compiled roll (after its first trace) against a per-step
    ``model.predict`` loop: 500 steps of one window, 20 steps of 1,000 windows."""
    import numpy as np

    from forecast_cli.artifacts import load_model_dir
    from forecast_cli.forecasting import roll

    model, card = load_model_dir(model_dir)
    timings = {}
    for name, batch, steps in (("500_steps", 1, 500), ("1000_series", 1000, 20)):
        window = np.zeros((batch, card.window.lookback, 1), dtype=np.float32)
        roll(model, window, steps, card.model.head)  # the trace, paid once per process
        started = time.perf_counter()
        roll(model, window, steps, card.model.head)
        timings[f"roll_{name}_s"] = time.perf_counter() - started
        started = time.perf_counter()
        for _ in range(steps):
            step = model.predict(window, verbose=0, batch_size=batch)
            window = np.concatenate([window[:, 1:], step], axis=1)
        timings[f"predict_loop_{name}_s"] = time.perf_counter() - started
    return timings


def measure() -> dict:
    with tempfile.TemporaryDirectory() as scratch:
        cwd = Path(scratch)
        started = time.perf_counter()
        done = subprocess.run(
            # horizon 1: the worst case for the roll, one network call per step
            [FORECAST, "train", str(SINE), "--epochs", "5", "--horizon", "1", "--json"],
            cwd=cwd,
            check=True,
            capture_output=True,
            text=True,
        )
        whole = time.perf_counter() - started
        fit_s = json.loads(done.stdout.splitlines()[-1])["train_seconds"]
        walls = median_walls(
            {
                "help": [FORECAST, "--help"],
                "predict_20": [FORECAST, "predict", "--steps", "20"],
                "predict_500": [FORECAST, "predict", "--steps", "500"],
            },
            cwd,
        )
        loop = in_process(cwd / "forecast-model")
    return {
        "repeats": REPEATS,
        "help_s": round(walls["help"], 3),
        "train_until_first_step_s": round(whole - fit_s, 2),
        "predict_20_s": round(walls["predict_20"], 3),
        "predict_500_s": round(walls["predict_500"], 3),
        "predict_500_over_20": round(walls["predict_500"] / walls["predict_20"], 3),
        **{key: round(value, 3) for key, value in loop.items()},
        "roll_speedup_500_steps": round(
            loop["predict_loop_500_steps_s"] / loop["roll_500_steps_s"], 1
        ),
        "roll_speedup_1000_series": round(
            loop["predict_loop_1000_series_s"] / loop["roll_1000_series_s"], 1
        ),
    }
