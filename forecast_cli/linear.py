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
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PENALTIES = (1e-2, 1e-1, 1.0, 10.0, 100.0, 1e3, 1e4, 1e6)
HELD_OUT = 0.2  # of each series' training windows, to choose the penalty on


@dataclass(frozen=True)
class LinearAnchor:
    """Per target column: ``kernel`` (targets, lookback, horizon), ``bias`` (targets,
    horizon), and the penalty chosen for each target."""

    kernel: np.ndarray
    bias: np.ndarray
    penalties: tuple[float, ...]


def base_rows(lookback: int, horizon: int, period: int) -> list[int]:
    """The window row each forecast step repeats: the value ``period`` steps before it."""
    return [lookback - period + h % period for h in range(horizon)]


def fit_linear_anchor(
    parts: list[tuple[np.ndarray, np.ndarray]], n_targets: int, period: int
) -> LinearAnchor:
    """The ridge regression of each target's horizon on its window, from every series'
    training windows ``(inputs, targets)`` (scaled; see ``pipeline.prepare``)."""
    lookback, horizon = parts[0][0].shape[1], parts[0][1].shape[1]
    rows = base_rows(lookback, horizon, period)
    kernels, biases, penalties = [], [], []
    for t in range(n_targets):
        pieces = [_design(inputs[:, :, t], targets[:, :, t], rows) for inputs, targets in parts]
        features = np.concatenate([f for f, _ in pieces])
        spread = float(features[:, :-1].std()) or 1.0
        scale = np.append(np.full(lookback, 1 / spread), 1.0)  # the intercept stays as is
        pieces = [(f * scale, y) for f, y in pieces]
        penalty = _choose(pieces)
        weights = _solve(_moments(*_stacked(pieces)), penalty) * scale[:, None]
        kernels.append(weights[:-1])
        biases.append(weights[-1])
        penalties.append(penalty)
    return LinearAnchor(
        np.stack(kernels).astype(np.float32), np.stack(biases).astype(np.float32), tuple(penalties)
    )


def _design(window: np.ndarray, future: np.ndarray, rows: list[int]):
    """Features (the window minus its last value, and 1) and the change from the base."""
    features = np.hstack([window - window[:, -1:], np.ones((len(window), 1))])
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
