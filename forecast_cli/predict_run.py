"""``forecast predict``: load a model directory, roll the forecast, write CSV and plot."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from forecast_cli.artifacts import ModelCard, atomic_path, load_model_dir
from forecast_cli.calendar_features import future_calendar, future_times
from forecast_cli.config import DataConfig, Fill
from forecast_cli.errors import ForecastError
from forecast_cli.forecasting import roll
from forecast_cli.intervals import calibrate
from forecast_cli.loading import Series, load_series
from forecast_cli.windows import split_series


@dataclass(frozen=True)
class Forecast:
    """The future values with their times, and the series they continue."""

    frame: pd.DataFrame  # a time (or step) column, then one column per target
    series: Series
    card: ModelCard
    notes: tuple[str, ...]  # what the user should know about the data read
    levels: tuple[int, ...] = ()  # interval coverage levels, percent


def run_predict(
    model_dir: Path,
    data_path: Path | None,
    steps: int,
    future_path: Path | None = None,
    levels: tuple[int, ...] = (),
    fill: Fill | None = None,
) -> Forecast:
    """Forecast ``steps`` values after the end of the data (by default the training file),
    with conformal intervals at the coverage ``levels`` (percent) if any. ``fill`` overrides
    how the model's training filled missing values."""
    model, card = load_model_dir(model_dir)
    if data_path is None:
        data_path = Path(card.source.path)
        if not data_path.is_file() and str(data_path) != "-":
            raise ForecastError(
                f"The training file recorded in {model_dir} ({data_path}) no longer exists; "
                "pass the series to forecast from with --data FILE."
            )
    data = dataclasses.replace(card.data, fill=fill) if fill else card.data
    series = load_series(data_path, data)
    notes = series.notes
    if str(data_path.absolute()) == card.source.path and series.sha256 != card.source.sha256:
        notes += (
            f"{data_path} has changed since the model was trained; forecasting from "
            "its current end.",
        )
    lookback = card.window.lookback
    if len(series.values) < lookback:
        raise ForecastError(
            f"{data_path} has {len(series.values)} rows; the model reads windows of "
            f"{lookback} (--lookback), so it needs at least {lookback} rows."
        )
    window = card.scaler.transform(series.values[-lookback:])[None]
    future = _future_features(card, series, steps, future_path)
    scaled = roll(model, window, steps, card.model.head, future)
    values = card.scaler.inverse(scaled[0])
    frame = pd.DataFrame(values, columns=list(series.targets))
    if levels:
        split = split_series(
            len(series.values), lookback, card.window.horizon, card.window.val_fraction
        )
        widths = calibrate(
            model,
            card.model.head,
            card.scaler,
            series.values,
            split.train_rows,
            lookback,
            steps,
            len(series.targets),
            levels,
        )
        for level, width in widths.items():
            for i, target in enumerate(series.targets):
                frame[f"{target}_lower_{level}"] = values[:, i] - width[:, i]
                frame[f"{target}_upper_{level}"] = values[:, i] + width[:, i]
    frame.insert(0, *future_index(series, steps, series.freq or card.source.freq))
    return Forecast(frame, series, card, notes, levels)


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    with atomic_path(path) as temporary:
        frame.to_csv(temporary, index=False)


def plot(forecast: Forecast, path: Path) -> None:
    """The history's tail and the forecast, titled with the architecture."""
    from forecast_cli.plotting import plot_forecast

    series, card = forecast.series, forecast.card
    n_targets = len(series.targets)
    tail = min(len(series.values), max(5 * card.window.lookback, 100, len(forecast.frame)))
    if series.times is not None and pd.api.types.is_datetime64_any_dtype(forecast.frame.iloc[:, 0]):
        history_x, x_label = series.times[-tail:], series.time_col
        forecast_x = forecast.frame.iloc[:, 0].to_numpy()
    else:
        rows = len(series.values)
        history_x, x_label = np.arange(rows - tail, rows) + 1, "row"
        forecast_x = np.arange(rows, rows + len(forecast.frame)) + 1
    title = (
        f"{card.model.label} ({card.model.head}), lookback {card.window.lookback}: "
        f"next {len(forecast.frame)} steps"
    )
    bands = {
        level: (
            forecast.frame[[f"{t}_lower_{level}" for t in series.targets]].to_numpy(),
            forecast.frame[[f"{t}_upper_{level}" for t in series.targets]].to_numpy(),
        )
        for level in forecast.levels
    }
    plot_forecast(
        np.asarray(history_x),
        series.values[-tail:, :n_targets],
        np.asarray(forecast_x),
        forecast.frame[list(series.targets)].to_numpy(),
        series.targets,
        x_label,
        title,
        path,
        bands,
    )


def _future_features(
    card: ModelCard, series: Series, steps: int, future_path: Path | None
) -> np.ndarray | None:
    """Scaled extra-input values for the steps the roll feeds back, when it needs them:
    the features from ``--future-data``, the calendar computed from the future times."""
    features, horizon = card.data.features, card.window.horizon
    needed = steps - horizon
    if not (features or series.calendar) or needed <= 0:
        return None
    parts = []
    if features:
        if future_path is None:
            raise ForecastError(
                f"This model also reads the features {', '.join(features)}, so past its "
                f"--horizon of {horizon} step(s) it needs their future values: pass "
                f"--future-data FILE with columns {', '.join(features)} for the next {needed} "
                f"step(s), or use --steps {horizon}."
            )
        future = load_series(future_path, DataConfig(targets=features, fill=card.data.fill))
        if len(future.values) < needed:
            raise ForecastError(
                f"--future-data {future_path} has {len(future.values)} rows; forecasting "
                f"{steps} steps needs the features for {needed} step(s) after the data's end."
            )
        parts.append(future.values[:needed])
    if series.calendar:
        parts.append(future_calendar(series.times, series.freq, series.calendar, needed))
    n_targets = len(card.data.targets)
    return card.scaler.transform(np.concatenate(parts, axis=1), first=n_targets)[None]


def future_index(series: Series, steps: int, freq: str | None) -> tuple[str, object]:
    """``(name, values)`` of the first column: times continuing the series, else step numbers."""
    if series.times is not None and freq:
        return series.time_col, future_times(series.times, freq, steps)
    return "step", np.arange(1, steps + 1)
