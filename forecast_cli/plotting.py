"""Pictures of a forecast. matplotlib is imported here only, when a plot is asked for."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from forecast_cli.artifacts import atomic_path


@dataclass(frozen=True)
class ForecastPanel:
    """One target of one series: its history's tail, the forecast and its interval bands."""

    label: str
    history_x: np.ndarray
    history: np.ndarray  # (rows,)
    forecast_x: np.ndarray
    forecast: np.ndarray  # (steps,)
    bands: dict[int, tuple[np.ndarray, np.ndarray]]  # level -> (lower, upper), (steps,) each


def plot_forecast(panels: list[ForecastPanel], x_label: str, title: str, path: Path) -> None:
    """One panel each, stacked: the tail of the history, then the forecast joined to it,
    with the interval bands shaded, wider levels lighter."""
    plt = _pyplot()
    fig, axes = plt.subplots(
        len(panels), 1, figsize=(10, 3.2 * len(panels) + 0.8), squeeze=False, sharex=True
    )
    for ax, panel in zip(axes[:, 0], panels, strict=True):
        ax.plot(panel.history_x, panel.history, color="0.35", lw=1.2, label="history")
        for level, (lower, upper) in sorted(panel.bands.items(), reverse=True):
            ax.fill_between(
                panel.forecast_x,
                lower,
                upper,
                color="tab:orange",
                alpha=0.15 + 0.15 * (level < 90),
                lw=0,
                label=f"{level}% interval",
            )
        ax.plot(
            np.concatenate([panel.history_x[-1:], panel.forecast_x]),
            np.concatenate([panel.history[-1:], panel.forecast]),
            color="tab:orange",
            lw=1.8,
            marker="o",
            ms=2.5,
            label="forecast",
        )
        ax.axvline(panel.history_x[-1], color="0.6", ls=":", lw=1)
        ax.set_ylabel(panel.label)
        ax.grid(alpha=0.3)
        ax.legend(loc="upper left", frameon=False)
    axes[-1, 0].set_xlabel(x_label)
    fig.autofmt_xdate()  # slanted dates do not run into each other
    fig.suptitle(title)
    _save(fig, path)


def plot_comparison(
    history_x: np.ndarray,
    history: np.ndarray,
    fit_x: np.ndarray,
    fits: dict[str, np.ndarray],
    forecast_x: np.ndarray,
    forecasts: dict[str, np.ndarray],
    networks: dict[str, str],
    target: str,
    title: str,
    grid_path: Path,
    overlay_path: Path,
) -> None:
    """A grid with one panel per network on shared axes (history, validation fit, forecast),
    and an overlay of every forecast, baselines dashed. ``networks`` maps each network's
    name to its panel title."""
    plt = _pyplot()
    columns = min(len(networks), 2)
    rows = -(-len(networks) // columns)
    fig, axes = plt.subplots(
        rows,
        columns,
        figsize=(6.5 * columns, 3.2 * rows + 0.8),
        sharex=True,
        sharey=True,
        squeeze=False,
    )
    for ax, (name, panel_title) in zip(axes.flat, networks.items(), strict=False):
        ax.plot(history_x, history, color="0.6", lw=1, label="actual")
        ax.plot(fit_x, fits[name], color="tab:blue", lw=1.2, label="validation fit (1 step)")
        ax.plot(forecast_x, forecasts[name], color="tab:orange", lw=1.8, label="forecast")
        ax.axvline(history_x[-1], color="0.6", ls=":", lw=1)
        ax.set_title(panel_title, fontsize=10)
        ax.grid(alpha=0.3)
    for ax in axes.flat[len(networks) :]:
        ax.set_visible(False)
    for ax in axes[:, 0]:
        ax.set_ylabel(target)
    axes.flat[0].legend(loc="upper left", frameon=False, fontsize=8)
    fig.suptitle(title)
    fig.autofmt_xdate()
    _save(fig, grid_path)

    fig, ax = plt.subplots(figsize=(10, 4.2))
    tail = max(len(history_x) // 3, 1)
    ax.plot(history_x[-tail:], history[-tail:], color="0.35", lw=1.2, label="history")
    for name, values in forecasts.items():
        style = "-" if name in networks else "--"
        ax.plot(forecast_x, values, ls=style, lw=1.6, label=name)
    ax.axvline(history_x[-1], color="0.6", ls=":", lw=1)
    ax.set_ylabel(target)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", frameon=False, fontsize=8, ncol=2)
    ax.set_title(f"{title}: forecasts")
    fig.autofmt_xdate()
    _save(fig, overlay_path)


def plot_backtest(
    rows: np.ndarray,
    truth: np.ndarray,
    folds: list[tuple[np.ndarray, dict[str, np.ndarray]]],
    title: str,
    path: Path,
) -> None:
    """The series around the folds and, for each fold, every method's forecast."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(11, 4.2))
    ax.plot(rows, truth, color="0.35", lw=1.2, label="actual")
    colours = {}
    for fold_rows, forecasts in folds:
        ax.axvline(fold_rows[0] - 0.5, color="0.75", ls=":", lw=1)
        for method, values in forecasts.items():
            line = ax.plot(
                fold_rows,
                values,
                lw=1.6,
                ls="-" if method == "model" else "--",
                color=colours.get(method),
                label=None if method in colours else method,
            )
            colours.setdefault(method, line[0].get_color())
    ax.set_xlabel("row")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", frameon=False, fontsize=8)
    ax.set_title(title)
    _save(fig, path)


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path) -> None:
    fig.tight_layout()
    with atomic_path(path) as temporary:
        fig.savefig(temporary, dpi=120, format=path.suffix.lstrip(".") or "png")
    _pyplot().close(fig)
