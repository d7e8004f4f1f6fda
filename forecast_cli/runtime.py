"""TensorFlow, imported only by the code paths that train or forecast, and quietly.

TensorFlow prints start-up lines (oneDNN, CUDA probing, CPU features) from C++ before
its logging is configured; ``TF_CPP_MIN_LOG_LEVEL`` does not catch all of them, so the
first import and device probe run with the process's stderr sent to a temporary file,
which is shown only if the import itself fails.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
import tempfile
from collections.abc import Iterator
from types import ModuleType

from forecast_cli.config import Device, RuntimeConfig, Strategy, Xla
from forecast_cli.errors import ForecastError


@functools.cache
def tensorflow() -> ModuleType:
    """Import TensorFlow once, silencing its start-up log noise."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    with stderr_captured(shown_on_failure=True):
        import tensorflow as tf

        tf.config.list_physical_devices()
        import keras  # noqa: F401  (its first import also logs)
    tf.get_logger().setLevel("ERROR")
    return tf


@contextlib.contextmanager
def stderr_captured(shown_on_failure: bool) -> Iterator[None]:
    """The process's stderr, where C++ libraries write, sent to a temporary file while the
    block runs; written out if the block fails and ``shown_on_failure``."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        except BaseException:
            os.dup2(saved, 2)
            if shown_on_failure:
                captured.seek(0)
                sys.stderr.write(captured.read().decode(errors="replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def keras() -> ModuleType:
    """Keras 3 on the TensorFlow backend."""
    tensorflow()
    import keras

    return keras


def use_device(runtime: RuntimeConfig, xla: Xla = Xla.AUTO) -> str:
    """Apply ``--device``, ``--mixed-precision`` and ``--strategy`` before any TensorFlow
    op, and refuse an ``--xla on`` they leave nothing to compile for; say what is used.
    Worker processes call it once as they start (``parallel.set_up``); a command whose
    work runs in them never calls it itself."""
    device, mixed_precision, strategy = runtime.device, runtime.mixed_precision, runtime.strategy
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
    refuse_idle_xla(xla, strategy, on_gpu=bool(gpus))
    used = f"GPU ({len(gpus)})" if gpus else f"CPU ({os.cpu_count()} cores)"
    if mixed_precision:
        used += ", mixed precision"
    # The default strategy of every network built and trained from here on, as if each
    # were inside its scope (each batch split over the replicas); none also clears an
    # earlier run's in the same process.
    chosen = None
    if strategy is Strategy.MIRRORED:
        chosen = tf.distribute.MirroredStrategy()
        used += f", mirrored over {chosen.num_replicas_in_sync} replica(s)"
    elif strategy is Strategy.MULTI_WORKER:
        if "TF_CONFIG" not in os.environ:
            raise ForecastError(
                "--strategy multi-worker reads the cluster from the TF_CONFIG environment "
                "variable, which is not set: see 'Training on several machines' in "
                "docs/architectures.md."
            )
        chosen = tf.distribute.MultiWorkerMirroredStrategy()
        resolver = chosen.cluster_resolver
        used += (
            f", {resolver.task_type} {resolver.task_id} of {chosen.num_replicas_in_sync} "
            "replica(s) (multi-worker)"
        )
    tf.distribute.experimental_set_strategy(chosen)
    return used


def refuse_idle_xla(xla: Xla, strategy: Strategy, on_gpu: bool) -> None:
    """Refuse ``--xla on`` where the training steps run without it: beside a strategy, or
    on a GPU (``on_gpu``)."""
    if xla == Xla.ON and strategy is not Strategy.NONE:
        raise ForecastError(
            "--xla on compiles the training steps of one process; with --strategy they run "
            "through Keras's own fit, which does not: leave out one of them."
        )
    if xla == Xla.ON and on_gpu:
        raise ForecastError(
            "--xla on: on a GPU the recurrent layers run cuDNN kernels, which XLA cannot "
            "compile; use --xla auto (the GPU, no XLA) or --device cpu."
        )


def one_machine(strategy: Strategy, command: str) -> None:
    """Refuse multi-worker training for commands that train many networks (compare,
    backtest): across machines, ``forecast train`` trains one."""
    if strategy is Strategy.MULTI_WORKER:
        raise ForecastError(
            f"--strategy multi-worker trains one network across machines, with forecast "
            f"train; forecast {command} runs its networks in worker processes instead "
            "(--jobs)."
        )


def is_chief() -> bool:
    """Whether this process writes results: always, but for the workers of a multi-worker
    cluster other than its chief (the task 'chief', or worker 0 if there is none)."""
    tf = tensorflow()
    strategy = tf.distribute.get_strategy()
    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return True
    resolver = strategy.cluster_resolver
    has_chief = "chief" in resolver.cluster_spec().as_dict()
    return resolver.task_type == "chief" or (
        not has_chief and resolver.task_type == "worker" and resolver.task_id == 0
    )


def seed_everything(seed: int) -> None:
    """Same seed, same weights, same shuffles, same forecast: seeds every generator and
    asks TensorFlow for deterministic kernels."""
    tf = tensorflow()
    keras().utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
