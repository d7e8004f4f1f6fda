"""The GPU path on a real GPU, as ``bench/gpu_check.sh`` runs it after ``make install``.

Checks that the LSTM and GRU layers ``forecast`` builds run cuDNN's kernel (the
``CudnnRNNV3`` operation in the traced network, which TensorFlow has for GPUs only),
then runs the commands a GPU user runs, each as a whole process: ``train`` with
``--device gpu`` (Bi-LSTM and GRU), ``--mixed-precision``, ``--strategy mirrored``, a
``compare`` and a ``predict``. Each training runs twice, for ``SHORT`` and ``LONG``
epochs without early stopping, so that the difference of their training times is the
time of ``LONG - SHORT`` epochs after tracing: the windows per second of the default
network on the GPU are set against the same command with ``--device cpu`` pinned to
two cores (``taskset``), the machine of ``bench/results.json``. Writes
``bench/gpu_results.json`` and prints the goals of issue 19:

- the default network trains at least 5x faster per epoch than on 2 CPU cores, at the
  same validation loss;
- mixed precision ends no more than 1% above float32 in validation loss.

    python bench/gpu_check.py
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SINE = ROOT / "sample_data" / "sine.csv"
OUT = Path(__file__).resolve().parent / "gpu_results.json"
FORECAST = Path(sys.executable).with_name("forecast")
SHORT, LONG = 2, 42
SPEEDUP_GOAL, MIXED_PRECISION_GOAL = 5.0, 0.01


def operations(layers: str) -> set[str]:
    """The operation types in the traced forward pass of the network for ``layers``,
    the functions it calls (a recurrent loop's body) included; the network runs once."""
    from forecast_cli.config import ModelConfig, parse_layers
    from forecast_cli.network import build_model
    from forecast_cli.runtime import tensorflow

    tf = tensorflow()

    model = build_model(
        ModelConfig(parse_layers(layers)), lookback=40, n_features=1, horizon=20, n_targets=1
    )
    traced = tf.function(model).get_concrete_function(tf.TensorSpec((None, 40, 1)))
    graph = traced.graph.as_graph_def()
    nodes = list(graph.node) + [node for f in graph.library.function for node in f.node_def]
    model(tf.zeros((8, 40, 1)))  # and the kernels run
    return {node.op for node in nodes}


def cudnn_operations(layers: str) -> list[str]:
    """The cuDNN operations in the network for ``layers``: none where TensorFlow sees no GPU."""
    return sorted(op for op in operations(layers) if op.startswith("Cudnn"))


def forecast(*args: str, cpus: str | None = None) -> dict:
    """Run ``forecast ARGS`` as a user does; its wall time, exit status and output."""
    command = [str(FORECAST), *args]
    if cpus:
        command = ["taskset", "-c", cpus, *command]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    result = {
        "command": " ".join(["forecast", *args]),
        "exit": done.returncode,
        "wall_s": round(time.perf_counter() - started, 2),
    }
    if done.returncode:
        result["stderr"] = done.stderr.strip().splitlines()[-5:]
    elif "--json" in args:
        result["json"] = json.loads(done.stdout.strip().splitlines()[-1])
        shapes = re.search(r"X train, y train\s+\((\d+),", done.stdout)
        result["windows"] = int(shapes.group(1)) if shapes else None
    return result


def training(name: str, work: Path, *flags: str, cpus: str | None = None) -> dict:
    """``forecast train`` of the sine for SHORT and LONG epochs: per-epoch time after tracing."""
    runs = {}
    for epochs in (SHORT, LONG):
        runs[epochs] = forecast(
            "train", str(SINE), "--combine", "none", "--epochs", str(epochs),
            "--patience", str(epochs), "--model-dir", str(work / f"{name}-{epochs}"),
            "--json", *flags, cpus=cpus,
        )  # fmt: skip
    short, long = runs[SHORT], runs[LONG]
    result = {"command": long["command"], "runs": list(runs.values())}
    if short["exit"] or long["exit"]:
        result["failed"] = True
        return result
    seconds = (long["json"]["train_seconds"] - short["json"]["train_seconds"]) / (LONG - SHORT)
    result |= {
        "epoch_s": round(seconds, 4),
        "windows_per_s": round(long["windows"] / seconds) if seconds > 0 else None,
        "val_loss": min(_val_losses(work / f"{name}-{LONG}")),
        "val_rmse": long["json"]["val_rmse"],
    }
    return result


def _val_losses(model_dir: Path) -> list[float]:
    lines = (model_dir / "history.csv").read_text().splitlines()
    column = lines[0].split(",").index("val_loss")
    return [float(line.split(",")[column]) for line in lines[1:]]


def gpu_name() -> str:
    query = ["nvidia-smi", "--query-gpu=name,driver_version", "--format=csv,noheader"]
    return subprocess.run(query, capture_output=True, text=True).stdout.strip()


def main() -> int:
    from forecast_cli.runtime import tensorflow

    tf = tensorflow()

    if not tf.config.list_physical_devices("GPU"):
        build = tf.sysconfig.get_build_info()
        print(
            f"Error: TensorFlow {tf.__version__} sees no GPU (built for CUDA "
            f"{build.get('cuda_version', '-')}): install its CUDA libraries with "
            "pip install -e '.[gpu]', as bench/gpu_check.sh does, on a machine with an "
            "NVIDIA GPU and its driver.",
            file=sys.stderr,
        )
        return 2
    results: dict = {
        "date": datetime.now(UTC).date().isoformat(),
        "gpu": gpu_name(),
        "tensorflow": tf.__version__,
        "cuda_build": tf.sysconfig.get_build_info().get("cuda_version"),
        "cudnn": {layers: cudnn_operations(layers) for layers in ("bilstm:50", "gru:50")},
    }
    work = Path(tempfile.mkdtemp(prefix="gpu-check-"))
    two_cores = "0,1" if shutil.which("taskset") else None
    runs = {
        "cpu_2_cores": training("cpu", work, "--device", "cpu", cpus=two_cores),
        "gpu": training("gpu", work, "--device", "gpu"),
        "gpu_gru": training("gru", work, "--device", "gpu", "--layers", "gru:50"),
        "gpu_mixed_precision": training("mixed", work, "--device", "gpu", "--mixed-precision"),
        "gpu_mirrored": training("mirrored", work, "--device", "gpu", "--strategy", "mirrored"),
    }
    results["train"] = runs
    results["compare"] = forecast(
        "compare", str(SINE), "--merge-modes", "--device", "gpu", "--epochs", "10",
        "--out-dir", str(work / "comparison"),
    )  # fmt: skip
    results["predict"] = forecast(
        "predict", "--model", str(work / f"gpu-{LONG}"), "--steps", "20",
        "--out", str(work / "forecast.csv"), "--plot", str(work / "forecast.png"),
    )  # fmt: skip
    results["goals"] = goals(runs)
    failures = [
        name for name, run in [*runs.items(), ("compare", results["compare"]),
                               ("predict", results["predict"])]
        if run.get("failed") or run.get("exit")
    ] + [layers for layers, ops in results["cudnn"].items() if not ops]  # fmt: skip
    results["failed"] = failures
    temporary = OUT.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(results, indent=2) + "\n")
    temporary.replace(OUT)
    shutil.rmtree(work, ignore_errors=True)
    show(results)
    return 1 if failures else 0


def goals(runs: dict) -> dict:
    """Issue 19's two goals from the training runs, each with its figures and verdict."""
    cpu, gpu, mixed = runs["cpu_2_cores"], runs["gpu"], runs["gpu_mixed_precision"]
    found = {}
    if "epoch_s" in cpu and "epoch_s" in gpu:
        speedup = cpu["epoch_s"] / gpu["epoch_s"]
        found["gpu_speedup_per_epoch"] = {
            "value": round(speedup, 2),
            "goal": f">= {SPEEDUP_GOAL}x",
            "met": speedup >= SPEEDUP_GOAL,
            "val_loss_gpu_over_cpu": round(gpu["val_loss"] / cpu["val_loss"] - 1, 4),
        }
    if "val_loss" in mixed and "val_loss" in gpu:
        worse = mixed["val_loss"] / gpu["val_loss"] - 1
        found["mixed_precision_val_loss"] = {
            "value": round(worse, 4),
            "goal": f"<= {MIXED_PRECISION_GOAL:.0%} above float32",
            "met": worse <= MIXED_PRECISION_GOAL,
        }
    return found


def show(results: dict) -> None:
    print(f"{results['gpu']}, TensorFlow {results['tensorflow']}")
    for layers, ops in results["cudnn"].items():
        print(f"  {layers:<10} cuDNN operations: {', '.join(ops) or 'NONE'}")
    for name, run in results["train"].items():
        figures = (
            "FAILED" if run.get("failed")
            else f"{run['epoch_s']} s/epoch, {run['windows_per_s']} windows/s, "
                 f"best val_loss {run['val_loss']:.5f}"
        )  # fmt: skip
        print(f"  train {name:<22} {figures}")
    for name in ("compare", "predict"):
        run = results[name]
        print(f"  {name:<28} exit {run['exit']}, {run['wall_s']} s")
    for name, goal in results["goals"].items():
        verdict = "met" if goal["met"] else "MISSED"
        print(f"  {name}: {goal['value']} (goal {goal['goal']}: {verdict})")
    if results["failed"]:
        print(f"  failed: {', '.join(results['failed'])}")
    print(f"written: {OUT}")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
