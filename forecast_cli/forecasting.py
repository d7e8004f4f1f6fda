"""Forecasting from an origin, and recursive multi-step forecasting.

``forecast_from`` is the one way every command forecasts: the window before an origin,
scaled with the series' training statistics, rolled forward, in the data's units again;
predict forecasts from the data's end, backtest from each cut-off, validation and the
intervals from every origin of the validation tail.

The network emits ``horizon`` steps at once. For longer forecasts its output is appended
to the window and fed back, ``ceil(steps / horizon)`` times. For a Keras model the loop
runs inside a single ``tf.function`` (a ``tf.while_loop``), calling the model directly:
no Python round trip or ``model.predict`` per step, so 500 steps cost little more than
20. Any other network, such as ``inference.Network`` (NumPy, for ``forecast predict``),
is called in a plain Python loop: it has no graph to compile, nor a per-call cost to save.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass, field

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from forecast_cli.calendar_features import future_calendar
from forecast_cli.config import Head
from forecast_cli.loading import Series
from forecast_cli.network import final_step
from forecast_cli.runtime import tensorflow
from forecast_cli.scaling import Scaler
from forecast_cli.windows import lead


@dataclass(frozen=True)
class Origins:
    """Where to forecast one series from.

    ``values`` holds the series in data units, targets first; after an origin it must
    hold the inputs known there (future features, calendar) for as long as a roll reads
    them (``windows.rows_ahead``); its targets there are never read.
    """

    values: np.ndarray  # (rows, columns)
    scaler: Scaler
    rows: np.ndarray  # the first forecast row of each forecast
    known_ahead: slice = field(default_factory=lambda: slice(0, 0))  # its future features


def after_end(series: Series, ahead: np.ndarray | None, rows: int) -> np.ndarray:
    """``series.values`` and ``rows`` more rows holding what is known after its end: the
    future features ``ahead`` (data units), the calendar of the future times."""
    future = np.full((rows, len(series.columns)), np.nan, dtype=np.float32)
    if ahead is not None:
        future[:, series.known_ahead] = ahead
    if series.calendar:
        first = len(series.columns) - len(series.calendar)
        future[:, first:] = future_calendar(series.times, series.freq, series.calendar, rows)
    return np.concatenate([series.values, future])


def forecast_from(
    networks: list[tuple[object, Head]],
    origins: list[Origins],
    lookback: int,
    steps: int,
    n_targets: int,
) -> list[list[np.ndarray]]:
    """Forecast ``steps`` values from every origin of every series, in data units.

    Returns, per network, per series, ``(len(rows), steps, n_targets)``. All windows of
    all series roll in one compiled loop; each series' forecasts are unscaled with its
    own scaler.
    """
    horizon = networks[0][0].output_shape[-2]
    calls = math.ceil(steps / horizon)
    span = lookback + calls * horizon  # the window, and the rows its roll reads after it
    windows, extras = [], []
    for one in origins:
        rows = np.asarray(one.rows)
        needed = max(int(rows.max()) - lookback + span - len(one.values), 0)
        values = np.pad(one.values, ((0, needed), (0, 0)), constant_values=np.nan)
        table = lead(one.scaler.transform(values), one.known_ahead, horizon)
        picked = sliding_window_view(table, span, axis=0)[rows - lookback].transpose(0, 2, 1)
        windows.append(picked[:, :lookback])
        extras.append(picked[:, lookback : lookback + (calls - 1) * horizon, n_targets:])
    future = np.concatenate(extras) if calls > 1 else None
    rolled = roll_together(networks, np.concatenate(windows), steps, future)
    ends = np.cumsum([len(w) for w in windows])[:-1]
    return [
        [
            one.scaler.inverse(piece)
            for one, piece in zip(origins, np.split(scaled, ends), strict=True)
        ]
        for scaled in rolled
    ]


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
    """``roll`` for several networks of the same data at once, in one loop: compiled when
    they are all Keras models, in Python otherwise.

    Each network feeds back its own forecasts; sharing the loop saves a compilation per
    network (``forecast compare``).
    """
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
    each = np.repeat(windows[None].astype(np.float32), len(networks), axis=0)  # its windows
    if all(_is_keras(model) for model, _ in networks):
        rolled = _compiled_roll(networks, each, future, calls)
    else:
        outputs = []
        for call in range(calls):
            known = future[:, call * horizon : (call + 1) * horizon]
            out, each = _advance(networks, each, known, np.concatenate, np.stack)
            outputs.append(out)
        rolled = np.concatenate(outputs, axis=2)  # networks, batch, calls * horizon, targets
    return list(rolled[:, :, :steps])


def _is_keras(model) -> bool:
    """Whether ``model`` is a Keras model (never true before Keras is imported)."""
    keras = sys.modules.get("keras")
    return keras is not None and isinstance(model, keras.Model)


def _advance(networks, windows, known, concat, stack):
    """One call of each network on its windows ``(networks, batch, lookback, features)``:
    their forecasts ``(networks, batch, horizon, targets)``, and each network's windows
    moved on by its forecast and the ``known`` features after it; with NumPy's or
    TensorFlow's ``concat`` and ``stack``."""
    lookback = windows.shape[2]
    steps, moved = [], []
    for index, (model, head) in enumerate(networks):
        step = final_step(model(windows[index], training=False), head)
        steps.append(step)
        extended = concat([windows[index], concat([step, known], axis=-1)], axis=1)
        moved.append(extended[:, -lookback:])
    return stack(steps), stack(moved)


def _compiled_roll(networks, start: np.ndarray, future: np.ndarray, calls: int) -> np.ndarray:
    """``calls`` calls of Keras ``networks`` in one ``tf.function``: ``(networks, batch,
    calls * horizon, targets)``."""
    tf = tensorflow()
    batch, horizon, n_targets = start.shape[1], *networks[0][0].output_shape[-2:]

    @tf.function
    def run(windows, future):
        outputs = tf.TensorArray(tf.float32, size=calls)  # (networks, batch, horizon, targets)
        for call in tf.range(calls):
            known = future[:, call * horizon : (call + 1) * horizon]
            out, windows = _advance(networks, windows, known, tf.concat, tf.stack)
            outputs = outputs.write(call, out)
        stacked = tf.transpose(outputs.stack(), [1, 2, 0, 3, 4])  # networks, batch, calls, ...
        return tf.reshape(stacked, (len(networks), batch, calls * horizon, n_targets))

    return run(tf.constant(start), tf.constant(future)).numpy()
