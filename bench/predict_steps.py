"""Start-up and forecast cost, measured side by side in one run.

* ``forecast --help`` wall time (the CLI must answer before any heavy import), and how
  long ``forecast train`` takes to reach its first training step;
* ``forecast predict --steps 20`` (CSV and plot) beside ``python -c "import pandas,
  matplotlib.pyplot"`` in the same run: predict evaluates the network with NumPy and
  imports no TensorFlow (issue 17: at most 1.0 s on an idle machine, at most twice the
  import); for the default model, whose forecast may average statistical models
  (statsforecast's import), and for one trained with ``--combine none``;
* ``forecast predict --steps 20`` against ``--steps 500`` as whole processes;
* inside one process, the compiled roll against a per-step ``model.predict`` loop, for
  500 steps of one series and 20 steps of 1,000 series at once, and the NumPy
  evaluator's roll (``inference``) on the same windows.
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
    ``model.predict`` loop and the NumPy evaluator's roll: 500 steps of one window, 20
    steps of 1,000 windows."""
    import numpy as np

    from forecast_cli import inference
    from forecast_cli.artifacts import MODEL_FILE, load_model_dir
    from forecast_cli.forecasting import roll

    model, card = load_model_dir(model_dir)
    network = inference.load(model_dir / MODEL_FILE)
    timings = {}
    for name, batch, steps in (("500_steps", 1, 500), ("1000_series", 1000, 20)):
        window = np.zeros((batch, card.window.lookback, 1), dtype=np.float32)
        roll(model, window, steps, card.model.head)  # the trace, paid once per process
        started = time.perf_counter()
        roll(model, window, steps, card.model.head)
        timings[f"roll_{name}_s"] = time.perf_counter() - started
        started = time.perf_counter()
        roll(network, window, steps, card.model.head)
        timings[f"numpy_roll_{name}_s"] = time.perf_counter() - started
        started = time.perf_counter()
        for _ in range(steps):
            step = model.predict(window, verbose=0, batch_size=batch)
            window = np.concatenate([window[:, 1:], step], axis=1)
        timings[f"predict_loop_{name}_s"] = time.perf_counter() - started
    return timings


def train(cwd: Path, *flags: str) -> dict:
    """``forecast train`` of the sine for 5 epochs, its ``--json`` line, and its wall
    time as ``wall_s``; horizon 1: the worst case for the roll, one network call per
    step."""
    started = time.perf_counter()
    done = subprocess.run(
        [FORECAST, "train", str(SINE), "--epochs", "5", "--horizon", "1", "--json", *flags],
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
    )
    return {**json.loads(done.stdout.splitlines()[-1]), "wall_s": time.perf_counter() - started}


def measure() -> dict:
    with tempfile.TemporaryDirectory() as scratch:
        cwd = Path(scratch)
        trained = train(cwd)
        train(cwd, "--combine", "none", "--model-dir", "network-only")
        alone = ["--model", "network-only", "--out", "alone.csv", "--plot", "alone.png"]
        walls = median_walls(
            {
                "help": [FORECAST, "--help"],
                "import_pandas_matplotlib": [
                    sys.executable,
                    "-c",
                    "import pandas, matplotlib.pyplot",
                ],
                "predict_20": [FORECAST, "predict", "--steps", "20"],
                "predict_20_network_only": [FORECAST, "predict", "--steps", "20", *alone],
                "predict_500": [FORECAST, "predict", "--steps", "500"],
            },
            cwd,
        )
        loop = in_process(cwd / "forecast-model")
    imports = walls["import_pandas_matplotlib"]
    return {
        "repeats": REPEATS,
        "help_s": round(walls["help"], 3),
        "train_until_first_step_s": round(trained["wall_s"] - trained["train_seconds"], 2),
        "import_pandas_matplotlib_s": round(imports, 3),
        "predict_20_network_only_s": round(walls["predict_20_network_only"], 3),
        "predict_20_network_only_over_import": round(walls["predict_20_network_only"] / imports, 2),
        "predict_20_s": round(walls["predict_20"], 3),
        "predict_20_combined_with": trained["combined_with"],
        "predict_20_over_import": round(walls["predict_20"] / imports, 2),
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
