"""Every file a command writes: model directories, forecasts, comparisons, backtests.

A model directory holds ``model.keras``, a readable ``forecast.json`` and
``history.csv``. A directory is written whole into a temporary sibling and swapped into
place, and a file is written beside its path and renamed onto it, so a failed or
interrupted run never leaves a half-written result or replaces a good one. Nothing is
pickled, and ``model.keras`` is loaded in Keras safe mode, or, to forecast, read as
data by ``inference`` without running any of it.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import platform
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

from forecast_cli import __version__, inference
from forecast_cli.candidates import slug
from forecast_cli.config import (
    Baseline,
    DataConfig,
    ModelConfig,
    RuntimeConfig,
    TrainConfig,
    Windows,
    from_dict,
    to_dict,
)
from forecast_cli.errors import ForecastError
from forecast_cli.scaling import Scaler

FORMAT = 1
MODEL_FILE = "model.keras"
CARD_FILE = "forecast.json"
HISTORY_FILE = "history.csv"
TABLE_FILE = "comparison.csv"
FORECASTS_FILE = "forecasts.csv"
GRID_FILE = "compare-grid.png"
OVERLAY_FILE = "compare-overlay.png"
MODELS_DIR = "models"
RUN_FILE = "run.toml"  # the flags of the run that wrote a folder (``run_files``)
COMPARISON_FILES = (
    TABLE_FILE,
    FORECASTS_FILE,
    GRID_FILE,
    OVERLAY_FILE,
    MODELS_DIR + "/",
    RUN_FILE,
)
REPORT_FILE = "report.html"


@dataclass(frozen=True)
class DataSource:
    """The file a model was trained on and what was read from it."""

    path: str
    sha256: str
    rows: int
    freq: str | None


@dataclass(frozen=True)
class ModelCard:
    """Everything needed to use a trained model again, saved as ``forecast.json``."""

    data: DataConfig
    source: DataSource
    window: Windows
    scalers: dict[str | None, Scaler]  # by series name (--id-col); {None: ...} for one series
    model: ModelConfig
    training: TrainConfig
    runtime: RuntimeConfig
    params: int
    # epochs_run, best_epoch, interrupted, resumed_after_epoch, train_seconds, xla_compiled,
    # fused_lstm
    outcome: dict
    metrics: dict  # val_mae, val_rmse, per target
    versions: dict
    created: str
    # the statistical models each series' forecast is averaged with, by series name as
    # ``scalers``; none (the network alone) for a series not named
    combination: dict[str | None, tuple[Baseline, ...]] = field(default_factory=dict)
    # those models' forecasts after the training data's end, by series and model, a row
    # of targets per step: what predict averages with the network's from there
    ahead: dict[str | None, dict[Baseline, tuple[tuple[float, ...], ...]]] = field(
        default_factory=dict
    )

    def combined(self, name: str | None) -> tuple[Baseline, ...]:
        """What the forecast of series ``name`` averages with the network's."""
        return self.combination.get(name, ())

    @property
    def forecaster(self) -> str:
        """The model in titles: the network's layers, and what its forecasts average with
        ('bilstm:50:concat + AutoETS + AutoTheta')."""
        if list(self.scalers) == [None]:
            return " + ".join([self.model.label, *(m.title for m in self.combined(None))])
        combined, series = sum(bool(self.combined(n)) for n in self.scalers), len(self.scalers)
        if not combined:
            return self.model.label
        return f"{self.model.label}, with statistical models in {combined} of {series} series"

    def to_dict(self) -> dict:
        data, window = card_sections(self.source, self.data, self.window)
        return {
            "format": FORMAT,
            "created": self.created,
            "versions": self.versions,
            "data": data,
            "window": window,
            "scaling": _scaling_to_dict(self.scalers),
            "model": {**self.model.to_dict(), "params": self.params},
            "combination": _combination_to_dict(self.combination, list(self.scalers)),
            "statistical_forecasts": _ahead_to_dict(self.ahead, list(self.scalers)),
            "training": {**to_dict(self.training), **to_dict(self.runtime), **self.outcome},
            "metrics": self.metrics,
        }

    @classmethod
    def from_dict(cls, card: dict) -> ModelCard:
        data, training = card["data"], card["training"]
        settings = {f.name for group in (TrainConfig, RuntimeConfig) for f in fields(group)}
        return cls(
            data=from_dict(DataConfig, data),
            source=DataSource(data["path"], data["sha256"], int(data["rows"]), data["freq"]),
            window=from_dict(Windows, {**card["window"], "season": data.get("season")}),
            scalers=_scaling_from_dict(card["scaling"]),
            model=ModelConfig.from_dict(card["model"]),
            training=from_dict(TrainConfig, training),
            runtime=from_dict(RuntimeConfig, training),
            params=int(card["model"]["params"]),
            outcome={k: v for k, v in training.items() if k not in settings},
            metrics=card["metrics"],
            versions=card["versions"],
            created=card["created"],
            combination=_combination_from_dict(card.get("combination", [])),
            ahead=_ahead_from_dict(card.get("statistical_forecasts", {})),
        )


def card_sections(source: DataSource, data: DataConfig, window: Windows) -> tuple[dict, dict]:
    """A card's ``data`` (the file, what was read from it, the season the run settled)
    and ``window`` sections, as a model's and a backtest's cards write them."""
    read = to_dict(data)
    del read["freq"]  # the source's
    settled = to_dict(window)
    read["season"] = settled.pop("season")  # the data's, as the run settled it
    return {**asdict(source), **read}, settled


def _combination_to_dict(combination: dict, names: list) -> list | dict:
    """One series' models as a list of their names (``[]``: the network alone); several
    series' by name, as the scaling is."""
    if names == [None]:
        return [str(m) for m in combination.get(None, ())]
    return {name: [str(m) for m in combination.get(name, ())] for name in names}


def _combination_from_dict(saved: list | dict) -> dict[str | None, tuple[Baseline, ...]]:
    if isinstance(saved, list):
        return {None: tuple(Baseline(m) for m in saved)}
    return {name: tuple(Baseline(m) for m in models) for name, models in saved.items()}


def _ahead_to_dict(ahead: dict, names: list) -> dict:
    """One series' forecasts as ``{model: [[value per target] per step]}``; several
    series' as ``{series: {name: ...}}``, as the scaling is."""
    each = {
        name: {str(m): [list(row) for row in forecast] for m, forecast in ahead[name].items()}
        for name in names
        if ahead.get(name)
    }
    return each.get(None, {}) if names == [None] else {"series": each}


def _ahead_from_dict(saved: dict) -> dict:
    by_series = saved.get("series", {None: saved})
    return {
        name: {Baseline(m): tuple(map(tuple, f)) for m, f in models.items()}
        for name, models in by_series.items()
    }


def _scaling_to_dict(scalers: dict[str | None, Scaler]) -> dict:
    """One series' scaling as it always was; several as ``{kind, series: {name: ...}}``."""
    if list(scalers) == [None]:
        return scalers[None].to_dict()
    kind = next(iter(scalers.values())).to_dict()["kind"]
    return {
        "kind": kind,
        "series": {
            name: {"offset": list(s.offset), "scale": list(s.scale)} for name, s in scalers.items()
        },
    }


def _scaling_from_dict(scaling: dict) -> dict[str | None, Scaler]:
    if "series" not in scaling:
        return {None: Scaler.from_dict(scaling)}
    return {
        name: Scaler.from_dict({"kind": scaling["kind"], **numbers})
        for name, numbers in scaling["series"].items()
    }


def versions() -> dict:
    """Versions of everything that shapes a model, recorded in its card."""
    packages = ("tensorflow", "keras", "numpy", "pandas")
    return {
        "forecast": __version__,
        "python": platform.python_version(),
        **{name: metadata.version(name) for name in packages},
    }


def version_notes(recorded: dict) -> tuple[str, ...]:
    """What to tell about a model saved with other library versions than these; a model
    saved by a newer major Keras or TensorFlow cannot be trusted to load: refused."""
    notes = []
    for name in ("keras", "tensorflow"):
        saved, here = recorded.get(name), metadata.version(name)
        if saved is None or saved == here:
            continue
        saved_major, here_major = (int(v.split(".")[0]) for v in (saved, here))
        if saved_major > here_major:
            raise ForecastError(
                f"The model was saved with {name} {saved}, newer than the {here} installed: "
                f"upgrade {name} (pip install -U '{name}>={saved_major}') or retrain the model."
            )
        if saved_major < here_major:
            notes.append(
                f"The model was saved with {name} {saved} and is loaded with {here}: compare "
                "its forecasts with the old ones, or retrain it."
            )
    return tuple(notes)


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def check_destination(directory: Path) -> None:
    """Refuse early to overwrite a directory that is not a forecast model directory."""
    if (directory / CARD_FILE).is_file() or not directory.exists():
        return
    if not directory.is_dir() or any(directory.iterdir()):
        raise ForecastError(
            f"--model-dir {directory} exists and is not a forecast model directory; "
            "choose a new path (it is created) or an earlier model directory to replace."
        )


def save_model_dir(
    directory: Path,
    model,
    card: ModelCard,
    history: dict[str, list[float]],
    run_file: str | None = None,
) -> None:
    """Write the model directory atomically, replacing an older one only once complete;
    with ``run_file``, the text of its ``run.toml``."""
    check_destination(directory)
    with staged_directory(directory) as staging:
        _fill_model_dir(staging, model, card, history)
        if run_file is not None:
            (staging / RUN_FILE).write_text(run_file)


def run_file_beside(path: Path) -> Path:
    """The run file of a command whose output is a file, not a folder (``backtest``,
    ``predict``): beside it, named after it (``backtest.csv`` -> ``backtest.run.toml``)."""
    return path.with_name(f"{path.stem}.run.toml")


def write_run_file(path: Path, text: str) -> None:
    """A run file's ``text`` at ``path``, atomically."""
    with atomic_path(path) as temporary:
        temporary.write_text(text)


def model_files(model, card: ModelCard, history: dict[str, list[float]]) -> dict[str, bytes]:
    """A model directory's files by name, as data: how a worker, maybe on another machine,
    hands its models to the one process that writes the output (``write_files``)."""
    with tempfile.TemporaryDirectory() as folder:
        _fill_model_dir(Path(folder), model, card, history)
        return {path.name: path.read_bytes() for path in Path(folder).iterdir()}


def write_files(directory: Path, files: dict[str, bytes]) -> None:
    """``model_files``' files into ``directory``, a folder of a staged directory (which
    makes the whole appear at once)."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (directory / name).write_bytes(content)


def _fill_model_dir(folder: Path, model, card: ModelCard, history: dict[str, list[float]]) -> None:
    model.save(folder / MODEL_FILE)
    (folder / CARD_FILE).write_text(json.dumps(card.to_dict(), indent=2) + "\n")
    frame = pd.DataFrame(history)
    frame.index = pd.RangeIndex(1, len(frame) + 1, name="epoch")
    frame.to_csv(folder / HISTORY_FILE)


@contextlib.contextmanager
def staged_directory(directory: Path) -> Iterator[Path]:
    """A temporary sibling of ``directory`` to fill; it replaces ``directory`` whole when the
    block succeeds, and is removed, leaving ``directory`` untouched, when it fails."""
    directory = directory.absolute()
    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", dir=directory.parent))
    staging.chmod(0o777 & ~_umask())  # mkdtemp makes it private; the result is not
    try:
        yield staging
        _swap_into_place(staging, directory)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


RETRAIN = "Train one with 'forecast train DATA.csv' or pass --model DIR."


def load_model_dir(directory: Path):
    """``(model, card)`` from a model directory, the Keras model, or a ``ForecastError``
    saying how to fix it."""
    card = load_card(directory)
    return _keras_model(directory / MODEL_FILE), card


def load_forecaster(directory: Path) -> tuple[object, ModelCard, tuple[str, ...]]:
    """``(network, card, notes)`` to forecast with: the network evaluated with NumPy
    (``inference``), which spares the seconds of importing TensorFlow; the Keras model,
    and a note saying why, when the file holds what that evaluator does not know (say,
    a layer of a later version), so the forecast is the same either way."""
    card = load_card(directory)
    path = directory / MODEL_FILE
    try:
        return inference.load(path), card, ()
    except inference.Unsupported as exc:
        note = (
            f"{path} holds what forecast's NumPy evaluator does not know ({exc}): it is "
            "loaded with TensorFlow instead (the same forecast, a few seconds slower)."
        )
        return _keras_model(path), card, (note,)


def load_card(directory: Path) -> ModelCard:
    """A model directory's card, checked, or a ``ForecastError`` saying how to fix it."""
    if directory.is_file():
        raise ForecastError(
            f"--model {directory} is a file; pass the model folder that 'forecast train' "
            "saved (its --model-dir)."
        )
    if not directory.is_dir():
        raise ForecastError(f"Model directory {directory} does not exist. {RETRAIN}")
    try:
        raw = json.loads((directory / CARD_FILE).read_text())
    except (OSError, ValueError) as exc:
        raise ForecastError(
            f"Model directory {directory} has no readable {CARD_FILE} ({exc}). {RETRAIN}"
        ) from None
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        found = raw.get("format") if isinstance(raw, dict) else None
        raise ForecastError(
            f"{directory / CARD_FILE} has format {found!r}; this forecast reads format {FORMAT}. "
            f"Retrain the model. {RETRAIN}"
        )
    try:
        card = ModelCard.from_dict(raw)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ForecastError(
            f"{directory / CARD_FILE} is corrupt ({type(exc).__name__}: {exc}). {RETRAIN}"
        ) from None
    version_notes(card.versions)  # refuses a model of a newer major Keras or TensorFlow
    return card


def _keras_model(path: Path):
    """The Keras model saved at ``path``, loaded in safe mode."""
    from forecast_cli.network import anchor_layers
    from forecast_cli.runtime import keras

    anchor_layers()  # registers the package's own layers before loading
    try:
        return keras().saving.load_model(path, compile=False, safe_mode=True)
    except Exception as exc:  # Keras raises many types for a damaged or unsafe file
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ForecastError(f"{path} cannot be loaded ({detail[:200]}). {RETRAIN}") from None


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """A temporary path beside ``path`` that is renamed onto it when the block succeeds."""
    path = path.absolute()
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix, dir=path.parent)
    os.close(handle)
    os.chmod(name, 0o666 & ~_umask())  # as open() would have made it
    try:
        yield Path(name)
        os.replace(name, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _swap_into_place(staging: Path, directory: Path) -> None:
    """Make ``staging`` appear at ``directory``; the old contents end up in ``staging``.

    Linux swaps two directories in one atomic ``renameat2(RENAME_EXCHANGE)``; elsewhere
    the old directory is moved aside first, so one complete model always exists on disk.
    """
    if not directory.exists():
        os.rename(staging, directory)
        staging.mkdir()  # the caller removes it
        return
    if _exchange(staging, directory):
        return
    aside = staging.with_name(staging.name + ".old")
    os.rename(directory, aside)
    os.rename(staging, directory)
    os.rename(aside, staging)


def _exchange(a: Path, b: Path) -> bool:
    rename_exchange, at_fdcwd = 2, -100
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    done = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    return done == 0


def check_comparison_dir(out_dir: Path, overwrite: bool) -> None:
    """Refuse to mix runs: an earlier comparison is replaced only with ``--overwrite``,
    and a directory holding anything else never."""
    if not out_dir.exists() or (out_dir.is_dir() and not any(out_dir.iterdir())):
        return
    if not (out_dir / TABLE_FILE).is_file():
        raise ForecastError(
            f"--out-dir {out_dir} exists and does not hold a comparison; choose a new "
            "--out-dir (it is created)."
        )
    if not overwrite:
        raise ForecastError(
            f"--out-dir {out_dir} holds the results of another run; pass --overwrite to "
            "replace them, or choose another --out-dir."
        )


def check_output_file(path: Path, flag: str, picture: bool = False) -> None:
    """Refuse, before any work, a file path ``flag`` cannot be written to as asked: a
    folder, a folder that does not exist (no typo silently makes one) or, for a
    ``picture``, a format matplotlib does not write (it draws PNG without a suffix)."""
    example = path / ("out.png" if picture else "out.csv")
    if path.is_dir():
        raise ForecastError(f"{flag} {path} is a folder; name a file in it, e.g. {example}.")
    parent = path.absolute().parent
    if not parent.exists():
        raise ForecastError(
            f"{flag} {path}: the folder {path.parent} does not exist; create it first or "
            "choose another path."
        )
    if not parent.is_dir():
        raise ForecastError(
            f"{flag} {path}: {path.parent} is a file, not a folder; choose another path."
        )
    if picture and path.suffix:
        from matplotlib.backend_bases import FigureCanvasBase

        formats = FigureCanvasBase.get_supported_filetypes()
        if path.suffix.lower().lstrip(".") not in formats:
            raise ForecastError(
                f"{flag} {path}: matplotlib draws no {path.suffix} pictures; end the name in "
                ".png, .svg or .pdf."
            )


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """``frame`` as CSV at ``path``, atomically."""
    with atomic_path(path) as temporary:
        frame.to_csv(temporary, index=False)


def write_text(text: str, path: Path) -> None:
    """``text`` at ``path`` in UTF-8, atomically."""
    with atomic_path(path) as temporary:
        temporary.write_text(text, encoding="utf-8")


def write_forecast(forecast, csv_path: Path, plot_path: Path | None, max_plots: int = 6) -> None:
    """A ``predict_run.Forecast`` as CSV and, with ``plot_path``, the history's tail and
    the forecast of each target of the first ``max_plots`` series, titled with the
    architecture."""
    write_csv(forecast.frame, csv_path)
    if plot_path is None:
        return
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
        f"{card.forecaster} ({card.model.head}), lookback {card.window.lookback}: "
        f"next {steps} steps{which}"
    )
    plot_forecast(panels, x_label, title, plot_path)


def write_comparison(directory: Path, comparison, run_file: str | None = None) -> None:
    """A ``compare_run.Comparison``'s table, forecasts and both pictures into ``directory``;
    with ``run_file``, the text of its ``run.toml``."""
    from forecast_cli.plotting import plot_comparison

    if run_file is not None:
        (directory / RUN_FILE).write_text(run_file)

    table = pd.DataFrame([asdict(row) for row in comparison.rows])
    table.to_csv(directory / TABLE_FILE, index=False)
    comparison.forecasts.to_csv(directory / FORECASTS_FILE, index=False)
    prepared = comparison.prepared
    first = prepared.parts[0]  # with several series, the pictures show the first
    series, split = first.series, first.split
    tail = min(len(series.values), split.rows - split.train_rows + 3 * prepared.val[0].shape[1])
    rows = np.arange(len(series.values))
    x = series.times if series.times is not None else rows + 1
    steps = len(comparison.forecasts) // len(prepared.parts)
    forecast_x = np.asarray(series.future_index(steps, series.freq)[1])
    if series.times is None or series.freq is None:
        forecast_x = len(series.values) + np.arange(1, steps + 1)
    plot_comparison(
        history_x=np.asarray(x[-tail:]),
        history=series.values[-tail:, 0],
        fit_x=np.asarray(x[split.train_rows : split.train_rows + split.val_windows]),
        fits={name: fit[: split.val_windows, 0] for name, fit in comparison.val_fits.items()},
        forecast_x=forecast_x,
        forecasts={name: values[0, :, 0] for name, values in comparison.future.items()},
        networks={
            row.name: f"{row.name}: RMSE {row.val_rmse:.4f} (rank {row.rank})"
            for row in comparison.rows
            if row.params > 0
        },
        target=series.targets[0] if series.name is None else f"{series.name}: {series.targets[0]}",
        title=comparison.title,
        grid_path=directory / GRID_FILE,
        overlay_path=directory / OVERLAY_FILE,
    )


def write_backtest(
    backtest,
    table_path: Path,
    plot_path: Path | None,
    max_plots: int = 6,
    run_file: str | None = None,
) -> None:
    """A ``backtest_run.Backtest``'s scores as CSV, beside it its card (the same name in
    ``.json``: what ran, and where the scores and the picture are), with ``run_file`` its
    run file, and, unless ``plot_path`` is None, its folds' forecasts as a picture: a
    panel for each of the first ``max_plots`` series (with --id-col), its first target,
    on its time axis if it has one."""
    write_csv(backtest.table, table_path)
    if run_file is not None:
        write_run_file(run_file_beside(table_path), run_file)
    if plot_path is not None:
        _plot_backtest(backtest, plot_path, max_plots)
    card = {
        "format": FORMAT,
        "kind": "backtest",
        "created": now(),
        "versions": versions(),
        "title": backtest.title,
        "scores": table_path.name,
        "plot": None if plot_path is None else str(plot_path.absolute()),
        **backtest.card,
    }
    write_text(json.dumps(card, indent=2) + "\n", backtest_card(table_path))


def backtest_card(table_path: Path) -> Path:
    """Where the card of the backtest scored in ``table_path`` is written."""
    return table_path.with_suffix(".json")


def _plot_backtest(backtest, plot_path: Path, max_plots: int) -> None:
    from forecast_cli.plotting import BacktestPanel, plot_backtest

    folds, steps = backtest.folds, backtest.folds[0].actual.shape[1]
    panels = []
    for i, series in enumerate(backtest.panel[:max_plots]):
        cuts = [len(fold.history[i]) for fold in folds]  # the rows each fold knew
        start = max(0, cuts[0] - 3 * steps * len(folds))
        x = series.times if series.times is not None else np.arange(len(series.values)) + 1
        target = series.targets[0]
        panels.append(
            BacktestPanel(
                label=target if series.name is None else str(series.name),
                target=target,
                x=np.asarray(x[start : cuts[-1] + steps]),
                truth=series.values[start : cuts[-1] + steps, 0],
                cuts=[x[cut - 1] + (x[cut] - x[cut - 1]) / 2 for cut in cuts],
                folds=[
                    (
                        np.asarray(x[cut : cut + steps]),
                        {method: values[i, :, 0] for method, values in fold.forecasts.items()},
                    )
                    for cut, fold in zip(cuts, folds, strict=True)
                ],
            )
        )
    x_label = backtest.panel[0].time_col or "row"
    shown = f", {len(panels)} of {len(backtest.panel)} series" if len(backtest.panel) > 1 else ""
    plot_backtest(panels, x_label, backtest.title + shown, plot_path)


def load_history(directory: Path) -> pd.DataFrame:
    """A model directory's losses per epoch (``epoch`` as the index), or a
    ``ForecastError``."""
    path = directory / HISTORY_FILE
    try:
        return pd.read_csv(path, index_col="epoch")
    except (OSError, ValueError) as exc:
        raise ForecastError(f"{path} cannot be read ({exc}). {RETRAIN}") from None


@dataclass(frozen=True)
class SavedComparison:
    """A comparison folder as ``forecast compare`` wrote it."""

    table: pd.DataFrame  # comparison.csv: a row per candidate and baseline, ranked
    pictures: dict[str, Path]  # the grid's and the overlay's files, by name
    models: dict[str, Path]  # each network's model directory, by candidate name


def load_comparison(directory: Path) -> SavedComparison:
    """The comparison ``forecast compare`` wrote to ``directory``, or a ``ForecastError``."""
    try:
        table = pd.read_csv(directory / TABLE_FILE)
    except (OSError, ValueError) as exc:
        raise ForecastError(
            f"{directory} is not a complete comparison ({exc}); run 'forecast compare' again."
        ) from None
    models = {name: directory / MODELS_DIR / slug(name) for name in table["name"]}
    return SavedComparison(
        table,
        {name: directory / name for name in (GRID_FILE, OVERLAY_FILE)},
        {name: path for name, path in models.items() if (path / CARD_FILE).is_file()},
    )


@dataclass(frozen=True)
class SavedBacktest:
    """A backtest as ``forecast backtest`` wrote it: its card, scores and picture."""

    card: dict
    table: pd.DataFrame  # fold (or 'all'), cutoff, method, mae, rmse, smape, mase...
    plot: Path | None


def load_backtest(path: Path) -> SavedBacktest:
    """The backtest whose scores CSV or card is ``path``, or a ``ForecastError``."""
    card_path = backtest_card(path)
    try:
        card = json.loads(card_path.read_text())
        table = pd.read_csv(card_path.with_name(card["scores"]))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ForecastError(
            f"{card_path} is not the card of a backtest ({type(exc).__name__}: {exc}); run "
            "'forecast backtest' again."
        ) from None
    return SavedBacktest(card, table, Path(card["plot"]) if card.get("plot") else None)
