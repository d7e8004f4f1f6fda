"""Recursive multi-step forecasting as one compiled TensorFlow loop.

The network emits ``horizon`` steps at once. For longer forecasts its output is appended
to the window and fed back, ``ceil(steps / horizon)`` times. The loop runs inside a
single ``tf.function`` (a ``tf.while_loop``), calling the model directly: no Python
round trip or ``model.predict`` per step, so 500 steps cost little more than 20.
"""

from __future__ import annotations

import math

import numpy as np

from forecast_cli.config import Head
from forecast_cli.network import final_step
from forecast_cli.runtime import tensorflow


def roll(
    model,
    windows: np.ndarray,
    steps: int,
    head: Head,
    future_features: np.ndarray | None = None,
) -> np.ndarray:
    """Forecast ``steps`` scaled values after each window.

    Args:
        windows: scaled inputs ``(batch, lookback, features)``; targets are the first
            columns, extra features the rest.
        future_features: scaled values ``(batch, >= steps - horizon, extra features)`` of
            the extra features after the window, needed once ``steps > horizon``.

    Returns:
        ``(batch, steps, targets)`` scaled forecasts.
    """
    tf = tensorflow()
    batch, lookback, n_features = windows.shape
    horizon, n_targets = model.output_shape[-2:]
    calls = math.ceil(steps / horizon)
    n_extra = n_features - n_targets
    future = np.zeros((batch, calls * horizon, n_extra), dtype=np.float32)
    if future_features is not None:
        known = min(future_features.shape[1], future.shape[1])
        future[:, :known] = future_features[:, :known]

    @tf.function
    def run(window, future):
        outputs = tf.TensorArray(tf.float32, size=calls)
        for call in tf.range(calls):
            step = final_step(model(window, training=False), head)
            outputs = outputs.write(call, step)
            known = future[:, call * horizon : (call + 1) * horizon]
            window = tf.concat([window, tf.concat([step, known], axis=-1)], axis=1)[:, -lookback:]
        stacked = outputs.stack()  # (calls, batch, horizon, targets)
        return tf.reshape(tf.transpose(stacked, [1, 0, 2, 3]), (batch, calls * horizon, n_targets))

    result = run(tf.constant(windows, dtype=tf.float32), tf.constant(future))
    return result.numpy()[:, :steps]
