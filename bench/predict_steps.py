"""Start-up and forecast cost, measured side by side in one run.

* ``forecast --help`` wall time (the CLI must answer before any heavy import);
* ``forecast predict --steps 20`` against ``--steps 500`` as whole processes: the
  recursive roll is one compiled loop, so 500 steps should cost little more than 20;
* inside one process, the compiled roll against a per-step ``model.predict`` loop.

Run with ``make bench``; results are printed and written to ``bench/predict_steps.json``.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from publish import machine, publish

ROOT = Path(__file__).resolve().parents[1]
FORECAST = str(Path(sys.executable).with_name("forecast"))
SINE = ROOT / "sample_data" / "sine.csv"
REPEATS = 5


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


def in_process(model_dir: Path, steps: int) -> dict[str, float]:
    """Seconds for ``steps`` forecast steps: compiled roll (after its first trace) vs per step."""
    import numpy as np

    from forecast_cli.artifacts import load_model_dir
    from forecast_cli.forecasting import roll

    model, card = load_model_dir(model_dir)
    window = np.zeros((1, card.window.lookback, 1), dtype=np.float32)
    started = time.perf_counter()
    roll(model, window, steps, card.model.head)
    compiled = time.perf_counter() - started
    started = time.perf_counter()
    for _ in range(steps):
        step = model.predict(window, verbose=0)
        window = np.concatenate([window[:, 1:], step], axis=1)
    return {"compiled_roll_s": compiled, "predict_per_step_s": time.perf_counter() - started}


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        cwd = Path(scratch)
        subprocess.run(
            # horizon 1: the worst case for the roll, one network call per step
            [FORECAST, "train", str(SINE), "--epochs", "5", "--horizon", "1"],
            cwd=cwd,
            check=True,
            capture_output=True,
        )
        walls = median_walls(
            {
                "help": [FORECAST, "--help"],
                "predict_20": [FORECAST, "predict", "--steps", "20"],
                "predict_500": [FORECAST, "predict", "--steps", "500"],
            },
            cwd,
        )
        loop = in_process(cwd / "forecast-model", 500)
    results = {
        "machine": machine(),
        "repeats": REPEATS,
        "help_s": round(walls["help"], 3),
        "predict_20_s": round(walls["predict_20"], 3),
        "predict_500_s": round(walls["predict_500"], 3),
        "predict_500_over_20": round(walls["predict_500"] / walls["predict_20"], 3),
        "roll_500_steps_s": round(loop["compiled_roll_s"], 3),
        "predict_loop_500_steps_s": round(loop["predict_per_step_s"], 3),
        "roll_speedup": round(loop["predict_per_step_s"] / loop["compiled_roll_s"], 1),
    }
    publish(results, "predict_steps")


if __name__ == "__main__":
    main()
