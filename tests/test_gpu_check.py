"""bench/gpu_check.sh: it refuses cleanly where there is no GPU, and judges the goals."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

import gpu_check  # noqa: E402


def test_the_script_names_the_missing_gpu_before_installing_anything(tmp_path):
    # A stand-in nvidia-smi answers as the real one does on a machine without a GPU.
    fake = tmp_path / "nvidia-smi"
    fake.write_text("#!/bin/sh\necho 'No devices were found'\nexit 6\n")
    fake.chmod(0o755)
    env = os.environ | {"PATH": f"{tmp_path}:{os.environ['PATH']}"}
    done = subprocess.run(
        ["bash", str(ROOT / "bench" / "gpu_check.sh")], capture_output=True, text=True, env=env
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert done.stderr.startswith("Error: bench/gpu_check.sh needs an NVIDIA GPU")
    assert "nvidia-smi finds none" in done.stderr


def test_the_check_refuses_when_tensorflow_sees_no_gpu():
    env = os.environ | {"CUDA_VISIBLE_DEVICES": ""}
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "gpu_check.py")],
        capture_output=True, text=True, env=env,
    )  # fmt: skip
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: TensorFlow ")
    assert "sees no GPU" in lines[0] and "pip install -e '.[gpu]'" in lines[0]


def test_cpu_networks_run_the_generic_loop_not_cudnn():
    # On a GPU the same tracing finds CudnnRNNV3; on a CPU Keras takes its generic loop,
    # a While over the time steps, which shows the tracing sees inside the layers.
    assert "While" in gpu_check.operations("bilstm:8") | gpu_check.operations("gru:8")
    assert gpu_check.cudnn_operations("bilstm:8") == []


def run(epoch_s: float, val_loss: float) -> dict:
    return {"epoch_s": epoch_s, "val_loss": val_loss}


def test_goals_are_judged_from_the_measured_figures():
    met = gpu_check.goals(
        {
            "cpu_2_cores": run(0.50, 0.0200),
            "gpu": run(0.05, 0.0201),
            "gpu_mixed_precision": run(0.04, 0.0203),
        }
    )
    assert met["gpu_speedup_per_epoch"]["value"] == 10.0
    assert met["gpu_speedup_per_epoch"]["met"]
    assert met["gpu_speedup_per_epoch"]["val_loss_gpu_over_cpu"] == 0.005
    assert met["mixed_precision_val_loss"]["value"] == 0.01
    assert met["mixed_precision_val_loss"]["met"]
    missed = gpu_check.goals(
        {
            "cpu_2_cores": run(0.50, 0.0200),
            "gpu": run(0.25, 0.0200),
            "gpu_mixed_precision": run(0.20, 0.0210),
        }
    )
    assert not missed["gpu_speedup_per_epoch"]["met"]
    assert missed["gpu_speedup_per_epoch"]["value"] == 2.0
    assert not missed["mixed_precision_val_loss"]["met"]
