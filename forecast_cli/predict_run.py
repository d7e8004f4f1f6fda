"""``forecast predict``: load a model directory and forecast from the end of the data."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from forecast_cli.artifacts import ModelCard, load_forecaster, version_notes
from forecast_cli.combination import AHEAD, combined
from forecast_cli.config import DataConfig, Fill
from forecast_cli.errors import ForecastError
from forecast_cli.forecasting import Origins, after_end, forecast_from
from forecast_cli.intervals import Calibration, calibrate, floored
from forecast_cli.loading import STDIN, Series, Source, load_panel, panel_notes, source_path
from forecast_cli.windows import rows_ahead, split_series


@dataclass(frozen=True)
class Forecast:
    """The future values with their times, and the series they continue."""

    frame: pd.DataFrame  # [id column,] a time (or step) column, then one column per target
    panel: tuple[Series, ...]  # the series forecast, in the frame's order
    card: ModelCard
    notes: tuple[str, ...]  # what the user should know about the data read
    levels: tuple[int, ...] = ()  # interval coverage levels, percent
    model_dir: Path = Path()

    def summary(self) -> dict:
        """The ``--json`` object (the files written are added by the caller)."""
        return {
            "model_dir": str(self.model_dir.absolute()),
            "steps": len(self.frame) // len(self.panel),
            "forecast": self.frame.to_dict(orient="records"),
        }


def run_predict(
    model_dir: Path,
    data: Source | None,
    steps: int,
    future: Source | None = None,
    levels: tuple[int, ...] = (),
    fill: Fill | None = None,
    only: tuple[str, ...] = (),
    keep_negative: bool = False,
) -> Forecast:
    """Forecast ``steps`` values after the end of ``data`` (by default the training file),
    with conformal intervals at the coverage ``levels`` (percent) if any. ``future``
    holds the future features' values after the data's end; ``fill`` overrides how the
    model's training filled missing values; ``only`` names the series to forecast
    (``--series``), all of them by default. A target the data never has below zero
    (counts, sales) gets its forecasts and bounds clipped at zero, unless
    ``keep_negative``."""
    model, card, load_notes = load_forecaster(model_dir)  # NumPy: no TensorFlow to import
    if future is not None and not card.data.future_features:
        raise ForecastError(
            f"--future-data: the model in {model_dir} reads no future features (it was trained "
            "without --future-features), so it has no use for them: leave out --future-data."
        )
    if data is None:
        data = Path(card.source.path)
        if not data.is_file() and data != STDIN:
            raise ForecastError(
                f"The training file recorded in {model_dir} ({data}) no longer exists; "
                "pass the series to forecast from with --data FILE."
            )
    data_path = source_path(data)
    asked = dataclasses.replace(card.data, fill=fill) if fill else card.data
    loaded = load_panel(data, asked)
    panel = _chosen(loaded, card, only, data_path)
    notes = panel_notes(panel) + version_notes(card.versions) + load_notes
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
    n_targets = len(card.data.targets)
    sources = _origins(card, panel, steps, future)
    (network,) = forecast_from([(model, card.model.head)], sources, lookback, steps, n_targets)
    # the models averaged with the network, fitted on the training data by train: kept
    # for the same data read the same way, and as many steps
    unchanged = panel[0].sha256 == card.source.sha256 and asked == card.data
    kept = card.ahead if unchanged and steps <= AHEAD else {}
    forecasts, unfitted = combined(
        network,
        sources,
        [card.combined(s.name) for s in panel],
        steps,
        card.window.season,
        n_targets,
        {
            (index, name): np.asarray(forecast, dtype=np.float32)[None, :steps]
            for index, series in enumerate(panel)
            for name, forecast in kept.get(series.name, {}).items()
        },
    )
    notes += tuple(unfitted)
    # calibrated on every series the model knows, forecast or not: more origins
    known = [series for series in loaded if series.name in card.scalers]
    widths = _widths(model, card, known, panel, steps, levels) if levels else {}
    frames = [
        _series_frame(card, series, values[0], widths.get(series.name, {}))
        for series, values in zip(panel, forecasts, strict=True)
    ]
    if not keep_negative:
        pairs = zip(frames, panel, strict=True)
        notes += _clipped_note([t for f, s in pairs for t in _clip_at_zero(f, s, levels)])
    frame = pd.concat(frames, ignore_index=True)
    return Forecast(frame, panel, card, notes, levels, model_dir)


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
    model,
    card: ModelCard,
    known: list[Series],
    panel: tuple[Series, ...],
    steps: int,
    levels: tuple[int, ...],
) -> dict[str | None, dict[int, np.ndarray]]:
    """Interval half-widths ``{series name: {level: (steps, targets)}}`` of the series
    forecast (``panel``), calibrated on the validation tails (as the model split them) of
    every series in ``known``, and floored on the forecast ones' own history."""
    window, n_targets = card.window, len(card.data.targets)
    rows = [
        split_series(len(s.values), window.lookback, window.horizon, window.val_fraction)
        for s in known
    ]
    conformal = calibrate(
        model,
        card.model.head,
        [
            Calibration(s.values, card.scalers[s.name], split.train_rows, s.known_ahead)
            for s, split in zip(known, rows, strict=True)
        ],
        window.lookback,
        steps,
        n_targets,
        levels,
    )
    by_name = {s.name: each for s, each in zip(known, conformal, strict=True)}
    each = floored(
        [by_name[s.name] for s in panel],
        [s.values[:, :n_targets] for s in panel],
        steps,
        window.season,
    )
    return {s.name: w for s, w in zip(panel, each, strict=True)}


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
    frame.insert(0, *series.future_index(steps, series.freq or card.source.freq))
    if series.name is not None:
        frame.insert(0, series.id_col, series.name)
    return frame


def _clip_at_zero(frame: pd.DataFrame, series: Series, levels: tuple[int, ...]) -> list[str]:
    """Raise to zero, in place, the forecasts and interval bounds below zero of each
    target that ``series`` never has below zero: a count or a sale cannot be negative,
    and a forecast below zero is then only the network's or the interval's error. The
    targets with values raised."""
    raised = []
    for i, target in enumerate(series.targets):
        bounds = [f"{target}_{side}_{level}" for level in levels for side in ("lower", "upper")]
        columns = [target, *(c for c in bounds if c in frame.columns)]
        if (series.values[:, i] < 0).any() or not (frame[columns] < 0).any(axis=None):
            continue
        frame[columns] = frame[columns].clip(lower=0)
        raised.append(target)
    return raised


def _clipped_note(targets: list[str]) -> tuple[str, ...]:
    if not targets:
        return ()
    named = ", ".join(f"'{target}'" for target in dict.fromkeys(targets))
    return (
        f"Forecasts and interval bounds below zero of {named}, never negative in the data, "
        "are raised to zero (--keep-negative keeps them).",
    )


def _origins(
    card: ModelCard, panel: tuple[Series, ...], steps: int, future: Source | None
) -> list[Origins]:
    """Each series from its end, with what is known after it: the future features from
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
    known = _future_data(card, future, rows) if ahead else {}
    result = []
    for series in panel:
        given = known.get(series.name)
        count = 0 if given is None else len(given.values)
        if ahead and count < rows:
            named = f" for series '{series.name}'" if series.name is not None else ""
            raise ForecastError(
                f"--future-data {source_path(future)} has {count} rows{named}; forecasting "
                f"{steps} steps needs the future features for {rows} step(s) after "
                f"the data's end (the network reads them {horizon} at a time)."
            )
        values = after_end(series, given.values[:rows] if ahead else None, rows)
        end = np.array([len(series.values)])
        result.append(Origins(values, card.scalers[series.name], end, series.known_ahead))
    return result


def _future_data(card: ModelCard, future: Source | None, rows: int) -> dict:
    """``--future-data``'s series by name (``None`` without --id-col)."""
    ahead = card.data.future_features
    if future is None:
        raise ForecastError(
            f"This model reads the future features {', '.join(ahead)} for the steps it "
            f"forecasts: pass --future-data FILE with columns {', '.join(ahead)} for the "
            f"next {rows} step(s)."
        )
    asked = DataConfig(targets=ahead, fill=card.data.fill, id_col=card.data.id_col)
    return {series.name: series for series in load_panel(future, asked)}
