"""The linear anchor: a ridge regression of the horizon on the window.

A linear map from the last ``lookback`` values to the next ``horizon`` extrapolates
trends, damps noise and carries seasons (seasonal naive, drift, and the additive
exponential-smoothing forecasts are all linear in the window). Fitted in closed form on
the training windows, it is the base the network corrects under ``--anchor linear``,
the way ES-RNN's network corrects exponential smoothing. The regression predicts the
change from the seasonal-naive (or last-value) base, from the window relative to its
last value, with one intercept per step (a drift), so the penalty shrinks it towards
that base; the penalty is chosen on the last fifth of each series' training windows,
never on the validation tail.

Two regressions are fitted, each with its own penalty: one on the window's last season
and one on the whole window (``spans``); the anchor is their mean, as N-BEATS
ensembles networks of several lookbacks. The short one is the better fit to few
windows, the long one sees more seasons, and their mean beats either (measured on the
evaluation set, ``bench/eval_defaults.py``). A mean of linear maps is one linear map,
so the anchor stays one kernel.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PENALTIES = (1e-2, 1e-1, 1.0, 10.0, 100.0, 1e3, 1e4, 1e6)
HELD_OUT = 0.2  # of each series' training windows, to choose the penalty on


@dataclass(frozen=True)
class LinearAnchor:
    """Per target column: ``kernel`` (targets, lookback, horizon), ``bias`` (targets,
    horizon), and the penalty chosen for each target and span (``spans``)."""

    kernel: np.ndarray
    bias: np.ndarray
    penalties: tuple[tuple[float, ...], ...]


def base_rows(lookback: int, horizon: int, period: int) -> list[int]:
    """The window row each forecast step repeats: the value ``period`` steps before it."""
    return [lookback - period + h % period for h in range(horizon)]


def spans(lookback: int, period: int) -> list[int]:
    """The window spans (most recent rows) the regressions read: the last season (at
    least two rows) and the whole window."""
    return sorted({min(max(period, 2), lookback), lookback})


def fit_linear_anchor(
    parts: list[tuple[np.ndarray, np.ndarray]], n_targets: int, period: int
) -> LinearAnchor:
    """The mean of the ridge regressions of each target's horizon on the last ``spans``
    rows of its window, from every series' training windows ``(inputs, targets)``
    (scaled; see ``pipeline.prepare``)."""
    lookback, horizon = parts[0][0].shape[1], parts[0][1].shape[1]
    rows = base_rows(lookback, horizon, period)
    kernels, biases, penalties = [], [], []
    for t in range(n_targets):
        columns = [(inputs[:, :, t], targets[:, :, t]) for inputs, targets in parts]
        fits = [_fit_span(columns, rows, span) for span in spans(lookback, period)]
        kernels.append(np.mean([kernel for kernel, _, _ in fits], axis=0))
        biases.append(np.mean([bias for _, bias, _ in fits], axis=0))
        penalties.append(tuple(penalty for _, _, penalty in fits))
    return LinearAnchor(
        np.stack(kernels).astype(np.float32), np.stack(biases).astype(np.float32), tuple(penalties)
    )


def _fit_span(parts, rows: list[int], span: int) -> tuple[np.ndarray, np.ndarray, float]:
    """One regression on the last ``span`` rows of the windows: its kernel ``(lookback,
    horizon)`` (zero on the rows it does not read), its bias and its penalty."""
    lookback = parts[0][0].shape[1]
    pieces = [_design(window, future, rows, span) for window, future in parts]
    features = np.concatenate([f for f, _ in pieces])
    spread = float(features[:, :-1].std()) or 1.0
    scale = np.append(np.full(span - 1, 1 / spread), 1.0)  # the intercept stays as is
    pieces = [(f * scale, y) for f, y in pieces]
    penalty = _choose(pieces)
    weights = _solve(_moments(*_stacked(pieces)), penalty) * scale[:, None]
    kernel = np.zeros((lookback, weights.shape[1]))
    kernel[lookback - span : -1] = weights[:-1]  # the last row, relative to itself, is 0
    return kernel, weights[-1], penalty


def _design(window: np.ndarray, future: np.ndarray, rows: list[int], span: int):
    """Features (the last ``span`` rows minus the last value, which is 0 and left out, and
    1) and the change from the base."""
    relative = window[:, -span:-1] - window[:, -1:]
    features = np.hstack([relative, np.ones((len(window), 1))])
    return features.astype(np.float64), (future - window[:, rows]).astype(np.float64)


def _stacked(pieces):
    return np.concatenate([f for f, _ in pieces]), np.concatenate([y for _, y in pieces])


def _choose(pieces) -> float:
    """The penalty with the lowest squared error on the last ``HELD_OUT`` of each series'
    windows, fitted on the windows before them; the largest when a series has too few."""
    held = [max(1, int(HELD_OUT * len(f))) for f, _ in pieces]
    if any(len(f) - n < 1 for (f, _), n in zip(pieces, held, strict=True)):
        return PENALTIES[-1]
    fit = _moments(*_stacked([(f[:-n], y[:-n]) for (f, y), n in zip(pieces, held, strict=True)]))
    check = _stacked([(f[-n:], y[-n:]) for (f, y), n in zip(pieces, held, strict=True)])
    errors = [np.mean((check[0] @ _solve(fit, p) - check[1]) ** 2) for p in PENALTIES]
    return PENALTIES[int(np.argmin(errors))]


def _moments(features: np.ndarray, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``X'X`` and ``X'y``, computed once for every penalty tried."""
    return features.T @ features, features.T @ targets


def _solve(moments: tuple[np.ndarray, np.ndarray], penalty: float) -> np.ndarray:
    """Ridge weights ``(features, horizon)``; the intercept (last feature) is not shrunk."""
    gram, cross = moments
    shrink = np.eye(len(gram)) * penalty
    shrink[-1, -1] = 0.0
    return np.linalg.solve(gram + shrink, cross)
