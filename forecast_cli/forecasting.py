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
    return roll_together([(model, head)], windows, steps, future_features)[0]


def roll_together(
    networks: list[tuple[object, Head]],
    windows: np.ndarray,
    steps: int,
    future_features: np.ndarray | None = None,
) -> list[np.ndarray]:
    """``roll`` for several networks of the same data at once, in one compiled loop.

    Each network feeds back its own forecasts; sharing the loop saves a compilation per
    network (``forecast compare``).
    """
    tf = tensorflow()
    batch, lookback, n_features = windows.shape
    horizon, n_targets = networks[0][0].output_shape[-2:]
    calls = math.ceil(steps / horizon)
    if calls == 1:  # within the horizon: one plain call each, nothing to compile
        return [
            np.asarray(final_step(model(windows, training=False), head))[:, :steps]
            for model, head in networks
        ]
    future = np.zeros((batch, calls * horizon, n_features - n_targets), dtype=np.float32)
    if future_features is not None:
        known = min(future_features.shape[1], future.shape[1])
        future[:, :known] = future_features[:, :known]

    @tf.function
    def run(windows, future):
        outputs = tf.TensorArray(tf.float32, size=calls)  # (networks, batch, horizon, targets)
        for call in tf.range(calls):
            known = future[:, call * horizon : (call + 1) * horizon]
            steps_out, next_windows = [], []
            for index, (model, head) in enumerate(networks):
                step = final_step(model(windows[index], training=False), head)
                steps_out.append(step)
                extended = tf.concat([windows[index], tf.concat([step, known], axis=-1)], axis=1)
                next_windows.append(extended[:, -lookback:])
            outputs = outputs.write(call, tf.stack(steps_out))
            windows = tf.stack(next_windows)
        stacked = tf.transpose(outputs.stack(), [1, 2, 0, 3, 4])  # networks, batch, calls, ...
        return tf.reshape(stacked, (len(networks), batch, calls * horizon, n_targets))

    start = np.repeat(windows[None].astype(np.float32), len(networks), axis=0)
    result = run(tf.constant(start), tf.constant(future)).numpy()[:, :, :steps]
    return list(result)
