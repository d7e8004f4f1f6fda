"""Per-column scaling whose statistics come from the training rows only."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from forecast_cli.config import Scale


@dataclass(frozen=True)
class Scaler:
    """``scaled = (value - offset) / scale`` per column; saved with the model as plain numbers."""

    kind: Scale
    offset: tuple[float, ...]
    scale: tuple[float, ...]

    @classmethod
    def fit(cls, kind: Scale, train_values: np.ndarray) -> Scaler:
        """Fit on ``train_values`` (rows, columns): pass only rows before the validation cut."""
        columns = train_values.shape[1]
        if kind is Scale.STANDARD:
            offset, scale = train_values.mean(axis=0), train_values.std(axis=0)
        elif kind is Scale.MINMAX:
            offset = train_values.min(axis=0)
            scale = train_values.max(axis=0) - offset
        else:
            offset, scale = np.zeros(columns), np.ones(columns)
        scale = np.where(scale > 0, scale, 1.0)  # a constant column stays finite
        return cls(kind, tuple(map(float, offset)), tuple(map(float, scale)))

    def transform(self, values: np.ndarray, first: int = 0) -> np.ndarray:
        """Scale ``values`` whose last axis holds the columns ``first, first + 1, ...``."""
        offset, scale = self._columns(first, values.shape[-1])
        return (values - offset) / scale

    def inverse(self, values: np.ndarray, first: int = 0) -> np.ndarray:
        """Undo ``transform``; targets are the first columns, so ``first=0`` fits forecasts."""
        offset, scale = self._columns(first, values.shape[-1])
        return values * scale + offset

    def _columns(self, first: int, width: int) -> tuple[np.ndarray, np.ndarray]:
        window = slice(first, first + width)
        return (
            np.asarray(self.offset[window], dtype=np.float32),
            np.asarray(self.scale[window], dtype=np.float32),
        )

    def to_dict(self) -> dict:
        return {"kind": str(self.kind), "offset": list(self.offset), "scale": list(self.scale)}

    @classmethod
    def from_dict(cls, data: dict) -> Scaler:
        return cls(Scale(data["kind"]), tuple(data["offset"]), tuple(data["scale"]))
