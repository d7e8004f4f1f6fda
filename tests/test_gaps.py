"""Gaps a review found, tested through the command line only: --loss and the dropout
flags change training and are recorded, compare --head both, backtest --intervals none,
backtest baseline scores checked by value, the exit-1 path of an unexpected error, and
error lines that name the flag, column or file that is wrong.

Only the public CLI is imported (``forecast_cli.cli.app``), so these tests hold while the
package's internals move. Runs that several tests read are made once per module, with
absolute output paths: the module's runner does not change directory.
"""

import json

import numpy as np
import pandas as pd
import pytest
from conftest import FAST, IN_PROCESS, error_line, sine_frame
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from forecast_cli.cli import app

SEED = ["--seed", "3"]
ONE = [*FAST, "--anchor", "none"]
SEASON = 20  # sine_frame's period
# Two folds of 4 steps on 160 rows: cut-offs at rows 152 and 156 (0-based).
BACKTEST = ["--folds", "2", "--steps", "4", "--season", str(SEASON), "--jobs", "1", *ONE]


def last_json(result) -> dict:
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def run():
    """``forecast ARGS...`` in-process, without changing directory: pass absolute paths."""
    runner = CliRunner()

    def invoke(*args):
        return runner.invoke(app, [str(a) for a in args], default_map=IN_PROCESS)

    return invoke


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    return tmp_path_factory.mktemp("gaps")


@pytest.fixture(scope="module")
def data(out):
    path = out / "sine.csv"
    sine_frame().to_csv(path, index=False)
    return path


# ---------------------------------------------------------------- 1, 2: --loss, dropout

# A large step, so that two epochs move the weights far enough for the flags to show.
QUICK = ["--learning-rate", "0.05"]
VARIANTS = {
    "mae": [],  # the default loss, no dropout: what the others are compared with
    "mse": ["--loss", "mse"],
    "huber": ["--loss", "huber"],
    "dropout": ["--dropout", "0.3"],
    "recurrent_dropout": ["--recurrent-dropout", "0.3"],
}


@pytest.fixture(scope="module")
def trained(run, data, out):
    """``trained(name)``: the ``--json`` summary and the saved card of ``train`` with the
    flags ``VARIANTS[name]``, one seed for all; each variant trains once, when first used."""
    done = {}

    def get(name: str) -> tuple[dict, dict]:
        if name not in done:
            model_dir = out / f"model-{name}"
            flags = [*ONE, *SEED, *QUICK, *VARIANTS[name], "--model-dir", model_dir, "--json"]
            result = run("train", data, *flags)
            assert result.exit_code == 0, result.output
            summary = last_json(result)
            assert summary["model_dir"] == str(model_dir)
            done[name] = (summary, json.loads((model_dir / "forecast.json").read_text()))
        return done[name]

    return get


@pytest.mark.parametrize("loss", ["mse", "huber"])
def test_the_loss_is_recorded_and_changes_training(trained, loss):
    summary, card = trained(loss)
    plain, plain_card = trained("mae")
    assert card["training"]["loss"] == loss
    assert plain_card["training"]["loss"] == "mae"  # the default
    assert card["training"]["seed"] == plain_card["training"]["seed"] == 3
    assert summary["val_mae"] == pytest.approx(card["metrics"]["val_mae"])
    assert summary["epochs_run"] == 2 and 0 < summary["val_mae"] <= summary["val_rmse"]
    # Same seed, same data, same network: only the loss differs, and so does the score
    # (by a few percent; a flag that changed nothing would give the very same number).
    assert summary["val_mae"] != pytest.approx(plain["val_mae"], rel=1e-3)


@pytest.mark.parametrize(
    ("variant", "other"), [("dropout", "recurrent_dropout"), ("recurrent_dropout", "dropout")]
)
def test_dropout_is_recorded_and_changes_training(trained, variant, other):
    summary, card = trained(variant)
    plain, plain_card = trained("mae")
    assert card["model"][variant] == pytest.approx(0.3)
    assert card["model"][other] == 0.0
    assert plain_card["model"]["dropout"] == plain_card["model"]["recurrent_dropout"] == 0.0
    assert card["training"]["loss"] == "mae"
    assert summary["val_mae"] == pytest.approx(card["metrics"]["val_mae"])
    assert summary["val_mae"] != pytest.approx(plain["val_mae"], rel=1e-3)
    assert summary["val_rmse"] != pytest.approx(plain["val_rmse"], rel=1e-3)


def test_dropout_is_off_when_forecasting(run, out, trained):
    """Dropout acts in training only: the same model forecasts the same values twice."""
    trained("dropout")
    forecasts = []
    for name in ("a", "b"):
        target = out / f"dropout-forecast-{name}.csv"
        result = run(
            "predict", "--model", out / "model-dropout", "--steps", 5, "--no-plot", "--out", target
        )
        assert result.exit_code == 0, result.output
        forecasts.append(pd.read_csv(target))
    assert len(forecasts[0]) == 5 and forecasts[0]["value"].notna().all()
    pd.testing.assert_frame_equal(forecasts[0], forecasts[1])


# ---------------------------------------------------------------- 3: compare --head both


@pytest.fixture(scope="module")
def both_heads(run, data, out):
    target = out / "compare-both"
    flags = ["--layers", "lstm:4", "--head", "both", "--season", SEASON, *ONE[2:]]
    result = run("compare", data, *flags, "--jobs", 1, "--out-dir", target, "--json")
    assert result.exit_code == 0, result.output
    return last_json(result), target


def test_compare_both_heads_has_a_row_per_candidate_and_head(both_heads):
    payload, target = both_heads
    table = pd.read_csv(target / "comparison.csv")
    heads = dict(zip(table["name"], table["head"], strict=True))
    assert len(table) == 6
    assert heads == {
        "lstm:4 m2o": "many-to-one",
        "lstm:4 m2m": "many-to-many",
        "naive": "-",
        "seasonal naive": "-",
        "AutoETS": "-",
        "AutoTheta": "-",
    }
    networks = table[table["params"] > 0]
    assert set(networks["name"]) == {"lstm:4 m2o", "lstm:4 m2m"}
    assert (networks["layers"] == "lstm:4").all() and (networks["epochs_run"] == 2).all()
    assert table["val_rmse"].is_monotonic_increasing and table["rank"].tolist() == [
        1,
        2,
        3,
        4,
        5,
        6,
    ]
    assert [row["name"] for row in payload["rows"]] == table["name"].tolist()

    forecasts = pd.read_csv(target / "forecasts.csv")
    assert set(forecasts.columns[1:]) == set(heads) and len(forecasts) == 20
    # Two different networks, not one reported twice.
    assert not np.allclose(forecasts["lstm:4 m2o"], forecasts["lstm:4 m2m"], rtol=0, atol=1e-7)
    values = sine_frame()["value"].to_numpy()
    np.testing.assert_allclose(forecasts["seasonal naive"], values[-SEASON:], rtol=1e-6)
    assert sorted(p.name for p in (target / "models").iterdir()) == ["lstm-4_m2m", "lstm-4_m2o"]
    card = json.loads((target / "models" / "lstm-4_m2m" / "forecast.json").read_text())
    assert card["model"]["head"] == "many-to-many"


# ---------------------------------------------------------------- 4, 5: backtest


@pytest.fixture(scope="module")
def backtests(run, data, out):
    """Scores table and --json payload of the default backtest (--intervals 80,95) and
    of the same one with --intervals none."""
    runs = {}
    for name, extra in (("default", []), ("none", ["--intervals", "none"])):
        scores, picture = out / f"backtest-{name}.csv", out / f"backtest-{name}.png"
        flags = [*BACKTEST, *extra, "--out", scores, "--plot", picture, "--json"]
        result = run("backtest", data, *flags)
        assert result.exit_code == 0, result.output
        assert picture.read_bytes()[:4] == b"\x89PNG"
        runs[name] = (pd.read_csv(scores), last_json(result))
    return runs


def test_intervals_none_leaves_out_the_coverage_columns(backtests):
    table, payload = backtests["none"]
    default, default_payload = backtests["default"]
    assert list(table.columns) == ["fold", "cutoff", "method", "mae", "rmse", "smape", "mase"]
    assert not any("coverage" in key for row in payload["scores"] for key in row)
    assert list(default.columns) == [*table.columns, "coverage_80", "coverage_95"]
    model = default["method"] == "model"
    assert default.loc[model, "fold"].astype(str).tolist() == ["1", "2", "all"]
    for level in ("coverage_80", "coverage_95"):
        assert default.loc[model, level].between(0, 100).all()
        assert default.loc[~model, level].isna().all()
    assert all(
        row["coverage_80"] is None and row["coverage_95"] is None
        for row in default_payload["scores"]
        if row["method"] != "model"
    )
    # The intervals only add columns: the same seed trains the same folds.
    pd.testing.assert_frame_equal(default[table.columns], table)


def test_backtest_baseline_scores_are_the_ones_computed_by_hand(backtests):
    _, payload = backtests["default"]
    assert payload["season"] == SEASON
    values = sine_frame()["value"].to_numpy()
    steps = 4
    by_fold = {}
    for row in payload["scores"]:
        by_fold.setdefault(str(row["fold"]), {})[row["method"]] = row
    assert sorted(by_fold) == ["1", "2", "all"]
    maes = {"naive": [], "seasonal naive": []}
    for fold, cutoff in (("1", 153), ("2", 157)):
        rows = by_fold[fold]
        assert {row["cutoff"] for row in rows.values()} == {cutoff}  # 1-based first row
        first = cutoff - 1  # 0-based index of the first forecast row
        actual, history = values[first : first + steps], values[:first]
        naive = np.full(steps, history[-1])
        seasonal = history[-SEASON:][np.arange(steps) % SEASON]  # the last whole season
        scale = np.mean(np.abs(history[SEASON:] - history[:-SEASON]))  # in-sample, season 20
        for method, forecast in (("naive", naive), ("seasonal naive", seasonal)):
            mae = np.mean(np.abs(actual - forecast))
            assert rows[method]["mae"] == pytest.approx(mae, rel=1e-5), (fold, method)
            rmse = np.sqrt(np.mean((actual - forecast) ** 2))
            assert rows[method]["rmse"] == pytest.approx(rmse, rel=1e-5), (fold, method)
            assert rows[method]["mase"] == pytest.approx(mae / scale, rel=1e-5), (fold, method)
            maes[method].append(mae)
    for method, per_fold in maes.items():  # folds of equal length: the mean of the two
        assert by_fold["all"][method]["mae"] == pytest.approx(np.mean(per_fold), rel=1e-5)
        assert by_fold["all"][method]["cutoff"] is None
    assert by_fold["1"]["naive"]["mae"] != pytest.approx(by_fold["1"]["seasonal naive"]["mae"])


# ---------------------------------------------------------------- 6: unexpected errors


@pytest.mark.parametrize(
    ("command", "extra"), [("train", []), ("backtest", ["--jobs", 1]), ("compare", ["--jobs", 1])]
)
def test_an_unexpected_error_exits_1_with_one_line(
    cli, sine_csv, tmp_path, monkeypatch, command, extra
):
    """A bug (here: pandas.read_csv, which the loader calls, raising) is not a usage error:
    status 1, one line that says so, and the traceback only with --debug."""

    def boom(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(pd, "read_csv", boom)
    result = cli(command, sine_csv, *FAST, *extra)
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: unexpected RuntimeError: boom"), lines[0]
    assert "--debug" in lines[0]
    assert "Traceback" not in result.output

    debug = cli(command, sine_csv, *FAST, *extra, "--debug")
    assert debug.exit_code == 1, debug.output
    assert "Traceback (most recent call last)" in debug.stderr
    assert "RuntimeError: boom" in debug.stderr
    assert debug.stderr.strip().splitlines()[-1] == lines[0]
    assert [p.name for p in tmp_path.iterdir()] == ["sine.csv"]  # nothing written


# ---------------------------------------------------------------- 7: errors name the cause

COMMANDS = ["train", "backtest", "compare"]
INT_FLAGS = {
    "train": ["--lookback", "--horizon", "--epochs", "--batch-size", "--patience", "--season"],
    "backtest": ["--lookback", "--epochs", "--batch-size", "--folds", "--steps", "--season"],
    "compare": ["--lookback", "--epochs", "--patience", "--repeats", "--steps", "--season"],
}
COLUMN_FLAGS = {
    "train": ["--target", "--features", "--future-features", "--time-col", "--id-col"],
    "backtest": ["--target", "--features", "--future-features", "--time-col"],
    "compare": ["--target", "--features", "--time-col", "--id-col"],
}
CELLS = ["lstm", "gru", "rnn", "bilstm", "bigru", "birnn"]
MERGES = ["concat", "sum", "mul", "ave"]
LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _outputs(command: str, directory) -> list:
    """Output paths inside ``directory``, so that a run that wrongly succeeded writes
    nothing elsewhere."""
    return {
        "train": ["--model-dir", directory / "m"],
        "backtest": ["--out", directory / "b.csv", "--plot", directory / "b.png"],
        "compare": ["--out-dir", directory / "c", "--jobs", 1],
    }[command]


@st.composite
def layer(draw) -> str:
    return f"{draw(st.sampled_from(CELLS))}:{draw(st.integers(1, 64))}"


@st.composite
def bad_layers(draw) -> str:
    """A --layers spec with exactly one thing wrong, among valid layers."""
    kind = draw(st.sampled_from(["cell", "units", "merge", "unidirectional", "empty", "parts"]))
    cell, units = draw(st.sampled_from(CELLS)), draw(st.integers(1, 64))
    if kind == "cell":
        name = draw(st.text(LETTERS, min_size=1, max_size=6).filter(lambda c: c not in CELLS))
        bad = f"{name}:{units}"
    elif kind == "units":
        bad = f"{cell}:{draw(st.sampled_from(['0', '-1', '-40', 'x', '1.5', '', '4u']))}"
    elif kind == "merge":
        merge = draw(st.text(LETTERS, min_size=1, max_size=6).filter(lambda m: m not in MERGES))
        bad = f"bi{cell.removeprefix('bi')}:{units}:{merge}"
    elif kind == "unidirectional":
        bad = f"{cell.removeprefix('bi')}:{units}:{draw(st.sampled_from(MERGES))}"
    elif kind == "empty":
        bad = ""
    else:
        bad = f"{cell}:{units}:sum:{draw(st.sampled_from(['x', 'sum', '1']))}"
    before = draw(st.lists(layer(), max_size=2))
    after = draw(st.lists(layer(), max_size=2))
    return ",".join([*before, bad, *after])


KINDS = ["below", "not a number", "too long", "layers", "column", "file"]


@st.composite
def bad_command_lines(draw, kind: str, directory) -> tuple[list, str]:
    """A command line with one thing wrong, of ``kind``, and what its error line must name."""
    command = draw(st.sampled_from(COMMANDS))
    data = directory / "sine.csv"
    fast = ["--layers", "lstm:2", "--epochs", "1", "--lookback", "4"]
    if kind == "below":  # below the flag's minimum
        flag = draw(st.sampled_from(INT_FLAGS[command]))
        value = str(draw(st.integers(-(10**6), 0)))
        return [command, data, *fast, flag, value], f"'{flag}'"
    if kind == "not a number":
        flag = draw(st.sampled_from(INT_FLAGS[command]))
        value = draw(
            st.sampled_from(["x", "1.5", "ten", "2e3", "1,5", "0x10", "½", "4 5"])
            | st.text(LETTERS + ".", min_size=1, max_size=5)
        )
        return [command, data, *fast, flag, value], f"'{flag}'"
    if kind == "too long":  # a window longer than the 160 rows: the data error names it
        flag = draw(st.sampled_from(["--lookback", "--horizon"]))
        value = str(draw(st.integers(161, 10**6)))
        args = [command, data, "--layers", "lstm:2", "--epochs", "1", flag, value]
        return args, f"{flag} {value}"
    if kind == "layers":
        return [command, data, *fast, "--layers", draw(bad_layers())], "--layers"
    if kind == "column":
        flag = draw(st.sampled_from(COLUMN_FLAGS[command]))
        name = draw(
            st.text(LETTERS + "XYZ_09é ", min_size=1, max_size=8)
            .map(str.strip)
            .filter(lambda n: n and n not in ("value", "timestamp"))
        )
        return [command, data, *fast, flag, name], f"'{name}'"
    assert kind == "file"
    suffix = draw(st.sampled_from([".csv", ".csv.gz", ".parquet", ".tsv", ""]))
    missing = directory / "absent" / f"{draw(st.text(LETTERS, min_size=1, max_size=8))}{suffix}"
    return [command, missing, *fast], str(missing)


@pytest.mark.parametrize("kind", KINDS)
@settings(max_examples=4, deadline=None, derandomize=True)
@given(case=st.data())
def test_every_error_line_names_the_flag_column_or_file(run, data, kind, case):
    """Generated bad command lines of each kind, on train, backtest and compare: one
    Error: line with status 2 that names the flag, the column or the file (4 x 6 cases)."""
    args, named = case.draw(bad_command_lines(kind, data.parent))
    line = error_line(run(*args, *_outputs(args[0], data.parent)))
    assert named in line, (args, line)
    assert not any((data.parent / name).exists() for name in ("m", "c", "b.csv", "b.png"))


def test_predict_errors_name_the_model_directory_and_the_data_file(run, out, trained):
    trained("mae")
    missing = out / "absent" / "model"
    assert str(missing) in error_line(run("predict", "--model", missing))
    data = out / "absent" / "newer.csv"
    line = error_line(run("predict", "--model", out / "model-mae", "--data", data))
    assert line.startswith(f"Error: {data}: no such file.")


@pytest.mark.parametrize("command", COMMANDS)
def test_a_season_longer_than_the_data_is_named_when_it_is_refused(run, data, out, command):
    """Run, or refuse naming the flag given: the season of 500 steps, on 160 rows."""
    flags = ["--layers", "lstm:2", "--epochs", "1", "--season", "500"]
    flags += ["--folds", "1", "--steps", "4"] if command == "backtest" else []
    outputs = out / f"season-{command}"
    outputs.mkdir()  # backtest's --out and --plot go into a folder that exists
    result = run(command, data, *flags, *_outputs(command, outputs))
    if result.exit_code != 0:
        line = error_line(result)
        assert "--season" in line and "--lookback 500" not in line, line
    else:  # the window cannot hold the season, so auto starts from the last value, and says why
        assert "Anchor: linear, from the last value (--season 500 is longer than a window of" in (
            result.output
        )


def test_a_seasonal_anchor_longer_than_the_data_names_the_season(run, data, out):
    result = run("train", data, "--anchor", "seasonal", "--season", "500", "--epochs", "1")
    assert error_line(result).startswith("Error: --anchor seasonal repeats the window's last")
    assert "pass a shorter --season" in error_line(result)
