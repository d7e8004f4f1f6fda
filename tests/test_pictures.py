"""The pictures, drawn for real and read back: their panels, labels, legends and dates."""

import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import FAST, sine_frame
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.dates import ConciseDateFormatter

from forecast_cli import plotting

SINE = Path(__file__).parents[1] / "sample_data" / "sine.csv"


@pytest.fixture
def figures(monkeypatch):
    """Every figure a command saves, by file name, drawn as saved."""
    drawn = {}
    save = plotting._save

    def keep(fig, path: Path) -> None:
        save(fig, path)
        FigureCanvasAgg(fig).draw()  # saved and closed, drawn again to be measured
        drawn[path.name] = fig

    monkeypatch.setattr(plotting, "_save", keep)
    return drawn


@pytest.fixture
def stores_csv(write_csv):
    """Two stores' hourly sales in long format, rows interleaved by time."""
    frames = []
    for seed, store in enumerate(("north", "south")):
        frame = sine_frame(seed=seed).rename(columns={"value": "sales"})
        frames.append(frame.assign(store=store, sales=frame["sales"] + 3 * seed))
    return write_csv("stores.csv", pd.concat(frames).sort_values("timestamp", kind="stable"))


def boxes(fig, artists) -> list:
    renderer = fig.canvas.get_renderer()
    return [a.get_window_extent(renderer) for a in artists if a.get_visible() and a.get_text()]


def overlapping(extents) -> list:
    return [(a, b) for a, b in itertools.combinations(extents, 2) if a.overlaps(b)]


def below(legend, ax, fig) -> bool:
    """Whether ``legend`` lies under ``ax`` and its tick labels."""
    renderer = fig.canvas.get_renderer()
    return legend.get_window_extent(renderer).y1 <= ax.get_tightbbox(renderer).y0


def test_backtest_draws_a_dated_labelled_panel_per_series(cli, stores_csv, figures):
    flags = ["--id-col", "store", "--folds", 2, "--steps", 4, "--jobs", 1, *FAST]
    result = cli("backtest", stores_csv, *flags, "--baselines", "naive")
    assert result.exit_code == 0, result.output
    fig = figures["backtest.png"]
    assert [ax.get_title() for ax in fig.axes] == ["north", "south"]
    assert [ax.get_ylabel() for ax in fig.axes] == ["sales", "sales"]
    assert fig.axes[-1].get_xlabel() == "timestamp"
    for ax in fig.axes:
        assert np.issubdtype(np.asarray(ax.lines[0].get_xdata()).dtype, np.datetime64)
        assert isinstance(ax.xaxis.get_major_formatter(), ConciseDateFormatter)
        assert ax.get_legend() is None
    (legend,) = fig.legends
    assert [t.get_text() for t in legend.get_texts()] == [
        "actual",
        "model",
        "network alone",
        "naive",
    ]
    assert below(legend, fig.axes[-1], fig)


def test_a_forecast_of_several_series_keeps_its_title_and_legend_off_the_panels(
    cli, stores_csv, figures
):
    assert cli("train", stores_csv, "--id-col", "store", *FAST).exit_code == 0
    assert cli("predict", "--intervals", "80", "--steps", 5).exit_code == 0
    fig = figures["forecast.png"]
    renderer = fig.canvas.get_renderer()
    top = fig.axes[0].get_tightbbox(renderer)
    assert fig.get_suptitle() and fig._suptitle.get_window_extent(renderer).y0 >= top.y1
    (legend,) = fig.legends
    assert [ax.get_legend() for ax in fig.axes] == [None, None]
    assert below(legend, fig.axes[-1], fig)
    assert [t.get_text() for t in legend.get_texts()] == ["history", "80% interval", "forecast"]


def test_the_comparison_grid_has_no_overlapping_date_labels(cli, figures):
    """Six weeks of hours: the grid's slanted full dates ran into each other."""
    layers = ["--layers", "lstm:2", "--layers", "gru:2", "--layers", "rnn:2"]
    flags = ["--epochs", 1, "--lookback", 8, "--steps", 8, "--jobs", 1, "--baselines", "naive"]
    assert cli("compare", SINE, *layers, *flags).exit_code == 0
    fig = figures["compare-grid.png"]
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == 3
    labels = [label for ax in visible for label in ax.get_xticklabels()]
    assert overlapping(boxes(fig, labels)) == []
    # the lowest panel of each column labels its time axis, the one above the empty cell too
    assert [bool(boxes(fig, ax.get_xticklabels())) for ax in visible] == [False, True, True]
