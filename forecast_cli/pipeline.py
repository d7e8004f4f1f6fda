"""The steps every command takes: prepare windows, build and fit networks, validate.

``forecast train`` is one pass through them; ``compare`` runs them per candidate and
seed, ``backtest`` per fold. Each step takes and returns plain data (arrays, series,
configurations).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from forecast_cli.artifacts import DataSource, ModelCard, now, versions
from forecast_cli.combination import Chosen, choose, describe, fitted_ahead, mean_with, pool
from forecast_cli.config import (
    Anchor,
    Baseline,
    Combine,
    DataConfig,
    ModelConfig,
    RuntimeConfig,
    TrainConfig,
    Windows,
)
from forecast_cli.errors import ForecastError
from forecast_cli.evaluation import baseline_season, fitted, scores, too_many_to_fit
from forecast_cli.forecasting import Origins, forecast_from
from forecast_cli.linear import LinearAnchor, fit_linear_anchor
from forecast_cli.loading import FRAME, STDIN, Series
from forecast_cli.network import build_model, ensemble, set_linear_anchor
from forecast_cli.resolve import common_freq
from forecast_cli.runtime import seed_everything
from forecast_cli.scaling import Scaler
from forecast_cli.training import Branch, EpochHook, TrainResult, fit
from forecast_cli.windows import Split, lead, make_windows, split_series


@dataclass(frozen=True)
class Part:
    """One series cut into scaled train and validation windows."""

    series: Series
    split: Split
    scaler: Scaler
    # scaled (samples, lookback, features), (samples, horizon, targets)
    train: tuple[np.ndarray, np.ndarray]
    val: tuple[np.ndarray, np.ndarray]
    val_actual: np.ndarray  # validation targets in the data's own units

    @property
    def val_origins(self) -> np.ndarray:
        """The first target row of each validation window."""
        return self.split.train_rows + np.arange(self.split.val_windows)


@dataclass(frozen=True)
class Prepared:
    """The windows of every series stacked on the sample axis, for one global network.

    Each series is split, scaled and windowed alone (``prepare_part``), so no window spans
    two series and no series' scaling sees another's, or its own validation rows.
    """

    parts: tuple[Part, ...]
    windows: Windows

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

    def linear_anchor(self, period: int) -> LinearAnchor:
        """The linear anchor's regression on every series' training windows, fitted once
        per base period however many networks (candidates, members) start from it."""
        if period not in self._linear_anchors:
            parts = [part.train for part in self.parts]
            self._linear_anchors[period] = fit_linear_anchor(parts, len(self.targets), period)
        return self._linear_anchors[period]

    @cached_property
    def _linear_anchors(self) -> dict[int, LinearAnchor]:
        return {}

    @property
    def panel(self) -> tuple[Series, ...]:
        return tuple(part.series for part in self.parts)

    @property
    def history(self) -> list[np.ndarray]:
        """Each series' targets ``(rows, targets)``, in data units."""
        return [part.series.values[:, : len(self.targets)] for part in self.parts]

    @property
    def val_origins(self) -> list[np.ndarray]:
        return [part.val_origins for part in self.parts]

    def val_fitted(self, method: Baseline) -> list[np.ndarray | None]:
        """The statistical model ``method``'s forecasts of each series' validation windows,
        fitted on its training rows (None where it cannot be), computed once however
        many commands' tables and combinations (``combine``) read them."""
        if method not in self._val_fitted:
            season, _ = baseline_season(self)
            self._val_fitted[method] = fitted(
                method, self.history, self.val_origins, self.windows.horizon, season
            )
        return self._val_fitted[method]

    @cached_property
    def _val_fitted(self) -> dict[Baseline, list[np.ndarray | None]]:
        return {}


def _stack(pairs: list[tuple[np.ndarray, ...]]) -> tuple[np.ndarray, ...]:
    """Concatenate on the sample axis; one series' arrays stay the views they are."""
    if len(pairs) == 1:
        return pairs[0]
    return tuple(np.concatenate(arrays) for arrays in zip(*pairs, strict=True))


def prepare(panel: tuple[Series, ...], windows: Windows) -> Prepared:
    """Every series of ``panel`` prepared alone (``prepare_part``), then stacked."""
    named = len(panel) > 1
    return Prepared(tuple(prepare_part(series, windows, named) for series in panel), windows)


def prepare_part(series: Series, windows: Windows, named: bool = False) -> Part:
    """Split by time first, fit the scaler on the training rows only, then cut windows
    (their future features led into them, see ``windows.lead``).

    ``named``: the series is one of several, and an error names it."""
    n_targets = len(series.targets)
    try:
        split = split_series(
            len(series.values), windows.lookback, windows.horizon, windows.val_fraction
        )
    except ForecastError as exc:
        if not named:
            raise
        raise ForecastError(f"Series '{series.name}': {exc}") from None
    scaler = Scaler.fit(windows.scale, series.values[: split.train_rows])
    scaled = lead(scaler.transform(series.values), series.known_ahead, windows.horizon)
    inputs, targets = make_windows(scaled, windows.lookback, windows.horizon, n_targets)
    _, actual = make_windows(series.values, windows.lookback, windows.horizon, n_targets)
    return Part(
        series=series,
        split=split,
        scaler=scaler,
        train=(inputs[: split.train_windows], targets[: split.train_windows]),
        val=(inputs[split.val_start :], targets[split.val_start :]),
        val_actual=actual[split.val_start :],
    )


def origins(part: Part, rows: np.ndarray) -> Origins:
    """Forecasts of ``part``'s series from ``rows``, scaled as it was for training."""
    return Origins(part.series.values, part.scaler, rows, part.series.known_ahead)


def validation_forecasts(networks: list[tuple[object, object]], prepared: Prepared) -> list:
    """Each network's forecasts ``(windows, horizon, targets)`` for every validation window,
    in the data's own units (each series' in its own), stacked over the series."""
    horizon, n_targets = prepared.windows.horizon, len(prepared.targets)
    sources = [origins(part, part.val_origins) for part in prepared.parts]
    each = forecast_from(networks, sources, prepared.windows.lookback, horizon, n_targets)
    return [np.concatenate(pieces) for pieces in each]


def build_network(model_config: ModelConfig, prepared: Prepared, seed: int, name: str = "network"):
    """A fresh network for ``prepared``'s windows, its weights drawn from ``seed`` alone;
    under ``--anchor linear`` with its regression fitted to the training windows."""
    seed_everything(seed)
    inputs, targets = prepared.train
    model = build_model(
        model_config,
        inputs.shape[1],
        inputs.shape[2],
        targets.shape[1],
        targets.shape[2],
        name=name,
    )
    if model_config.anchor is Anchor.LINEAR:
        fitted = prepared.linear_anchor(model_config.season)
        set_linear_anchor(model, fitted.kernel, fitted.bias)
    return model


@dataclass(frozen=True)
class Trained:
    """The network kept of one candidate, its configuration, how its training went, the
    statistical models each series' forecast is averaged with (``combine``), what the
    user should know of that choice, and the validation scores and forecasts (data
    units) of the network so combined."""

    model: object
    config: ModelConfig
    result: TrainResult
    metrics: dict
    val_forecast: np.ndarray  # (windows, horizon, targets)
    combined: tuple[Chosen, ...]  # per series of the prepared panel
    combination_note: str | None  # what the forecast averages, under --combine auto


Member = tuple[ModelConfig, object]  # one network and its configuration
Networks = list[list[Member]]  # per candidate, per member of its ensemble


def build_candidates(
    candidates: list[ModelConfig],
    prepared: Prepared,
    seed: int,
    names: list[str] | None = None,
) -> Networks:
    """A fresh network per candidate and member of its ensemble (``--members``; member
    ``m`` is drawn from ``seed + m`` as if it were alone). ``names`` name each candidate's
    first network (default ``network``); a later member adds its number."""
    names = names or [f"network_{i}" if i else "network" for i in range(len(candidates))]
    return [
        [
            (config, build_network(config, prepared, seed + member, prefix))
            for member, prefix in enumerate(
                [name] + [f"{name}_m{m}" for m in range(1, config.members)]
            )
        ]
        for config, name in zip(candidates, names, strict=True)
    ]


def fit_candidates(
    networks: Networks,
    prepared: Prepared,
    training: TrainConfig,
    on_epoch: EpochHook | None = None,
    backup_file: Path | None = None,
) -> list[Trained]:
    """Train every network together on the same batches, each member stopping on its own
    as if it trained alone, and validate the model kept of each candidate: the median of
    its members' (``network.ensemble``). With ``backup_file``, a crashed training resumes.
    """
    every = [member for members in networks for member in members]
    results = fit(
        [Branch(model.name, model, config.head) for config, model in every],
        prepared.train,
        prepared.val,
        training,
        on_epoch,
        backup_file=backup_file,
    )
    chosen = []
    for members in networks:
        config, first = members[0]
        model = ensemble([model for _, model in members], f"{first.name}_median")
        chosen.append((config, model, results[first.name]))
    forecasts = validation_forecasts([(m, c.head) for c, m, _ in chosen], prepared)
    trained = []
    for (config, model, result), network in zip(chosen, forecasts, strict=True):
        combination, forecast, said = combine(prepared, network, config.combine)
        metrics = scores(prepared, forecast)
        if forecast is not network:
            alone = scores(prepared, network)
            metrics["network"] = {k: v for k, v in alone.items() if k.startswith("val_")}
        trained.append(Trained(model, config, result, metrics, forecast, combination, said))
    return trained


def combine(
    prepared: Prepared, network: np.ndarray, how: Combine
) -> tuple[tuple[Chosen, ...], np.ndarray, str | None]:
    """Per series, the statistical models whose mean with the network's forecasts of its
    validation windows is closest to them (``combination.choose``), the validation
    forecasts so combined (``network`` itself if none is), and a note that says so."""
    nothing = tuple(() for _ in prepared.parts)
    why_not = too_many_to_fit(prepared.val_origins)
    if how is Combine.NONE or why_not:
        said = f"Not combined with the statistical models: {why_not}." if why_not else None
        return nothing, network, said if how is Combine.AUTO else None
    season, _ = baseline_season(prepared)
    models, n_targets = pool(season), len(prepared.targets)
    chosen, combined, start = [], [], 0
    for index, part in enumerate(prepared.parts):
        mine = network[start : start + len(part.val_actual)]
        start += len(mine)
        others = {m: prepared.val_fitted(m)[index] for m in models}
        others = {m: forecast for m, forecast in others.items() if forecast is not None}
        spread = np.asarray(part.scaler.scale[:n_targets])  # each target in its own units
        picked = choose(
            mine / spread, {m: f / spread for m, f in others.items()}, part.val_actual / spread
        )
        chosen.append(picked)
        combined.append(mean_with(mine, [others[m] for m in picked]))
    if not any(chosen):
        return nothing, network, describe(chosen, models)
    return tuple(chosen), np.concatenate(combined), describe(chosen, models)


def model_card(
    prepared: Prepared,
    data: DataConfig,
    training: TrainConfig,
    runtime: RuntimeConfig,
    trained: Trained,
) -> ModelCard:
    """Everything about a trained network that ``forecast predict`` needs, with its scores."""
    panel = prepared.panel
    series, result = panel[0], trained.result
    combination = {
        s.name: chosen for s, chosen in zip(panel, trained.combined, strict=True) if chosen
    }
    n_targets, season = len(prepared.targets), prepared.windows.season
    return ModelCard(
        data=series.resolved(data),
        source=data_source(panel),
        window=prepared.windows,
        scalers={s.name: part.scaler for s, part in zip(panel, prepared.parts, strict=True)},
        model=trained.config,
        training=training,
        runtime=runtime,
        params=trained.model.count_params(),
        outcome={
            "epochs_run": result.epochs_run,
            "best_epoch": result.best_epoch,
            "interrupted": result.interrupted,
            "resumed_after_epoch": result.resumed_after,
            "train_seconds": round(result.seconds, 3),
            "xla_compiled": result.compiled,
            "fused_lstm": result.fused,
        },
        metrics=trained.metrics,
        versions=versions(),
        created=now(),
        combination=combination,
        ahead={
            s.name: fitted_ahead(s.values, combination[s.name], season, n_targets)
            for s in panel
            if s.name in combination
        },
    )


def data_source(panel: tuple[Series, ...]) -> DataSource:
    """The file a panel was read from, as a card records it."""
    series = panel[0]
    return DataSource(
        # '-' (standard input) stays '-': predict then reads its data from stdin too
        str(series.path if series.path in (STDIN, FRAME) else series.path.absolute()),
        series.sha256,
        sum(len(s.values) for s in panel),
        common_freq(panel),
    )
