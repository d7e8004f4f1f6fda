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


def seed_everything(seed: int) -> None:
    """Same seed, same weights, same shuffles, same forecast: seeds every generator and
    asks TensorFlow for deterministic kernels."""
    tf = tensorflow()
    keras().utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
