"""The model directory: ``model.keras``, a readable ``forecast.json`` and ``history.csv``.

A directory is written whole into a temporary sibling and swapped into place, so a
failed or interrupted run never leaves a half-written model or replaces a good one.
Nothing is pickled, and ``model.keras`` is loaded in Keras safe mode.
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
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import pandas as pd

from forecast_cli import __version__
from forecast_cli.config import (
    Aggregate,
    DataConfig,
    Fill,
    ModelConfig,
    Scale,
    TrainConfig,
    WindowConfig,
)
from forecast_cli.errors import ForecastError
from forecast_cli.scaling import Scaler

FORMAT = 1
MODEL_FILE = "model.keras"
CARD_FILE = "forecast.json"
HISTORY_FILE = "history.csv"


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
    window: WindowConfig
    scalers: dict[str | None, Scaler]  # by series name (--id-col); {None: ...} for one series
    model: ModelConfig
    training: TrainConfig
    params: int
    outcome: dict  # epochs_run, best_epoch, interrupted, resumed_after_epoch, train_seconds
    metrics: dict  # val_mae, val_rmse, per target
    versions: dict
    created: str

    def to_dict(self) -> dict:
        return {
            "format": FORMAT,
            "created": self.created,
            "versions": self.versions,
            "data": {
                **asdict(self.source),
                "time_col": self.data.time_col,
                "targets": list(self.data.targets or ()),
                "features": list(self.data.features),
                "future_features": list(self.data.future_features),
                "fill": self.data.fill and str(self.data.fill),
                "aggregate": self.data.aggregate and str(self.data.aggregate),
                "decimal": self.data.decimal,
                "calendar": self.data.calendar,
                "id_col": self.data.id_col,
            },
            "window": {**asdict(self.window), "scale": str(self.window.scale)},
            "scaling": _scaling_to_dict(self.scalers),
            "model": {**self.model.to_dict(), "params": self.params},
            "training": {**self.training.to_dict(), **self.outcome},
            "metrics": self.metrics,
        }

    @classmethod
    def from_dict(cls, card: dict) -> ModelCard:
        data, window, training = card["data"], card["window"], card["training"]
        train_fields = TrainConfig.__dataclass_fields__
        return cls(
            data=DataConfig(
                targets=tuple(data["targets"]),
                time_col=data["time_col"],
                features=tuple(data["features"]),
                future_features=tuple(data.get("future_features", ())),
                fill=Fill(data["fill"]) if data["fill"] else None,
                freq=data["freq"],
                aggregate=Aggregate(data["aggregate"]) if data.get("aggregate") else None,
                decimal=data.get("decimal"),
                calendar=bool(data.get("calendar", False)),
                id_col=data.get("id_col"),
            ),
            source=DataSource(data["path"], data["sha256"], int(data["rows"]), data["freq"]),
            window=WindowConfig(
                lookback=int(window["lookback"]),
                horizon=int(window["horizon"]),
                val_fraction=float(window["val_fraction"]),
                scale=Scale(window["scale"]),
            ),
            scalers=_scaling_from_dict(card["scaling"]),
            model=ModelConfig.from_dict(card["model"]),
            training=TrainConfig(**{k: v for k, v in training.items() if k in train_fields}),
            params=int(card["model"]["params"]),
            outcome={k: v for k, v in training.items() if k not in train_fields},
            metrics=card["metrics"],
            versions=card["versions"],
            created=card["created"],
        )


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
    directory: Path, model, card: ModelCard, history: dict[str, list[float]]
) -> None:
    """Write the model directory atomically, replacing an older one only once complete."""
    check_destination(directory)
    with staged_directory(directory) as staging:
        model.save(staging / MODEL_FILE)
        (staging / CARD_FILE).write_text(json.dumps(card.to_dict(), indent=2) + "\n")
        frame = pd.DataFrame(history)
        frame.index = pd.RangeIndex(1, len(frame) + 1, name="epoch")
        frame.to_csv(staging / HISTORY_FILE)


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


def load_model_dir(directory: Path):
    """``(model, card)`` from a model directory, or a ``ForecastError`` saying how to fix it."""
    retrain = "Train one with 'forecast train DATA.csv' or pass --model DIR."
    if not directory.is_dir():
        raise ForecastError(f"Model directory {directory} does not exist. {retrain}")
    try:
        raw = json.loads((directory / CARD_FILE).read_text())
    except (OSError, ValueError) as exc:
        raise ForecastError(
            f"Model directory {directory} has no readable {CARD_FILE} ({exc}). {retrain}"
        ) from None
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        found = raw.get("format") if isinstance(raw, dict) else None
        raise ForecastError(
            f"{directory / CARD_FILE} has format {found!r}; this forecast reads format {FORMAT}. "
            f"Retrain the model. {retrain}"
        )
    try:
        card = ModelCard.from_dict(raw)
    except (KeyError, TypeError, ValueError) as exc:
        raise ForecastError(
            f"{directory / CARD_FILE} is corrupt ({type(exc).__name__}: {exc}). {retrain}"
        ) from None
    from forecast_cli.network import anchor_layers
    from forecast_cli.runtime import keras

    anchor_layers()  # registers the package's own layers before loading
    try:
        model = keras().saving.load_model(directory / MODEL_FILE, compile=False, safe_mode=True)
    except Exception as exc:  # Keras raises many types for a damaged or unsafe file
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ForecastError(
            f"{directory / MODEL_FILE} cannot be loaded ({detail[:200]}). {retrain}"
        ) from None
    return model, card


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
