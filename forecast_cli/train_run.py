"""``forecast train``: load, split, scale, window, build, fit, evaluate, save."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from forecast_cli.artifacts import (
    DataSource,
    ModelCard,
    check_destination,
    now,
    save_model_dir,
    versions,
)
from forecast_cli.backup import backup_path
from forecast_cli.baselines import (
    LONGEST_SEASON,
    fitted_errors,
    likely_period,
    season_fits,
    season_from_freq,
)
from forecast_cli.config import (
    DEFAULT_LOOKBACK,
    DEFAULT_STEPS,
    Anchor,
    DataConfig,
    Head,
    ModelConfig,
    TrainConfig,
    WindowConfig,
)
from forecast_cli.errors import ForecastError
from forecast_cli.forecasting import roll
from forecast_cli.loading import Series, load_panel, panel_notes
from forecast_cli.metrics import mae, rmse, smape
from forecast_cli.network import build_model, describe, fitted_shape
from forecast_cli.report import Report
from forecast_cli.runtime import is_chief, seed_everything, use_device
from forecast_cli.scaling import Scaler
from forecast_cli.training import Branch, TrainResult, fit
from forecast_cli.windows import (
    Split,
    lead,
    make_windows,
    split_series,
    too_short,
    training_rows,
)


@dataclass(frozen=True)
class Part:
    """One series cut into scaled train and validation windows."""

    series: Series
    split: Split
    scaler: Scaler
    train: tuple[
        np.ndarray, np.ndarray
    ]  # scaled (samples, lookback, features), (samples, horizon, targets)
    val: tuple[np.ndarray, np.ndarray]
    val_actual: np.ndarray  # validation targets in the data's own units


@dataclass(frozen=True)
class Prepared:
    """The windows of every series stacked on the sample axis, for one global network.

    Each series is split, scaled and windowed alone (``prepare_part``), so no window spans
    two series and no series' scaling sees another's, or its own validation rows.
    """

    parts: tuple[Part, ...]

    @cached_property
    def train(self) -> tuple[np.ndarray, np.ndarray]:
        return _stack([part.train for part in self.parts])

    @cached_property
    def val(self) -> tuple[np.ndarray, np.ndarray]:
        return _stack([part.val for part in self.parts])

    @property
    def val_actual(self) -> np.ndarray:
        return _stack([(part.val_actual,) for part in self.parts])[0]

    @property
    def targets(self) -> tuple[str, ...]:
        return self.parts[0].series.targets


def _stack(pairs: list[tuple[np.ndarray, ...]]) -> tuple[np.ndarray, ...]:
    """Concatenate on the sample axis; one series' arrays stay the views they are."""
    if len(pairs) == 1:
        return pairs[0]
    return tuple(np.concatenate(arrays) for arrays in zip(*pairs, strict=True))


def prepare(panel: tuple[Series, ...], window: WindowConfig) -> Prepared:
    """Every series of ``panel`` prepared alone (``prepare_part``), then stacked."""
    return Prepared(tuple(prepare_part(series, window, len(panel) > 1) for series in panel))


def prepare_part(series: Series, window: WindowConfig, named: bool = False) -> Part:
    """Split by time first, fit the scaler on the training rows only, then cut windows
    (their future features led into them, see ``windows.lead``).

    ``named``: the series is one of several, and an error names it."""
    n_targets = len(series.targets)
    try:
        split = split_series(
            len(series.values), window.lookback, window.horizon, window.val_fraction
        )
    except ForecastError as exc:
        if not named:
            raise
        raise ForecastError(f"Series '{series.name}': {exc}") from None
    scaler = Scaler.fit(window.scale, series.values[: split.train_rows])
    scaled = lead(scaler.transform(series.values), series.known_ahead, window.horizon)
    inputs, targets = make_windows(scaled, window.lookback, window.horizon, n_targets)
    _, actual = make_windows(series.values, window.lookback, window.horizon, n_targets)
    return Part(
        series=series,
        split=split,
        scaler=scaler,
        train=(inputs[: split.train_windows], targets[: split.train_windows]),
        val=(inputs[split.val_start :], targets[split.val_start :]),
        val_actual=actual[split.val_start :],
    )


def validation_forecast(model, prepared: Prepared, head: Head) -> np.ndarray:
    """The network's forecasts ``(windows, horizon, targets)`` for every validation window,
    in the data's own units (each series' in its own)."""
    horizon = prepared.val_actual.shape[1]
    scaled = roll(model, np.ascontiguousarray(prepared.val[0]), horizon, head)
    return np.concatenate(
        [
            part.scaler.inverse(piece)
            for part, piece in zip(prepared.parts, _by_part(prepared, scaled), strict=True)
        ]
    )


def _by_part(prepared: Prepared, stacked: np.ndarray) -> list[np.ndarray]:
    """Validation windows stacked over the series, split back into each series' own."""
    ends = np.cumsum([len(part.val_actual) for part in prepared.parts])[:-1]
    return np.split(stacked, ends)


def scores(prepared: Prepared, predicted: np.ndarray) -> dict:
    """Validation MAE, RMSE and sMAPE of ``predicted``, overall, per target and, with
    several series, per series."""
    actual = prepared.val_actual

    def measure(a: np.ndarray, p: np.ndarray) -> dict:
        return {"val_mae": mae(a, p), "val_rmse": rmse(a, p), "val_smape": smape(a, p)}

    per_target = {
        name: measure(actual[..., i], predicted[..., i]) for i, name in enumerate(prepared.targets)
    }
    result = {**measure(actual, predicted), "per_target": per_target}
    if len(prepared.parts) > 1:
        result["per_series"] = {
            part.series.name: measure(a, p)
            for part, a, p in zip(
                prepared.parts,
                _by_part(prepared, actual),
                _by_part(prepared, predicted),
                strict=True,
            )
        }
    return result


def run_train(
    path: Path,
    data: DataConfig,
    window: WindowConfig,
    model_config: ModelConfig,
    training: TrainConfig,
    model_dir: Path,
    report: Report,
    season: int | None = None,
) -> ModelCard:
    """Train one model on ``path`` and save it to ``model_dir``; return its card."""
    check_destination(model_dir)
    device = use_device(training.device, training.mixed_precision, training.strategy)
    with report.reading(path):
        panel = load_panel(path, data)
    window, resolved, notes = resolve_defaults(window, model_config, panel, season)
    report.notes(panel_notes(panel) + tuple(notes))
    prepared = prepare(panel, window)
    facts = window_facts(prepared, window, resolved.head) + [("device", device)]
    report.facts("Data and windows", facts)

    networks = build_networks(choices(model_config, resolved), prepared, training.seed)
    first, model = networks[0]
    twin = ", trained beside its unanchored twin" if len(networks) > 1 else ""
    report.layers(
        describe(model), model.count_params(), f"Network: {first.label} ({first.head}){twin}"
    )
    backup = backup_path(model_dir)
    with report.epochs(training.epochs) as on_epoch:
        trained = train_networks(networks, prepared, training, on_epoch, backup)
    model, model_config, result = trained.model, trained.config, trained.result
    report.notes(tuple(note for note in (result.resumed, trained.note) if note))
    if result.interrupted:
        resumes = (
            f"; the same command resumes after epoch {result.backed_up} from the backup {backup}"
            if result.backed_up
            else ""
        )
        report.warn(f"Interrupted: keeping the weights of epoch {result.best_epoch}{resumes}.")

    metrics = scores(prepared, validation_forecast(model, prepared, model_config.head))
    card = model_card(prepared, data, window, model_config, training, model, result, metrics)
    if is_chief():
        save_model_dir(model_dir, model, card, result.history)
        if not result.interrupted:
            backup.unlink(missing_ok=True)
    single = len(panel) == 1 and len(prepared.targets) == 1
    unit = f" ({prepared.targets[0]} units)" if single else ""
    report.facts(
        "Validation",
        [
            ("MAE", f"{card.metrics['val_mae']:.4f}{unit}"),
            ("RMSE", f"{card.metrics['val_rmse']:.4f}{unit}"),
            ("epochs", f"{result.epochs_run} run, weights of epoch {result.best_epoch} kept"),
            ("time", f"{result.seconds:.1f} s"),
        ],
    )
    if is_chief():
        report.written("Model saved", model_dir)
    else:
        report.notes(("A worker of a multi-worker cluster: the chief writes the model.",))
    return card


def resolve_defaults(
    window: WindowConfig,
    model: ModelConfig,
    panel: tuple[Series, ...],
    season: int | None,
    steps: int = DEFAULT_STEPS,
) -> tuple[WindowConfig, ModelConfig, list[str]]:
    """Settle what depends on the data: the horizon, the anchor, its season and the lookback.

    The default horizon is the ``steps`` to forecast, emitted at once (a network trained
    on one step and rolled forward compounds its errors), but no longer than the
    validation tail, which it would otherwise lengthen, and shorter still if the series
    is too short to train on windows that long. ``--anchor auto`` (see ``auto_anchor``)
    reads the training rows only, and judges the anchors on forecasts of ``steps`` steps
    (the network's horizon if longer). The default lookback is 20, or one season if that
    is longer. With several series, the shortest decides the horizon and the anchor
    fits them all on average. Returns notes saying what was chosen.
    """
    rows = min(len(series.values) for series in panel)
    chosen_horizon = window.horizon is None
    if chosen_horizon:
        tail = math.ceil(window.val_fraction * rows)
        window = dataclasses.replace(window, horizon=max(1, min(steps, tail)))
    period = season or season_from_freq(common_freq(panel))
    anchor, notes = model.anchor, []
    if anchor is Anchor.AUTO:
        anchor, period, reason = auto_anchor(panel, window, season, max(steps, window.horizon))
        notes.append(f"Anchor: {anchor} ({reason}); --anchor none|last|seasonal overrides it.")
    lookback = window.lookback
    if lookback is None:
        seasonal = anchor is Anchor.SEASONAL and period is not None
        lookback = max(DEFAULT_LOOKBACK, period) if seasonal else DEFAULT_LOOKBACK
    if anchor is Anchor.SEASONAL:
        if period is None:
            raise ForecastError(
                "--anchor seasonal needs a season length and the data has no regular time "
                "column to infer it from: pass --season N."
            )
        if period > lookback:
            raise ForecastError(
                f"--anchor seasonal repeats the window's last season of {period} steps: "
                f"--lookback must be at least {period}, got {lookback}."
            )
    horizon = window.horizon
    if chosen_horizon:  # the longest that leaves a training window (else 1, and prepare says)
        fitting = range(horizon, 1, -1)
        horizon = next(
            (h for h in fitting if not too_short(rows, lookback, h, window.val_fraction)), 1
        )
    return (
        dataclasses.replace(window, lookback=lookback, horizon=horizon),
        dataclasses.replace(model, anchor=anchor, season=period or 1),
        notes,
    )


def common_freq(panel: tuple[Series, ...]) -> str | None:
    """The frequency every series of ``panel`` shares, if they share one."""
    freqs = {series.freq for series in panel}
    return freqs.pop() if len(freqs) == 1 else None


def auto_anchor(
    panel: tuple[Series, ...], window: WindowConfig, season: int | None, steps: int
) -> tuple[Anchor, int | None, str]:
    """``--anchor auto``: the anchor, its period and why.

    ``--season N`` is taken as given. Otherwise the season the frequency implies is kept
    if repeating it forecasts ``steps`` steps of the training rows about as well as the
    best period does; if not, or with no season known, the period that fits them best is
    found, and the last value is the anchor when no period fits. Each series' errors are
    measured on its own training rows, and averaged over the series.
    """
    longest = window.lookback
    if season is not None and (longest is None or season <= longest):
        return Anchor.SEASONAL, season, f"--season {season}"
    freq = common_freq(panel)
    known = season_from_freq(freq)
    rows = [training_rows(len(s.values), window.horizon, window.val_fraction) for s in panel]
    longest = min(longest or min(rows), (min(rows) - steps) // 2, LONGEST_SEASON)
    if longest < 1:
        return Anchor.LAST, None, "too few rows to look for a season"
    periods = list(range(1, longest + 1))
    each = [
        fitted_errors(series.values[:n, : len(series.targets)], steps, periods)
        for series, n in zip(panel, rows, strict=True)
    ]
    errors = {period: float(np.mean([e[period] for e in each])) for period in periods}
    fits_window = known is not None and known > 1 and known <= (window.lookback or known)
    if fits_window and season_fits(errors, known):
        return Anchor.SEASONAL, known, f"season {known} of frequency {freq}"
    found = likely_period(errors)
    if found > 1:
        return Anchor.SEASONAL, found, f"the training rows repeat every {found} steps"
    return Anchor.LAST, None, "no season fits the training rows; --season N sets one"


def build_network(model_config: ModelConfig, prepared: Prepared, seed: int, name: str = "network"):
    """A fresh network for ``prepared``'s windows, its weights drawn from ``seed`` alone."""
    seed_everything(seed)
    inputs, targets = prepared.train
    return build_model(
        model_config,
        inputs.shape[1],
        inputs.shape[2],
        targets.shape[1],
        targets.shape[2],
        name=name,
    )


def choices(asked: ModelConfig, resolved: ModelConfig) -> list[ModelConfig]:
    """The networks to train: ``resolved``, and with ``--anchor auto`` also the unanchored
    network, which wins on some series (``bench/eval_defaults.json``); the anchored one
    comes first, as the one never far behind seasonal naive."""
    if asked.anchor is not Anchor.AUTO:
        return [resolved]
    return [resolved, dataclasses.replace(resolved, anchor=Anchor.NONE)]


def build_networks(
    configs: list[ModelConfig], prepared: Prepared, seed: int
) -> list[tuple[ModelConfig, object]]:
    """A fresh network per configuration, each drawn from ``seed`` as if it were alone."""
    names = ["network"] + [f"network_{c.anchor}" for c in configs[1:]]
    return [
        (c, build_network(c, prepared, seed, name)) for c, name in zip(configs, names, strict=True)
    ]


@dataclass(frozen=True)
class Trained:
    """The network kept, its configuration, how its training went, and why it was kept."""

    model: object
    config: ModelConfig
    result: TrainResult
    note: str | None  # when several networks competed


def train_networks(
    networks: list[tuple[ModelConfig, object]],
    prepared: Prepared,
    training: TrainConfig,
    on_epoch,
    backup_file: Path | None = None,
) -> Trained:
    """Train ``networks`` together on the same batches; keep the first unless another has
    a clearly lower validation loss. With ``backup_file``, a crashed training resumes."""
    results = fit(
        [Branch(model.name, model, config.head) for config, model in networks],
        prepared.train,
        prepared.val,
        training,
        on_epoch,
        keep=kept,
        backup_file=backup_file,
    )
    losses = [results[model.name].best_loss for _, model in networks]
    config, model = networks[kept(losses)]
    note = None
    if len(networks) > 1:
        scored = ", ".join(
            f"{c.anchor} {loss:.4f}" for (c, _), loss in zip(networks, losses, strict=True)
        )
        note = (
            f"Kept the network anchored on {config.anchor}: validation loss by anchor {scored} "
            f"(the unanchored one is kept only if {1 - CLEAR_WIN:.0%} lower)."
        )
    return Trained(model, config, results[model.name], note)


def kept(losses: list[float]) -> int:
    """Which network to keep by validation loss: a short validation tail is a noisy judge,
    so the first (the safer) unless another's loss is below ``CLEAR_WIN`` times its own."""
    best = int(np.argmin(losses))
    return best if losses[best] < CLEAR_WIN * losses[0] else 0


CLEAR_WIN = 0.8


def model_card(
    prepared: Prepared,
    data: DataConfig,
    window: WindowConfig,
    model_config: ModelConfig,
    training: TrainConfig,
    model,
    result: TrainResult,
    metrics: dict,
) -> ModelCard:
    """Everything about a trained network that ``forecast predict`` needs, with its scores."""
    panel = tuple(part.series for part in prepared.parts)
    series = panel[0]
    return ModelCard(
        data=series.resolved(data),
        source=DataSource(
            # '-' (standard input) stays '-': predict then reads its data from stdin too
            str(series.path if str(series.path) == "-" else series.path.absolute()),
            series.sha256,
            sum(len(s.values) for s in panel),
            common_freq(panel),
        ),
        window=window,
        scalers={s.name: part.scaler for s, part in zip(panel, prepared.parts, strict=True)},
        model=model_config,
        training=training,
        params=model.count_params(),
        outcome={
            "epochs_run": result.epochs_run,
            "best_epoch": result.best_epoch,
            "interrupted": result.interrupted,
            "resumed_after_epoch": result.resumed_after,
            "train_seconds": round(result.seconds, 3),
        },
        metrics=metrics,
        versions=versions(),
        created=now(),
    )


def window_facts(prepared: Prepared, window: WindowConfig, head: Head) -> list[tuple[str, str]]:
    """The table printed before training: what was read and the tensors' shapes."""
    series, split = prepared.parts[0].series, prepared.parts[0].split
    y_train, y_val = (
        fitted_shape(y.shape, head, window.lookback) for y in (prepared.train[1], prepared.val[1])
    )
    time = f", time column '{series.time_col}'" if series.time_col else ", no time column"
    freq = f", frequency {series.freq}" if series.freq else ""
    if len(prepared.parts) == 1:
        read = f"{split.rows} rows{time}{freq}"
        train = f"rows 1-{split.train_rows}"
        val = f"targets in rows {split.train_rows + 1}-{split.rows}"
        scaling = f"statistics of the {split.train_rows} training rows"
    else:
        lengths = sorted(part.split.rows for part in prepared.parts)
        read = f"{len(lengths)} series of {lengths[0]}-{lengths[-1]} rows{time}{freq}"
        train, val = "each series' first rows", "each series' last rows"
        scaling = "per series, statistics of its training rows"
    return [
        ("series", f"{series.path} ({read})"),
        ("targets", ", ".join(series.targets)),
        ("inputs", ", ".join(series.columns)),
        ("lookback, horizon", f"{window.lookback}, {window.horizon}"),
        ("train", f"{len(prepared.train[0])} samples ({train})"),
        ("validation", f"{len(prepared.val[0])} samples ({val})"),
        ("X train, y train", f"{_shape(prepared.train[0].shape)}, {_shape(y_train)}"),
        ("X val, y val", f"{_shape(prepared.val[0].shape)}, {_shape(y_val)}"),
        ("scaling", f"{window.scale} ({scaling})"),
    ]


def _shape(shape: tuple) -> str:
    return "(" + ", ".join(map(str, shape)) + ")"
