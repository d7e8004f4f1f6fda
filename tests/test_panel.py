"""Many series in one long-format file (--id-col): one global network, each series scaled alone."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import FAST, error_line, flat, invoke, made_once

from forecast_cli.config import DataConfig, Windows
from forecast_cli.loading import load_panel
from forecast_cli.pipeline import prepare, prepare_part


def panel_frame(rows: int = 120) -> pd.DataFrame:
    """Three hourly sines of very different levels and periods, rows interleaved by time
    and one series shorter, as exports of several sensors often are."""
    rng = np.random.default_rng(3)
    frames = []
    for name, level, spread, period, length in (
        ("north", 10.0, 1.0, 12, rows),
        ("south", 1000.0, 50.0, 24, rows),
        ("east", -5.0, 0.1, 8, rows - 30),
    ):
        t = np.arange(length)
        frames.append(
            pd.DataFrame(
                {
                    "time": pd.date_range("2026-01-01", periods=length, freq="h"),
                    "site": name,
                    "load": level
                    + spread * np.sin(2 * np.pi * t / period)
                    + rng.normal(0, 0.05 * spread, length),
                }
            )
        )
    return pd.concat(frames).sort_values("time", kind="stable").reset_index(drop=True)


@pytest.fixture
def panel_csv(write_csv):
    return write_csv("sites.csv", panel_frame())


def train_sites(folder: Path) -> str:
    """``forecast train`` of the three sites; what it printed."""
    data = folder / "sites.csv"
    panel_frame().to_csv(data, index=False)
    flags = ["--id-col", "site", *FAST, "--val-fraction", 0.3, "--model-dir", folder / "model"]
    trained = invoke("train", data, *flags)
    assert trained.exit_code == 0, trained.output
    return trained.output


@pytest.fixture(scope="module")
def sites_model(tmp_path_factory) -> tuple[Path, str]:
    """The three sites' model, trained once in the run, and what its training printed."""
    folder, trained = made_once(tmp_path_factory, "sites_model", train_sites)
    return folder / "model", trained


def test_each_id_is_its_own_series_in_order_of_first_appearance(panel_csv):
    panel = load_panel(panel_csv, DataConfig(id_col="site"))
    assert [s.name for s in panel] == ["north", "south", "east"]
    assert [len(s.values) for s in panel] == [120, 120, 90]
    frame = panel_frame()
    for series in panel:
        own = frame[frame["site"] == series.name]
        np.testing.assert_allclose(series.values[:, 0], own["load"], rtol=1e-6)
        assert series.freq == "h" and series.targets == ("load",) and series.id_col == "site"
        assert series.times.equals(pd.DatetimeIndex(own["time"]))


def test_notes_about_one_series_name_it(write_csv):
    frame = panel_frame().iloc[::-1]  # every series unsorted
    frame = frame.drop(index=frame[frame["site"] == "south"].index[10])  # a gap in one
    panel = load_panel(write_csv("gappy.csv", frame), DataConfig(id_col="site"))
    notes = [note for series in panel for note in series.notes]
    assert "Series 'south': Rows sorted by time column 'time'." in notes
    gaps = [note for note in notes if "missing step" in note]
    assert len(gaps) == 1 and gaps[0].startswith("Series 'south': 1 missing step(s) of h")


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (DataConfig(id_col="region"), "Column 'region' is not in"),
        (DataConfig(id_col="site", targets=("site",)), "Column 'site' in .* is the --id-col"),
    ],
)
def test_a_wrong_id_column_is_refused(cli, panel_csv, config, message):
    flags = ["--id-col", config.id_col] + [f for t in config.targets or () for f in ("--target", t)]
    assert pd.Series([error_line(cli("train", panel_csv, *flags))]).str.contains(message).all()


def test_a_row_without_a_series_name_is_refused_naming_its_line(cli, write_csv):
    frame = panel_frame()
    frame.loc[5, "site"] = None
    line = error_line(cli("train", write_csv("noname.csv", frame), "--id-col", "site"))
    assert "noname.csv is empty on line 7; every row needs the name of its series." in line


def test_windows_never_span_two_series_and_each_is_scaled_on_its_own_training_rows(panel_csv):
    panel = load_panel(panel_csv, DataConfig(id_col="site"))
    window = Windows(lookback=8, horizon=3, val_fraction=0.2)
    prepared = prepare(panel, window)
    alone = [prepare_part(series, window) for series in panel]
    # Stacked on the sample axis: exactly each series' own windows, one after another.
    for stacked, parts in (
        (prepared.train, [p.train for p in alone]),
        (prepared.val, [p.val for p in alone]),
    ):
        for got, want in zip(stacked, zip(*parts, strict=True), strict=True):
            np.testing.assert_array_equal(got, np.concatenate(want))
    assert len(prepared.train[0]) == (96 - 8 - 3 + 1) * 2 + (72 - 8 - 3 + 1)
    for part in prepared.parts:
        train_rows = part.series.values[: part.split.train_rows, 0]
        assert part.scaler.offset[0] == pytest.approx(train_rows.mean(), rel=1e-5)
        assert part.scaler.scale[0] == pytest.approx(train_rows.std(), rel=1e-5)
    # So every series is centred alike, whatever its level (10, 1000, -5).
    assert np.abs(prepared.train[0].mean()) < 0.1


@pytest.mark.slow
def test_train_then_predict_every_series_or_the_ones_named(cli, sites_model, tmp_path, monkeypatch):
    model, trained = sites_model
    output = flat(trained)
    assert "3 series of 90-120 rows, time column 'time', frequency h" in output
    card = json.loads((model / "forecast.json").read_text())
    assert card["data"]["id_col"] == "site"
    assert set(card["scaling"]["series"]) == {"north", "south", "east"}
    assert card["scaling"]["series"]["south"]["offset"][0] == pytest.approx(1000, abs=10)
    assert set(card["metrics"]["per_series"]) == {"north", "south", "east"}

    import forecast_cli.plotting as plotting

    drawn, draw = [], plotting.plot_forecast
    monkeypatch.setattr(
        plotting, "plot_forecast", lambda panels, *rest: drawn.extend(panels) or draw(panels, *rest)
    )
    result = cli("predict", "--model", model, "--steps", 25, "--intervals", "80", "--max-plots", 2)
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(tmp_path / "forecast.csv")
    assert list(frame.columns) == ["site", "time", "load", "load_lower_80", "load_upper_80"]
    assert frame["site"].value_counts().to_dict() == {"north": 25, "south": 25, "east": 25}
    first = frame.groupby("site")["time"].first()  # each continues from its own end
    assert (first["north"], first["east"]) == ("2026-01-06 00:00:00", "2026-01-04 18:00:00")
    # Each series forecast in its own units, rolled past the horizon of 20.
    means = frame.groupby("site")["load"].mean()
    assert 8 < means["north"] < 12 and 900 < means["south"] < 1100 and -6 < means["east"] < -4
    widths = (frame["load_upper_80"] - frame["load_lower_80"]).groupby(frame["site"]).mean()
    assert widths["south"] > 100 * widths["east"]  # one calibration, each series' own spread
    assert (tmp_path / "forecast.png").stat().st_size > 0
    assert [panel.label for panel in drawn] == ["north: load", "south: load"]  # --max-plots 2
    assert all(set(panel.bands) == {80} for panel in drawn)

    chosen = cli("predict", "--model", model, "--steps", 3, "--series", "east,north", "--no-plot")
    assert chosen.exit_code == 0, chosen.output
    assert pd.read_csv(tmp_path / "forecast.csv")["site"].tolist() == ["north"] * 3 + ["east"] * 3
    assert "'west' not in" in error_line(cli("predict", "--model", model, "--series", "west"))


def test_predict_refuses_a_series_the_model_never_saw(cli, sites_model, write_csv):
    model, _ = sites_model
    frame = panel_frame()
    more = pd.concat([frame, frame[frame["site"] == "north"].assign(site="west")])
    line = error_line(cli("predict", "--model", model, "--data", write_csv("more.csv", more)))
    assert "more.csv holds series the model was not trained on ('west')" in line


@pytest.mark.slow
def test_backtest_and_compare_score_all_series_together(cli, panel_csv, tmp_path):
    backtest = cli(
        "backtest",
        panel_csv,
        "--id-col",
        "site",
        "--folds",
        2,
        "--steps",
        4,
        *FAST,
        "--jobs",
        1,
        "--baselines",
        "naive,snaive",
        "--json",
    )
    assert backtest.exit_code == 0, backtest.output
    assert "cut-offs 8, 4 rows before each series' end" in flat(backtest.output)
    scores = pd.read_csv(tmp_path / "backtest.csv")
    assert scores["fold"].astype(str).tolist() == ["1"] * 4 + ["2"] * 4 + ["all"] * 4
    assert scores["cutoff"].iloc[:3].tolist() == [113] * 3  # the first series' rows
    # Pooled over three series in their own units, the errors are the south's size.
    assert scores.loc[scores["method"] == "naive", "mae"].min() > 1

    flags = ["--layers", "bilstm:4", "--merge-modes", "sum,ave", "--epochs", 2, "--lookback", 8]
    compare = cli("compare", panel_csv, "--id-col", "site", *flags, "--steps", 4, "--jobs", 1)
    assert compare.exit_code == 0, compare.output
    forecasts = pd.read_csv(tmp_path / "comparison" / "forecasts.csv")
    assert list(forecasts.columns[:2]) == ["site", "time"]
    assert forecasts["site"].value_counts().to_dict() == {"north": 4, "south": 4, "east": 4}
    south = forecasts[forecasts["site"] == "south"]
    assert (south["seasonal naive"] > 900).all() and (south["bilstm:4:sum"] > 900).all()


def test_future_features_of_each_series_come_from_its_own_rows(cli, write_csv, tmp_path):
    frame = panel_frame().assign(price=lambda f: np.arange(len(f)) % 7)
    trained = cli(
        "train",
        write_csv("priced.csv", frame),
        "--id-col",
        "site",
        "--future-features",
        "price",
        *FAST,
        "--horizon",
        2,
    )
    assert trained.exit_code == 0, trained.output
    assert "pass --future-data FILE with columns price" in error_line(cli("predict", "--steps", 5))
    ahead = pd.DataFrame({"site": ["north", "south", "east"] * 2, "price": range(6)})
    short = error_line(cli("predict", "--steps", 5, "--future-data", write_csv("ahead.csv", ahead)))
    assert (
        "has 2 rows for series 'north'; forecasting 5 steps needs the future features for 6"
        in short
    )
    future = write_csv("ahead.csv", pd.concat([ahead] * 3))
    result = cli("predict", "--steps", 5, "--future-data", future, "--no-plot")
    assert result.exit_code == 0, result.output
    forecast = pd.read_csv(tmp_path / "forecast.csv")
    assert forecast["site"].value_counts().to_dict() == {"north": 5, "south": 5, "east": 5}


def test_many_series_load_without_a_mask_per_series(write_csv):
    """3,000 series of 5 rows: one boolean mask per series would hold 45 million cells."""
    import tracemalloc

    frame = pd.DataFrame(
        {
            "site": np.repeat([f"s{i}" for i in range(3000)], 5),
            "time": np.tile(pd.date_range("2026-01-01", periods=5, freq="D"), 3000),
            "load": np.arange(15000.0),
        }
    )
    path = write_csv("many.csv", frame)
    tracemalloc.start()
    panel = load_panel(path, DataConfig(id_col="site"))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert len(panel) == 3000 and panel[-1].values[-1, 0] == 14999
    assert peak < 30e6, peak


def test_a_long_file_without_id_col_is_told_to_name_the_column(cli, panel_csv, sites_model):
    """Repeated timestamps that a text column tells apart are series, not repeats to add up.
    Both ways out train: ``sites_model`` is the first, --id-col site."""
    assert error_line(cli("train", panel_csv)) == (
        f"Error: Time column 'time' in {panel_csv} repeats timestamps that column 'site' tells "
        "apart: the file holds 3 series, one per 'site'. Forecast each with --id-col site (or "
        "combine them into one series with --aggregate sum, mean or last)."
    )
    combined = cli("train", panel_csv, *FAST, "--aggregate", "sum", "--model-dir", "sum")
    assert combined.exit_code == 0, combined.output
