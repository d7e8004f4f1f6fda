"""TensorFlow, imported only by the code paths that train or forecast, and quietly.

TensorFlow prints start-up lines (oneDNN, CUDA probing, CPU features) from C++ before
its logging is configured; ``TF_CPP_MIN_LOG_LEVEL`` does not catch all of them, so the
first import and device probe run with the process's stderr sent to a temporary file,
which is shown only if the import itself fails.
"""

from __future__ import annotations

import functools
import os
import sys
import tempfile
from types import ModuleType

from forecast_cli.config import Device, Strategy
from forecast_cli.errors import ForecastError


@functools.cache
def tensorflow() -> ModuleType:
    """Import TensorFlow once, silencing its start-up log noise."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            import tensorflow as tf

            tf.config.list_physical_devices()
            import keras  # noqa: F401  (its first import also logs)
        except Exception:
            os.dup2(saved, 2)
            captured.seek(0)
            sys.stderr.write(captured.read().decode(errors="replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)
    tf.get_logger().setLevel("ERROR")
    return tf


def keras() -> ModuleType:
    """Keras 3 on the TensorFlow backend."""
    tensorflow()
    import keras

    return keras


def use_device(device: Device, mixed_precision: bool, strategy: Strategy = Strategy.NONE) -> str:
    """Apply ``--device``, ``--mixed-precision`` and ``--strategy`` before any TensorFlow
    op; say what is used. Worker processes call it too (the CPU choice also reaches them
    through the environment)."""
    if device is Device.CPU:
        os.environ["CUDA_VISIBLE_DEVICES"] = "-1"
    tf = tensorflow()
    gpus = tf.config.list_physical_devices("GPU")
    if device is Device.CPU and gpus:  # TensorFlow was imported before the choice
        tf.config.set_visible_devices([], "GPU")
        gpus = []
    if device is Device.GPU and not gpus:
        raise ForecastError(
            "--device gpu: TensorFlow sees no GPU (it needs one with its CUDA drivers, and "
            "the tensorflow[and-cuda] build); use --device cpu, or auto."
        )
    if mixed_precision:
        if not gpus:
            raise ForecastError(
                "--mixed-precision computes in float16, which only GPUs do faster; on the "
                "CPU it slows training down: leave it out."
            )
        keras().mixed_precision.set_dtype_policy("mixed_float16")
    used = f"GPU ({len(gpus)})" if gpus else f"CPU ({os.cpu_count()} cores)"
    if mixed_precision:
        used += ", mixed precision"
    # The default strategy of every network built and trained from here on, as if each
    # were inside its scope (mirrored: each batch split over the devices' replicas);
    # none also clears an earlier run's in the same process.
    mirrored = tf.distribute.MirroredStrategy() if strategy is Strategy.MIRRORED else None
    tf.distribute.experimental_set_strategy(mirrored)
    if mirrored is not None:
        used += f", mirrored over {mirrored.num_replicas_in_sync} replica(s)"
    return used


def seed_everything(seed: int) -> None:
    """Same seed, same weights, same shuffles, same forecast: seeds every generator and
    asks TensorFlow for deterministic kernels."""
    tf = tensorflow()
    keras().utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
