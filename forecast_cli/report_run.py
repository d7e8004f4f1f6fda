"""``forecast report``: a model, comparison or backtest read back from its files, its
pictures drawn, and its page made (``html_report``).

What each kind shows:

* a model directory: the data and windows from its card, the layer table read from
  ``model.keras`` (without TensorFlow), the losses of ``history.csv``, the validation
  scores beside every baseline, and a forecast of the next steps with its intervals,
  made here from the end of the training file as ``forecast predict`` makes it;
* a comparison folder: the data and windows of its networks, the ranked table, the
  grid and overlay it drew, every network's losses, the best network's layers;
* a backtest (its scores CSV or card): the data and windows from its card, what each
  fold kept, the per-fold and overall scores, and the picture it drew.
"""

from __future__ import annotations

import dataclasses
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from forecast_cli import __version__, inference
from forecast_cli import html_report as h
from forecast_cli.artifacts import (
    CARD_FILE,
    MODEL_FILE,
    TABLE_FILE,
    ModelCard,
    backtest_card,
    load_backtest,
    load_card,
    load_comparison,
    load_history,
)
from forecast_cli.config import DEFAULT_STEPS
from forecast_cli.errors import ForecastError
from forecast_cli.report import training_time
from forecast_cli.windows import split_series

LEVELS = (80, 95)  # the forecast's intervals
BASELINE_METHODS = {"naive", "seasonal naive", "AutoETS", "AutoTheta", "AutoARIMA"}
SCORES = {"mae": "MAE", "rmse": "RMSE", "smape": "sMAPE %", "mase": "MASE"}  # backtest.csv's


@dataclass(frozen=True)
class Page:
    """A report made: its kind (model, comparison or backtest) and its HTML."""

    kind: str
    html: str


def run_report(path: Path) -> Page:
    """The report of the model directory, comparison folder or backtest at ``path``."""
    if (path / CARD_FILE).is_file():
        return Page("model", _model_page(path))
    if (path / TABLE_FILE).is_file():
        return Page("comparison", _comparison_page(path))
    if path.is_file() and backtest_card(path).is_file():
        return Page("backtest", _backtest_page(path))
    if not path.exists():
        raise ForecastError(
            f"{path} does not exist; pass a model folder, a comparison folder "
            "or a backtest's scores CSV."
        )
    raise ForecastError(
        f"{path} is neither a model folder (with {CARD_FILE}), a comparison folder (with "
        f"{TABLE_FILE}) nor a backtest's scores CSV (with its .json card beside it); pass "
        "one of those."
    )


def _model_page(directory: Path) -> str:
    card = load_card(directory)
    saved = card.to_dict()
    with tempfile.TemporaryDirectory() as scratch:
        history = _training_picture(
            {card.model.label: load_history(directory)},
            {card.model.label: card.outcome.get("best_epoch")},
            f"Losses of {card.model.label}",
            Path(scratch),
        )
        forecast = _forecast_section(directory, card, Path(scratch))
    sections = [
        *_read(saved["data"], saved["window"], _split(card)),
        h.Section("architecture", "Architecture", _architecture(directory, card)),
        h.Section("training", "Training", history + h.facts(_training_facts(card))),
        h.Section("validation", "Validation scores", _validation(card)),
        forecast,
    ]
    return h.page(
        f"Model {card.forecaster}",
        f"{directory} · trained {card.created} on {Path(card.source.path).name}",
        sections,
        _footer(directory),
    )


def _comparison_page(directory: Path) -> str:
    comparison = load_comparison(directory)
    if not comparison.models:
        raise ForecastError(
            f"{directory} holds no model folder under models/; run 'forecast compare' again."
        )
    cards = {name: load_card(path) for name, path in comparison.models.items()}
    best_name, best = next(iter(cards.items()))  # the table is ranked
    saved = best.to_dict()
    with tempfile.TemporaryDirectory() as scratch:
        curves = _training_picture(
            {name: load_history(path) for name, path in comparison.models.items()},
            {name: card.outcome.get("best_epoch") for name, card in cards.items()},
            "Losses of every network",
            Path(scratch),
        )
    pictures = [
        h.picture(path.read_bytes(), path.name)
        if path.is_file()
        else h.missing(f"{path} is missing.")
        for path in comparison.pictures.values()
    ]
    architecture = h.paragraph(f"{best_name}, ranked first.") + _architecture(
        comparison.models[best_name], best
    )
    sections = [
        *_read(saved["data"], saved["window"], _split(best)),
        h.Section("ranking", "Ranking on validation", _ranking(comparison.table)),
        h.Section("forecasts", "Validation fit and forecasts", "".join(pictures)),
        h.Section("training", "Training", curves + h.facts(_settings_facts(best))),
        h.Section("architecture", "Architecture of the best network", architecture),
    ]
    networks = len(cards)
    return h.page(
        f"Comparison of {networks} network{'s' * (networks > 1)} on {Path(best.source.path).name}",
        f"{directory} · trained {best.created}",
        sections,
        _footer(directory),
    )


def _backtest_page(path: Path) -> str:
    saved = load_backtest(path)
    card, table = saved.card, saved.table.astype({"fold": str})
    names = {c: SCORES.get(c, c.replace("coverage_", "coverage ") + " %") for c in table}
    names.update(fold="fold", cutoff="cutoff row", method="method")
    folds = table[table["fold"] != "all"].rename(columns=names)
    overall = table[table["fold"] == "all"].sort_values("mase").drop(columns=["fold", "cutoff"])
    overall = overall.rename(columns=names)
    digits = {"cutoff row": 0, "sMAPE %": 2, "MASE": 3} | {
        name: 1 for name in names.values() if name.startswith("coverage")
    }
    plot = (
        h.picture(saved.plot.read_bytes(), saved.plot.name)
        if saved.plot is not None and saved.plot.is_file()
        else h.missing(f"The picture ({saved.plot or 'not drawn: --plot'}) is missing.")
    )
    kept = pd.DataFrame(card["folds"])
    sections = [
        *_read(card["data"], card["window"]),
        h.Section("network", "Network and folds", _backtest_facts(card) + h.table(kept)),
        h.Section("folds", "Scores per fold", h.table(folds, _styles(folds["method"]), digits)),
        h.Section(
            "overall",
            "Over all folds",
            h.table(overall, _styles(overall["method"], best_first=True), digits)
            + h.notes(["MASE below 1 beats the in-sample seasonal naive forecast."]),
        ),
        h.Section("plot", "Forecasts around the cut-offs", plot),
    ]
    return h.page(
        f"Backtest {card['title']}",
        f"{path} · run {card['created']}",
        sections,
        _footer(path),
    )


def _read(data: dict, window: dict, split: tuple[int, int] | None = None) -> list[h.Section]:
    """The sections of a card's ``data`` and ``window``, side by side."""
    return [
        h.Section("data", "Data", h.facts(h.data_facts(data)), half=True),
        h.Section("windows", "Windows", h.facts(h.window_facts(window, split)), half=True),
    ]


def _training_picture(
    histories: dict[str, pd.DataFrame], best: dict[str, int], title: str, scratch: Path
) -> str:
    from forecast_cli.plotting import plot_training

    path = scratch / "training.png"
    plot_training(histories, best, title, path)
    return h.picture(path.read_bytes(), title)


def _forecast_section(directory: Path, card: ModelCard, scratch: Path) -> h.Section:
    """The next steps from the end of the training file, with their intervals where its
    validation tail calibrates them; what went wrong otherwise."""
    from forecast_cli.artifacts import write_forecast
    from forecast_cli.intervals import TooFewOrigins
    from forecast_cli.predict_run import run_predict

    try:
        try:
            forecast = run_predict(directory, None, DEFAULT_STEPS, levels=LEVELS)
        except TooFewOrigins as exc:
            forecast = run_predict(directory, None, DEFAULT_STEPS)
            forecast = dataclasses.replace(forecast, notes=(*forecast.notes, str(exc)))
    except ForecastError as exc:
        return h.Section("forecast", "Forecast", h.missing(f"No forecast: {exc}"))
    picture = scratch / "forecast.png"
    write_forecast(forecast, scratch / "forecast.csv", picture)
    intervals = (
        f", with {' and '.join(f'{level}%' for level in forecast.levels)} intervals"
        if forecast.levels
        else ""
    )
    body = (
        h.paragraph(
            f"The next {DEFAULT_STEPS} steps after the end of {card.source.path}{intervals}, "
            "as forecast predict makes them."
        )
        + h.picture(picture.read_bytes(), "forecast")
        + h.notes(forecast.notes)
        + h.table(forecast.frame)
    )
    return h.Section("forecast", "Forecast", body)


def _architecture(directory: Path, card: ModelCard) -> str:
    """The network's settings and layer table (read from ``model.keras`` with NumPy)."""
    model = card.model
    rows = [
        ("layers", model.label),
        ("head", str(model.head)),
        ("anchor", str(model.anchor)),
        ("parameters", f"{card.params:,}"),
    ]
    if model.members > 1:
        rows.append(("ensemble", f"the median of {model.members} networks"))
    if model.dropout or model.recurrent_dropout:
        rows.append(("dropout", f"{model.dropout:g}, recurrent {model.recurrent_dropout:g}"))
    rows.append(("forecast", card.forecaster))
    try:
        layers = h.layer_table(inference.load(directory / MODEL_FILE).layers)
    except inference.Unsupported as exc:
        layers = h.missing(f"The layer table cannot be read from {MODEL_FILE}: {exc}.")
    return h.facts(rows) + layers


def _training_facts(card: ModelCard) -> list[tuple[str, str]]:
    outcome = card.outcome
    return [
        (
            "epochs",
            f"{outcome['epochs_run']} run, the weights of epoch {outcome['best_epoch']} kept",
        ),
        ("time", training_time(outcome)),
        *_settings_facts(card),
    ]


def _settings_facts(card: ModelCard) -> list[tuple[str, str]]:
    training = card.training
    return [
        ("batch size", str(training.batch_size)),
        ("learning rate", f"{training.learning_rate:g}"),
        ("loss", str(training.loss)),
        ("patience", f"{training.patience} epochs"),
        ("seed", str(training.seed)),
    ]


def _validation(card: ModelCard) -> str:
    """The model's validation scores above every baseline's, the best MASE marked."""
    metrics = card.metrics
    scored = {card.forecaster: metrics}
    if "network" in metrics:
        scored["network alone"] = metrics["network"]
    scored.update(metrics.get("baselines", {}))
    frame = pd.DataFrame(
        {
            "method": list(scored),
            "MAE": [m["val_mae"] for m in scored.values()],
            "RMSE": [m["val_rmse"] for m in scored.values()],
            "sMAPE %": [m.get("val_smape") for m in scored.values()],
            "MASE": [m.get("val_mase") for m in scored.values()],
        }
    )
    best = frame["MASE"].idxmin() if frame["MASE"].notna().any() else None
    styles = [
        "best" if i == best else ("baseline" if name in BASELINE_METHODS else "")
        for i, name in enumerate(frame["method"])
    ]
    return h.table(frame, styles, {"sMAPE %": 2, "MASE": 3}) + h.notes(
        [
            "Over the validation windows, every step ahead. MASE below 1 beats the "
            "in-sample seasonal naive forecast; the best is highlighted, baselines in grey."
        ]
    )


def _ranking(table: pd.DataFrame) -> str:
    shown = table.assign(
        params=table["params"].where(table["params"] > 0),
        epochs_run=table["epochs_run"].where(table["params"] > 0),
    )
    columns = {
        "rank": "rank",
        "name": "candidate",
        "combined": "averaged with",
        "params": "params",
        "epochs_run": "epochs",
        "val_mae": "MAE",
        "val_rmse": "RMSE",
        "val_smape": "sMAPE %",
        "val_mase": "MASE",
    }
    if (table["val_rmse_sd"] > 0).any():
        columns["val_rmse_sd"] = "RMSE sd"
    shown = shown[list(columns)].rename(columns=columns)
    styles = [
        "best" if rank == 1 else ("baseline" if params == 0 else "")
        for rank, params in zip(table["rank"], table["params"], strict=True)
    ]
    return h.table(shown, styles, {"params": 0, "epochs": 0, "sMAPE %": 2, "MASE": 3})


def _backtest_facts(card: dict) -> str:
    model, options, training = card["model"], card["backtest"], card["training"]
    levels = ", ".join(f"{level}%" for level in options["levels"]) or "none"
    return h.facts(
        [
            ("network", f"{model['label']} ({model['head']}), anchor {model['anchor']}"),
            ("folds", f"{options['folds']} of {options['steps']} steps, {options['refit']}"),
            ("season", f"{options['season']} (seasonal naive and MASE's scale)"),
            ("intervals", levels),
            ("training", f"at most {training['epochs']} epochs, seed {training['seed']}"),
        ]
    )


def _styles(methods: pd.Series, best_first: bool = False) -> list[str]:
    """Baselines in grey; with ``best_first``, the first row marked best."""
    styles = ["baseline" if m in BASELINE_METHODS else "" for m in methods]
    if best_first and styles:
        styles[0] = "best"
    return styles


def _split(card: ModelCard) -> tuple[int, int] | None:
    """The training and validation rows of a one-series model."""
    if list(card.scalers) != [None]:
        return None
    window = card.window
    split = split_series(card.source.rows, window.lookback, window.horizon, window.val_fraction)
    return split.train_rows, split.rows


def _footer(path: Path) -> str:
    return f"Made by forecast {__version__} with 'forecast report {path}'."
