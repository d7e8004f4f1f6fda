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
from forecast_cli.intervals import Calibration, calibrate
from forecast_cli.loading import Series, load_panel, panel_notes
from forecast_cli.scaling import Scaler
from forecast_cli.windows import forecast_inputs, rows_ahead, split_series


@dataclass(frozen=True)
class Forecast:
    """The future values with their times, and the series they continue."""

    frame: pd.DataFrame  # [id column,] a time (or step) column, then one column per target
    panel: tuple[Series, ...]  # the series forecast, in the frame's order
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
    only: tuple[str, ...] = (),
) -> Forecast:
    """Forecast ``steps`` values after the end of the data (by default the training file),
    with conformal intervals at the coverage ``levels`` (percent) if any. ``fill`` overrides
    how the model's training filled missing values; ``only`` names the series to forecast
    (``--series``), all of them by default."""
    model, card = load_model_dir(model_dir)
    if data_path is None:
        data_path = Path(card.source.path)
        if not data_path.is_file() and str(data_path) != "-":
            raise ForecastError(
                f"The training file recorded in {model_dir} ({data_path}) no longer exists; "
                "pass the series to forecast from with --data FILE."
            )
    data = dataclasses.replace(card.data, fill=fill) if fill else card.data
    loaded = load_panel(data_path, data)
    panel = _chosen(loaded, card, only, data_path)
    notes = panel_notes(panel)
    if str(data_path.absolute()) == card.source.path and panel[0].sha256 != card.source.sha256:
        notes += (
            f"{data_path} has changed since the model was trained; forecasting from "
            "its current end.",
        )
    lookback = card.window.lookback
    for series in panel:
        if len(series.values) < lookback:
            named = f" (series '{series.name}')" if series.name is not None else ""
            raise ForecastError(
                f"{data_path}{named} has {len(series.values)} rows; the model reads windows of "
                f"{lookback} (--lookback), so it needs at least {lookback} rows."
            )
    windows, extras = _inputs(card, panel, steps, future_path)
    scaled = roll(model, windows, steps, card.model.head, extras)
    # calibrated on every series the model knows, forecast or not: more origins
    known = [series for series in loaded if series.name in card.scalers]
    widths = _widths(model, card, known, steps, levels) if levels else {}
    frames = [
        _series_frame(
            card, series, card.scalers[series.name].inverse(out), widths.get(series.name, {})
        )
        for series, out in zip(panel, scaled, strict=True)
    ]
    return Forecast(pd.concat(frames, ignore_index=True), panel, card, notes, levels)


def _chosen(
    panel: tuple[Series, ...], card: ModelCard, only: tuple[str, ...], data_path: Path
) -> tuple[Series, ...]:
    """The series to forecast: those ``--series`` names (all by default), each one the
    model was trained on, since it scales each series as it did in training."""
    if only and card.data.id_col is None:
        raise ForecastError(
            "--series picks series of a long-format file, and this model was trained on "
            "one series (no --id-col): leave out --series."
        )
    names = [series.name for series in panel]
    missing = [name for name in only if name not in names]
    if missing:
        raise ForecastError(
            f"--series: {', '.join(repr(m) for m in missing)} not in {data_path}'s "
            f"'{card.data.id_col}' column, which holds {_some(names)}."
        )
    unknown = [name for name in names if name not in card.scalers and (not only or name in only)]
    if unknown:
        raise ForecastError(
            f"{data_path} holds series the model was not trained on ({_some(unknown)}), so "
            "it has no scaling for them: pick known ones with --series, or retrain with them."
        )
    return tuple(series for series in panel if not only or series.name in only)


def _some(names: list) -> str:
    shown = ", ".join(repr(name) for name in names[:5])
    return shown + (f" and {len(names) - 5} more" if len(names) > 5 else "")


def _widths(
    model, card: ModelCard, panel: list[Series], steps: int, levels: tuple[int, ...]
) -> dict[str | None, dict[int, np.ndarray]]:
    """Conformal half-widths ``{series name: {level: (steps, targets)}}`` from the
    validation tails (as the model split them) of ``panel``."""
    window = card.window
    rows = [
        split_series(len(s.values), window.lookback, window.horizon, window.val_fraction)
        for s in panel
    ]
    widths = calibrate(
        model,
        card.model.head,
        [
            Calibration(s.values, card.scalers[s.name], split.train_rows, s.known_ahead)
            for s, split in zip(panel, rows, strict=True)
        ],
        window.lookback,
        steps,
        len(card.data.targets),
        levels,
    )
    return {s.name: w for s, w in zip(panel, widths, strict=True)}


def _series_frame(
    card: ModelCard, series: Series, values: np.ndarray, widths: dict[int, np.ndarray]
) -> pd.DataFrame:
    """One series' forecast ``values`` (steps, targets) as rows: [id,] time, targets, and
    the bounds of its intervals of half-``widths`` by level."""
    steps, targets = len(values), series.targets
    frame = pd.DataFrame(values, columns=list(targets))
    for level, width in widths.items():
        for i, target in enumerate(targets):
            frame[f"{target}_lower_{level}"] = values[:, i] - width[:, i]
            frame[f"{target}_upper_{level}"] = values[:, i] + width[:, i]
    frame.insert(0, *future_index(series, steps, series.freq or card.source.freq))
    if series.name is not None:
        frame.insert(0, series.id_col, series.name)
    return frame


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    with atomic_path(path) as temporary:
        frame.to_csv(temporary, index=False)


def plot(forecast: Forecast, path: Path, max_plots: int = 6) -> None:
    """The history's tail and the forecast of each target of the first ``max_plots``
    series, titled with the architecture."""
    from forecast_cli.plotting import ForecastPanel, plot_forecast

    card, steps = forecast.card, len(forecast.frame) // len(forecast.panel)
    panels, x_label = [], "row"
    for index, series in enumerate(forecast.panel[:max_plots]):
        rows = forecast.frame.iloc[index * steps : (index + 1) * steps]
        time = rows.get(series.time_col)
        tail = min(len(series.values), max(5 * card.window.lookback, 100, steps))
        if series.times is not None and time is not None:
            history_x, forecast_x, x_label = series.times[-tail:], time.to_numpy(), series.time_col
        else:
            end = len(series.values)
            history_x, forecast_x = np.arange(end - tail, end) + 1, np.arange(end, end + steps) + 1
        for i, target in enumerate(series.targets):
            panels.append(
                ForecastPanel(
                    target if series.name is None else f"{series.name}: {target}",
                    np.asarray(history_x),
                    series.values[-tail:, i],
                    np.asarray(forecast_x),
                    rows[target].to_numpy(),
                    {
                        level: (
                            rows[f"{target}_lower_{level}"].to_numpy(),
                            rows[f"{target}_upper_{level}"].to_numpy(),
                        )
                        for level in forecast.levels
                    },
                )
            )
    shown = len(forecast.panel[:max_plots])
    which = f", {shown} of {len(forecast.panel)} series" if len(forecast.panel) > 1 else ""
    title = (
        f"{card.model.label} ({card.model.head}), lookback {card.window.lookback}: "
        f"next {steps} steps{which}"
    )
    plot_forecast(panels, x_label, title, path)


def _inputs(
    card: ModelCard, panel: tuple[Series, ...], steps: int, future_path: Path | None
) -> tuple[np.ndarray, np.ndarray | None]:
    """Each series' scaled last window ``(series, lookback, columns)`` and the extra inputs
    of the rows the roll appends ``(series, rows, extras)``: future features from
    ``--future-data`` (with the model's --id-col, rows for each series), the calendar
    computed from the future times. Features known only up to now have no future: past
    the horizon they are refused."""
    horizon, features, ahead = card.window.horizon, card.data.features, card.data.future_features
    if features and steps > horizon:
        raise ForecastError(
            f"This model reads --features {','.join(features)}, known only up to the data's "
            f"end, so it forecasts at most its --horizon of {horizon} step(s): use --steps "
            f"{horizon}, or retrain with --horizon {steps}, or with --future-features for "
            "columns whose future values you know."
        )
    rows = rows_ahead(steps, horizon)
    known = _future_data(card, future_path, rows) if ahead else {}
    windows, extras = [], []
    for series in panel:
        given = known.get(series.name)
        count = 0 if given is None else len(given.values)
        if ahead and count < rows:
            named = f" for series '{series.name}'" if series.name is not None else ""
            raise ForecastError(
                f"--future-data {future_path} has {count} rows{named}; forecasting "
                f"{steps} steps needs the future features for {rows} step(s) after "
                f"the data's end (the network reads them {horizon} at a time)."
            )
        window, extra = inputs_after_end(
            series,
            card.scalers[series.name],
            given.values[:rows] if ahead else None,
            card.window.lookback,
            horizon,
            steps,
        )
        windows.append(window)
        extras.append(extra)
    return np.stack(windows), None if extras[0] is None else np.stack(extras)


def inputs_after_end(
    series: Series,
    scaler: Scaler,
    ahead: np.ndarray | None,
    lookback: int,
    horizon: int,
    steps: int,
) -> tuple[np.ndarray, np.ndarray | None]:
    """``forecast_inputs`` at the series' end: the future features ``ahead`` (data units,
    ``rows_ahead`` rows) and the calendar of the future times fill the rows after it."""
    rows = rows_ahead(steps, horizon)
    future = np.full((rows, len(series.columns)), np.nan, dtype=np.float32)
    if ahead is not None:
        future[:, series.known_ahead] = ahead
    if series.calendar:
        first = len(series.columns) - len(series.calendar)
        future[:, first:] = future_calendar(series.times, series.freq, series.calendar, rows)
    return forecast_inputs(
        np.concatenate([series.values, future]),
        len(series.values),
        scaler,
        series.known_ahead,
        lookback,
        steps,
        horizon,
        len(series.targets),
    )


def _future_data(card: ModelCard, future_path: Path | None, rows: int) -> dict:
    """``--future-data``'s series by name (``None`` without --id-col)."""
    ahead = card.data.future_features
    if future_path is None:
        raise ForecastError(
            f"This model reads the future features {', '.join(ahead)} for the steps it "
            f"forecasts: pass --future-data FILE with columns {', '.join(ahead)} for the "
            f"next {rows} step(s)."
        )
    asked = DataConfig(targets=ahead, fill=card.data.fill, id_col=card.data.id_col)
    return {future.name: future for future in load_panel(future_path, asked)}


def future_index(series: Series, steps: int, freq: str | None) -> tuple[str, object]:
    """``(name, values)`` of the first column: times continuing the series, else step numbers."""
    if series.times is not None and freq:
        return series.time_col, future_times(series.times, freq, steps)
    return "step", np.arange(1, steps + 1)
