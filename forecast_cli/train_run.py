"""``forecast train``: load, resolve, prepare, fit, validate and save one model."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from forecast_cli.artifacts import ModelCard, check_destination, save_model_dir
from forecast_cli.backup import backup_path
from forecast_cli.config import (
    DataConfig,
    LogConfig,
    ModelConfig,
    RuntimeConfig,
    TrainConfig,
    WindowConfig,
)
from forecast_cli.epoch_log import Job, loggers
from forecast_cli.evaluation import beaten, scores, validation_baselines
from forecast_cli.loading import Source, check_source, load_panel, panel_notes
from forecast_cli.pipeline import (
    build_candidates,
    fit_candidates,
    model_card,
    prepare,
)
from forecast_cli.report import Report
from forecast_cli.resolve import resolve
from forecast_cli.runtime import is_chief, use_device


@dataclass(frozen=True)
class Training:
    """What ``forecast train`` made: the saved model's card and where it is."""

    card: ModelCard
    model_dir: Path
    saved: bool  # False on the workers of a multi-worker cluster but its chief
    stopped: str | None = None  # what was saved when Ctrl-C stopped the training

    def summary(self) -> dict:
        """The ``--json`` object."""
        card = self.card
        return {
            "val_mae": card.metrics["val_mae"],
            "val_rmse": card.metrics["val_rmse"],
            "val_mase": card.metrics["val_mase"],
            # the same scores of each baseline, on the same windows
            "baselines": {
                name: {key: value for key, value in each.items() if key.startswith("val_")}
                for name, each in card.metrics["baselines"].items()
            },
            # what the forecast averages with the network's, and the network's own scores
            "combined_with": _combined_with(card),
            "network": card.metrics.get("network", {}),
            "season": card.window.season,
            "params": card.params,
            "epochs_run": card.outcome["epochs_run"],
            "best_epoch": card.outcome["best_epoch"],
            "train_seconds": card.outcome["train_seconds"],
            "model_dir": str(self.model_dir.absolute()),
        }


def _combined_with(card: ModelCard) -> list[str] | dict[str, list[str]]:
    """The statistical models' names in tables, as the card keeps them (by series)."""
    names = {name: [m.title for m in card.combined(name)] for name in card.scalers}
    return names[None] if list(names) == [None] else names


def run_train(
    source: Source,
    data: DataConfig,
    window: WindowConfig,
    model: ModelConfig,
    training: TrainConfig,
    runtime: RuntimeConfig,
    logs: LogConfig,
    model_dir: Path,
    report: Report,
    run_file: str | None = None,
) -> Training:
    """Train one model on ``source`` and save it to ``model_dir`` (with ``run_file`` as
    its ``run.toml``); each epoch's losses also go where ``logs`` says."""
    check_destination(model_dir)
    check_source(source, data)
    device = use_device(runtime, training.xla)
    with report.reading(source):
        panel = load_panel(source, data)
    resolved = resolve(window, model, panel)
    report.notes(panel_notes(panel) + resolved.notes)
    prepared = prepare(panel, resolved.windows)
    report.windows(prepared, resolved.model.head, device)
    networks = build_candidates([resolved.model], prepared, training.seed)
    report.network(networks[0])
    backup = backup_path(model_dir)
    job = Job({"network": ("network", "network")}, training.seed)
    with loggers(logs, [job]) as log, report.epochs(training.epochs, log=log) as on_epoch:
        (trained,) = fit_candidates(networks, prepared, training, on_epoch, backup)
    report.trained(trained)
    standing, notes = validation_baselines(prepared)
    others = {name: scores(prepared, forecast) for name, forecast in standing.items()}
    mases = {name: each["val_mase"] for name, each in others.items()}
    report.notes(
        notes + beaten(trained.metrics["val_mase"], mases, "the network on the validation windows")
    )
    trained = dataclasses.replace(trained, metrics={**trained.metrics, "baselines": others})
    card = model_card(prepared, data, training, runtime, trained)
    chief = is_chief()
    if chief:
        save_model_dir(model_dir, trained.model, card, trained.result.history, run_file)
        if not trained.result.interrupted:
            backup.unlink(missing_ok=True)
    outcome = Training(card, model_dir, chief, _stopped(trained.result, model_dir, backup, chief))
    report.training(outcome, prepared)
    return outcome


def _stopped(result, model_dir: Path, backup: Path, saved: bool) -> str | None:
    """What an interrupted training kept, and how to go on; ``None`` if it ran to its end."""
    if not result.interrupted:
        return None
    kept = f"the weights of epoch {result.best_epoch}, the best on validation before the stop"
    where = f"saved {kept}, to {model_dir}" if saved else f"kept {kept}; the chief saves them"
    resumes = (
        f"; the same command resumes after epoch {result.backed_up} from the backup {backup}"
        if result.backed_up
        else ""
    )
    return f"{where}{resumes}."
