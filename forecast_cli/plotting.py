"""Pictures of a forecast. matplotlib is imported here only, when a plot is asked for."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

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
    with the interval bands shaded, wider levels lighter. One legend for all, below them."""
    fig, axes = _stacked(len(panels), width=10, height=3.2, sharex=True)
    for ax, panel in zip(axes, panels, strict=True):
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
    _save_stacked(fig, axes, x_label, title, path)


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
    for index in range(len(networks), rows * columns):
        axes.flat[index].set_visible(False)
        axes.flat[index - columns].tick_params(labelbottom=True)  # the time axis above it
    for ax in axes[:, 0]:
        ax.set_ylabel(target)
    for ax in axes.flat:
        _concise_dates(ax)
    axes.flat[0].legend(loc="upper left", frameon=False, fontsize=8)
    fig.suptitle(title)
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
    _concise_dates(ax)
    _save(fig, overlay_path)


@dataclass(frozen=True)
class BacktestPanel:
    """One series around the folds: its values and, for each fold, every method's forecast."""

    label: str  # the series' name, or its target's
    target: str
    x: np.ndarray  # times, or row numbers
    truth: np.ndarray  # (rows,)
    cuts: list  # between each fold's last known row and its first forecast
    folds: list[tuple[np.ndarray, dict[str, np.ndarray]]]  # (x, {method: (steps,)})


def plot_backtest(panels: list[BacktestPanel], x_label: str, title: str, path: Path) -> None:
    """One panel per series, stacked: the series around the folds and each fold's forecast
    by every method, a method in one colour throughout; one legend for all, below them."""
    fig, axes = _stacked(len(panels), width=11, height=3.4)
    colours: dict[str, str] = {}
    for ax, panel in zip(axes, panels, strict=True):
        ax.plot(panel.x, panel.truth, color="0.35", lw=1.2, label="actual")
        for cut in panel.cuts:
            ax.axvline(cut, color="0.75", ls=":", lw=1)
        for fold_x, forecasts in panel.folds:
            for method, values in forecasts.items():
                line = ax.plot(
                    fold_x,
                    values,
                    lw=1.6,
                    ls="-" if method == "model" else "--",
                    color=colours.get(method),
                    label=method,
                )
                colours.setdefault(method, line[0].get_color())
        if len(panels) > 1:
            ax.set_title(panel.label, fontsize=10)
        ax.set_ylabel(panel.target)
    _save_stacked(fig, axes, x_label, title, path)


def plot_training(
    histories: dict[str, pd.DataFrame], best: dict[str, int], title: str, path: Path
) -> None:
    """The losses per epoch of one network or several (each a frame indexed by epoch
    with ``loss`` and ``val_loss``), a network in one colour: validation solid, training
    dashed, the epoch whose weights were kept marked. Logarithmic when the losses span
    more than a factor 10."""
    fig, ax = _pyplot().subplots(figsize=(10, 3.6), layout="constrained")
    for name, history in histories.items():
        prefix = f"{name}: " if len(histories) > 1 else ""
        (line,) = ax.plot(history.index, history["val_loss"], lw=1.8, label=f"{prefix}validation")
        ax.plot(
            history.index,
            history["loss"],
            ls="--",
            lw=1.2,
            color=line.get_color(),
            label=f"{prefix}training",
        )
        if best.get(name) in history.index:
            kept = best[name]
            ax.plot(kept, history.loc[kept, "val_loss"], "o", color=line.get_color(), ms=6)
    losses = pd.concat([h[["loss", "val_loss"]] for h in histories.values()]).to_numpy()
    if (losses > 0).all() and losses.max() > 10 * losses.min():
        ax.set_yscale("log")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_xlabel("epoch (dot: the weights kept)")
    ax.set_ylabel("loss")
    ax.grid(alpha=0.3)
    ax.legend(frameon=False, fontsize=8, ncol=2 if len(histories) > 1 else 1)
    ax.set_title(title)
    _save(fig, path)


def _stacked(count: int, width: float, height: float, sharex: bool = False):
    """A figure of ``count`` panels stacked, and the panels; laid out so that the title
    stays above the first and a legend fits below the last."""
    fig, axes = _pyplot().subplots(
        count,
        1,
        figsize=(width, height * count + 1.2),
        squeeze=False,
        sharex=sharex,
        layout="constrained",
    )
    return fig, list(axes[:, 0])


def _save_stacked(fig, axes: list, x_label: str, title: str, path: Path) -> None:
    """Stacked panels finished alike: a grid and short dates on each, the time axis
    named under the last, one legend below it, the title above."""
    for ax in axes:
        ax.grid(alpha=0.3)
        _concise_dates(ax)
    axes[-1].set_xlabel(x_label)
    _legend_below(fig, axes[0])
    fig.suptitle(title)
    _save(fig, path)


def _concise_dates(ax) -> None:
    """Dates on the time axis written short and level (2026, Feb, 03...): slanted full
    dates ran into each other, and into the panel below."""
    from matplotlib import dates

    if isinstance(ax.xaxis.get_major_formatter(), dates.AutoDateFormatter):
        ax.xaxis.set_major_formatter(dates.ConciseDateFormatter(ax.xaxis.get_major_locator()))


def _legend_below(fig, ax) -> None:
    """One legend for every panel (they draw the same things), under them, off the data;
    each label once."""
    handles, labels = ax.get_legend_handles_labels()
    named = dict(zip(labels, handles, strict=True))
    fig.legend(
        named.values(),
        named.keys(),
        loc="outside lower center",
        ncol=min(len(named), 5),
        frameon=False,
    )


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path) -> None:
    if fig.get_layout_engine() is None:
        fig.tight_layout()
    with atomic_path(path) as temporary:
        fig.savefig(temporary, dpi=120, format=path.suffix.lstrip(".") or "png")
    _pyplot().close(fig)
