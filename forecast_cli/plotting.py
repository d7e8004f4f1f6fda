"""Pictures of a forecast. matplotlib is imported here only, when a plot is asked for."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from forecast_cli.artifacts import atomic_path


def plot_forecast(
    history_x: np.ndarray,
    history: np.ndarray,
    forecast_x: np.ndarray,
    forecast: np.ndarray,
    targets: tuple[str, ...],
    x_label: str,
    title: str,
    path: Path,
) -> None:
    """One panel per target: the tail of the history, then the forecast joined to it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(
        len(targets), 1, figsize=(10, 3.2 * len(targets) + 0.8), squeeze=False, sharex=True
    )
    for column, (ax, name) in enumerate(zip(axes[:, 0], targets, strict=True)):
        ax.plot(history_x, history[:, column], color="0.35", lw=1.2, label="history")
        ax.plot(
            np.concatenate([history_x[-1:], forecast_x]),
            np.concatenate([history[-1:, column], forecast[:, column]]),
            color="tab:orange",
            lw=1.8,
            marker="o",
            ms=2.5,
            label="forecast",
        )
        ax.axvline(history_x[-1], color="0.6", ls=":", lw=1)
        ax.set_ylabel(name)
        ax.grid(alpha=0.3)
        ax.legend(loc="upper left", frameon=False)
    axes[-1, 0].set_xlabel(x_label)
    fig.suptitle(title)
    fig.tight_layout()
    with atomic_path(path) as temporary:
        fig.savefig(temporary, dpi=120, format=path.suffix.lstrip(".") or "png")
    plt.close(fig)
