"""``forecast compare`` end to end, through the CLI."""

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import (
    error_line,
    flat,
    invoke,
    json_lines,
    made_once,
    sine_frame,
    tensorboard_losses,
)

from forecast_cli.artifacts import load_model_dir
from forecast_cli.compare_run import alike_note

SMALL = ["--epochs", "2", "--lookback", "8", "--batch-size", "16", "--season", "20"]
SMALL += ["--horizon", "1"]
# Two merge modes of one spec, plus a plain LSTM: three candidates.
THREE = ["--merge-modes", "sum,ave", "--layers", "bilstm:4", "--layers", "lstm:4", *SMALL]


def compare_three(root: Path) -> dict:
    sine_frame().to_csv(root / "sine.csv", index=False)
    logs = ["--tensorboard", root / "tb"]
    out = ["--out-dir", root / "comparison"]
    result = invoke("compare", root / "sine.csv", *THREE, "--jobs", 1, *out, "--json", *logs)
    assert result.exit_code == 0, result.output
    assert "--merge-modes do not apply to lstm:4: no bidirectional layer" in flat(result.stderr)
    return json.loads(result.stdout.splitlines()[-1])


@pytest.fixture(scope="module")
def compared(tmp_path_factory):
    """The three candidates compared once in the run, read by several tests."""
    root, payload = made_once(tmp_path_factory, "compared", compare_three)
    return payload, root / "comparison"


def test_compare_writes_table_forecasts_pictures_and_models(compared):
    payload, out = compared
    names = [row["name"] for row in payload["rows"]]
    assert sorted(names) == sorted(
        [
            "bilstm:4:sum",
            "bilstm:4:ave",
            "lstm:4",
            "naive",
            "seasonal naive",
            "AutoETS",
            "AutoTheta",
        ]
    )
    rmses = [row["val_rmse"] for row in payload["rows"]]
    assert rmses == sorted(rmses) and [row["rank"] for row in payload["rows"]] == [
        1,
        2,
        3,
        4,
        5,
        6,
        7,
    ]

    table = pd.read_csv(out / "comparison.csv")
    assert list(table.columns) == [
        "name",
        "layers",
        "merge_mode",
        "head",
        "combined",
        "params",
        "epochs_run",
        "train_seconds",
        "val_mae",
        "val_rmse",
        "val_smape",
        "val_mase",
        "val_rmse_sd",
        "rank",
    ]
    networks = table[table["params"] > 0].set_index("name")
    assert networks.loc["bilstm:4:sum", "merge_mode"] == "sum"
    assert networks.loc["lstm:4", "merge_mode"] == "-"
    assert (networks["epochs_run"] == 2).all() and (networks["head"] == "many-to-one").all()
    assert set(table.loc[table["params"] == 0, "combined"]) == {"-"}  # the baselines
    assert networks["combined"].str.fullmatch(r"none|(AutoETS|AutoTheta)( \+ AutoTheta)?").all()

    forecasts = pd.read_csv(out / "forecasts.csv")
    assert forecasts.columns[0] == "timestamp" and set(forecasts.columns[1:]) == set(names)
    assert len(forecasts) == 20
    frame = sine_frame()
    np.testing.assert_allclose(forecasts["naive"], frame["value"].iloc[-1], rtol=1e-6)
    np.testing.assert_allclose(forecasts["seasonal naive"], frame["value"].iloc[-20:], rtol=1e-6)

    for picture in ("compare-grid.png", "compare-overlay.png"):
        assert (out / picture).read_bytes()[:4] == b"\x89PNG"
    model_dirs = sorted(p.name for p in (out / "models").iterdir())
    assert model_dirs == ["bilstm-4-ave", "bilstm-4-sum", "lstm-4"]
    _, card = load_model_dir(out / "models" / "lstm-4")
    assert card.metrics["val_rmse"] == pytest.approx(networks.loc["lstm:4", "val_rmse"])


def test_baselines_are_scored_on_the_same_validation_windows(compared):
    payload, _ = compared
    values = sine_frame()["value"].to_numpy()
    val_rows = np.arange(128, 160)  # 160 rows, 20% validation, horizon 1
    naive_rmse = np.sqrt(np.mean((values[val_rows] - values[val_rows - 1]) ** 2))
    seasonal_rmse = np.sqrt(np.mean((values[val_rows] - values[val_rows - 20]) ** 2))
    rows = {row["name"]: row for row in payload["rows"]}
    assert rows["naive"]["val_rmse"] == pytest.approx(naive_rmse, rel=1e-5)
    assert rows["seasonal naive"]["val_rmse"] == pytest.approx(seasonal_rmse, rel=1e-5)


@pytest.mark.slow
def test_worker_processes_give_the_same_scores_and_logs(compared, cli, sine_csv, tmp_path):
    """Worker processes score as the one process did, even on data read from standard
    input, which cannot be read twice: the workers receive the loaded series. Their
    epochs are logged by this process, in the same TensorBoard files, as JSON lines."""
    payload, out = compared
    flags = [*THREE, "--jobs", 2, "--out-dir", "parallel", "--json"]
    logs = ["--tensorboard", "tb", "--log-format", "json"]
    result = cli("compare", "-", *flags, *logs, input=sine_csv.read_text())
    assert result.exit_code == 0, result.output
    parallel = {row["name"]: row for row in json.loads(result.stdout.splitlines()[-1])["rows"]}
    for row in payload["rows"]:
        assert parallel[row["name"]]["val_rmse"] == pytest.approx(row["val_rmse"], rel=1e-5)
        assert parallel[row["name"]]["epochs_run"] == row["epochs_run"]
    lines = json_lines(result)  # stderr holds nothing else
    names = {"bilstm:4:sum", "bilstm:4:ave", "lstm:4"}
    assert {line["candidate"] for line in lines} == names
    for slug in ("bilstm-4-sum", "bilstm-4-ave", "lstm-4"):
        for split in ("train", "validation"):
            alone = tensorboard_losses(out.parent / "tb" / slug / split)
            assert list(alone) == [1, 2]
            together = tensorboard_losses(tmp_path / "tb" / slug / split)
            assert list(together) == [1, 2]
            np.testing.assert_allclose(list(together.values()), list(alone.values()), rtol=1e-5)


def test_an_earlier_comparison_is_replaced_only_with_overwrite(compared, cli, sine_csv, tmp_path):
    shutil.copytree(compared[1], tmp_path / "comparison")  # the shared one stays as it was
    message = error_line(cli("compare", sine_csv, "--layers", "lstm:4", *SMALL))
    assert message == (
        "Error: --out-dir comparison holds the results of another run; pass --overwrite to "
        "replace them, or choose another --out-dir."
    )
    result = cli("compare", sine_csv, "--layers", "gru:3", *SMALL, "--overwrite")
    assert result.exit_code == 0, result.output
    table = pd.read_csv(tmp_path / "comparison" / "comparison.csv")
    assert set(table["name"]) == {"gru:3", "naive", "seasonal naive", "AutoETS", "AutoTheta"}
    assert [p.name for p in (tmp_path / "comparison" / "models").iterdir()] == ["gru-3"]


def test_a_directory_of_other_files_is_never_replaced(cli, sine_csv, tmp_path):
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "keep.txt").write_text("mine")
    message = error_line(cli("compare", sine_csv, *SMALL, "--out-dir", "notes", "--overwrite"))
    assert "--out-dir notes exists and does not hold a comparison" in message
    assert (tmp_path / "notes" / "keep.txt").read_text() == "mine"


def test_repeats_report_the_spread_across_seeds(cli, sine_csv):
    result = cli(
        "compare",
        sine_csv,
        "--layers",
        "lstm:3",
        "--layers",
        "gru:3",
        *SMALL,
        "--repeats",
        2,
        "--jobs",
        1,
        "--anchor",  # an anchored network that keeps its untrained epoch 0 is seed-free
        "none",
        "--json",
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout.splitlines()[-1])
    networks = [row for row in payload["rows"] if row["params"] > 0]
    assert all(row["val_rmse_sd"] > 0 for row in networks)
    (seeds,) = [note for note in payload["notes"] if "seed" in note]
    assert "spread across 2 seeds" in seeds


def test_candidates_that_score_alike_are_told_what_carries_their_forecasts(cli, sine_csv):
    """Anchored networks that learn nothing (the untrained epoch 0, their anchor, is
    kept) score alike."""
    flags = ["--layers", "lstm:3", "--layers", "gru:3", *SMALL, "--jobs", 1, "--combine"]
    flags += ["none", "--json", "--anchor", "linear", "--learning-rate", 1e-9]
    alike = cli("compare", sine_csv, *flags)
    assert json.loads(alike.stdout.splitlines()[-1])["notes"][-1] == (
        "The candidates' validation RMSE lie within 0.1% of each other: their anchor carries "
        "their forecasts; --anchor none compares the networks alone."
    )


@pytest.mark.parametrize(
    ("rmses", "anchored", "averaged", "said"),
    [
        ([0.1, 0.1001], True, True, "their anchor and the statistical models averaged in carry"),
        ([0.1, 0.1001], False, True, "the statistical models averaged in carry"),
        ([0.1, 0.1], False, False, None),  # nothing shared: the networks are alike
        ([0.1, 0.1002], True, True, None),  # 0.2% apart
        ([0.1], True, True, None),
    ],
)
def test_the_alike_note_names_only_what_every_candidate_shares(rmses, anchored, averaged, said):
    note = alike_note(rmses, anchored, averaged)
    assert note == [] if said is None else said in note[0]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--merge-modes", "sum,max"], "Error: --merge-modes: unknown merge mode 'max'"),
        (["--head", "sideways"], "Error: Invalid value for '--head': 'sideways' is not one of"),
        (
            ["--layers", "lstm:4", "--layers", "lstm:4"],
            "Error: --layers: the candidate lstm:4 (many-to-one) is given twice",
        ),
        (["--layers", "lstm:4:sum"], "Error: --layers: 'lstm:4:sum' names a merge mode"),
        (["--repeats", "0"], "Error: Invalid value for '--repeats'"),
    ],
)
def test_compare_errors(cli, sine_csv, args, message):
    assert error_line(cli("compare", sine_csv, *args)).startswith(message)


def test_compare_data_errors_are_the_same_as_train(cli, write_csv):
    short = write_csv("short.csv", sine_frame(rows=15))
    assert error_line(cli("compare", short)).startswith("Error: The series has 15 rows")


def test_seasonal_naive_repeats_the_period_the_anchor_found(cli, write_csv, tmp_path):
    """An hourly 30-step cycle: auto anchors on 30, and the baseline repeats 30, not 24."""
    frame = sine_frame(rows=300, period=30.0)
    data = write_csv("cycle.csv", frame)
    flags = ["--layers", "lstm:4", "--epochs", 1, "--horizon", 1, "--json"]
    result = cli("compare", data, *flags)
    assert result.exit_code == 0, result.output
    assert "the training rows repeat every 30 steps" in flat(result.stderr)
    values = frame["value"].to_numpy()
    val_rows = np.arange(240, 300)  # 300 rows, 20% validation, horizon 1
    expected = np.sqrt(np.mean((values[val_rows] - values[val_rows - 30]) ** 2))
    rows = {row["name"]: row for row in json.loads(result.stdout.splitlines()[-1])["rows"]}
    assert rows["seasonal naive"]["val_rmse"] == pytest.approx(expected, rel=1e-5)


def test_features_past_the_horizon_are_refused_not_guessed(cli, write_csv):
    frame = sine_frame()
    frame["load"] = np.cos(np.arange(len(frame)) / 5)
    data = write_csv("f.csv", frame)
    flags = ["--target", "value", "--features", "load", "--layers", "lstm:2", "--epochs", 1]
    assert error_line(cli("compare", data, *flags, "--horizon", 2)) == (
        "Error: With --features load, compare forecasts only as far as the network's "
        "--horizon (2), which is shorter than --steps 20: pass --steps 2 or --horizon 20."
    )
    assert cli("compare", data, *flags, "--horizon", 2, "--steps", 2).exit_code == 0
