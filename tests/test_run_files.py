"""Run files (``--config``, ``run.toml``) and the epoch logs (``--log-format json``,
``--tensorboard``): each command's run file repeats its run from another directory, to
the same scores; the logs hold each network's losses per epoch, those of history.csv."""

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import FAST, error_line, invoke, json_lines, sine_frame, tensorboard_losses

LOGS = ["--log-format", "json", "--tensorboard", "tb"]


def settings(run_file) -> dict:
    """A run file's keys and values, without its header (which names the command)."""
    return tomllib.loads(run_file.read_text())


def resolved(run_file, paths=("data", "tensorboard")) -> dict:
    """``settings``, the keys ``paths`` made absolute from the file's folder."""
    values = settings(run_file)
    for key in paths:
        values[key] = os.path.normpath(run_file.parent / values[key])
    return values


def history(model_dir) -> pd.DataFrame:
    """A model's history.csv, every float read back to the bit."""
    return pd.read_csv(model_dir / "history.csv", float_precision="round_trip")


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One training with its logs, from the folder ``first``: (root, the CLI result)."""
    root = tmp_path_factory.mktemp("run")
    sine_frame().to_csv(root / "sine.csv", index=False)
    (root / "first").mkdir()
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root / "first")
        result = invoke("train", "../sine.csv", *FAST, "--seed", 7, "--model-dir", "m", *LOGS)
    assert result.exit_code == 0, result.output
    return root, result


def test_train_writes_every_resolved_flag_with_paths_relative_to_it(trained):
    root, _ = trained
    text = (root / "first" / "m" / "run.toml").read_text()
    assert text.startswith("# Run file of forecast ")
    assert "#   forecast train ../sine.csv --layers lstm:4 --epochs 2" in text
    values = settings(root / "first" / "m" / "run.toml")
    assert values["data"] == "../../sine.csv" and values["model-dir"] == "."
    assert values["tensorboard"] == "../tb"
    assert values["seed"] == 7 and values["epochs"] == 2 and values["layers"] == "lstm:4"
    assert values["batch-size"] == 16 and values["patience"] == 10  # a default, resolved
    assert "# horizon = (not set)" in text and "horizon" not in values  # settled from the data


def test_a_run_file_repeats_the_training_from_another_folder(trained, tmp_path, monkeypatch):
    """Flags beside --config override the file's (--model-dir), the file's override the
    defaults (epochs, seed): the same seed gives the same network, to the bit."""
    root, _ = trained
    monkeypatch.chdir(tmp_path)
    again = invoke("train", "--config", root / "first" / "m" / "run.toml", "--model-dir", "m2")
    assert again.exit_code == 0, again.output
    assert resolved(tmp_path / "m2" / "run.toml") == resolved(root / "first" / "m" / "run.toml")
    first = json.loads((root / "first" / "m" / "forecast.json").read_text())
    second = json.loads((tmp_path / "m2" / "forecast.json").read_text())
    assert (
        second["metrics"] == first["metrics"]
        and second["data"]["sha256"] == first["data"]["sha256"]
    )
    pd.testing.assert_frame_equal(
        history(tmp_path / "m2"), history(root / "first" / "m"), check_exact=True
    )


def test_json_lines_and_tensorboard_hold_the_losses_of_history_csv(trained):
    root, result = trained
    losses = history(root / "first" / "m")
    lines = json_lines(result)
    assert [line["epoch"] for line in lines] == [1, 2]
    for line, row in zip(lines, losses.itertuples(), strict=True):
        assert line["event"] == "epoch" and line["candidate"] == "network"
        assert line["fold"] is None and line["seed"] == 7 and line["seconds"] > 0
        assert (line["loss"], line["val_loss"]) == (row.loss, row.val_loss)
    assert "Model saved" in result.stdout  # the report stays on stdout
    tb = root / "first" / "tb" / "network"
    for split, column in (("train", "loss"), ("validation", "val_loss")):
        logged = tensorboard_losses(tb / split)
        assert list(logged) == [1, 2]
        np.testing.assert_allclose(list(logged.values()), losses[column], rtol=1e-7)


def test_predict_writes_a_run_file_beside_its_csv_that_repeats_it(trained, tmp_path, monkeypatch):
    root, _ = trained
    monkeypatch.chdir(tmp_path)
    model = root / "first" / "m"
    first = invoke("predict", "--model", model, "--steps", 3, "--out", "f.csv", "--no-plot")
    assert first.exit_code == 0, first.output
    assert settings(tmp_path / "f.run.toml")["steps"] == 3
    (tmp_path / "other").mkdir()
    monkeypatch.chdir(tmp_path / "other")
    again = invoke("predict", "--config", "../f.run.toml", "--out", "g.csv")
    assert again.exit_code == 0, again.output
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "f.csv"), pd.read_csv("g.csv"))
    assert not (tmp_path / "other" / "forecast.png").exists()  # the file's --no-plot


def test_compare_run_file_repeats_it_and_json_keeps_stdout_and_stderr_apart(cli, sine_csv):
    """With --json as well, stdout holds only the JSON object and stderr only JSON lines."""
    flags = [*FAST, "--horizon", 1, "--baselines", "naive", "--combine", "none"]
    first = cli("compare", sine_csv, *flags, "--out-dir", "a", "--json", "--log-format", "json")
    assert first.exit_code == 0, first.output
    assert len(first.stdout.splitlines()) == 1 and json.loads(first.stdout)["rows"]
    assert [(line["candidate"], line["epoch"]) for line in json_lines(first)] == [
        ("lstm:4", 1),
        ("lstm:4", 2),
    ]
    again = cli("compare", "--config", "a/run.toml", "--out-dir", "b")
    assert again.exit_code == 0, again.output
    assert settings(Path("b/run.toml")) == settings(Path("a/run.toml"))
    scores = [pd.read_csv(f"{d}/comparison.csv").drop(columns="train_seconds") for d in "ab"]
    pd.testing.assert_frame_equal(*scores)


def test_backtest_run_file_repeats_its_folds(cli, sine_csv, tmp_path):
    flags = ["--folds", 1, "--steps", 4, *FAST, "--baselines", "naive", "--intervals", "none"]
    flags += ["--combine", "none"]
    first = cli("backtest", sine_csv, *flags, "--out", "bt.csv", "--plot", "bt.png")
    assert first.exit_code == 0, first.output
    assert "Run file: bt.run.toml" in first.stdout
    values = settings(tmp_path / "bt.run.toml")
    assert values["folds"] == 1 and values["out"] == "bt.csv" and values["intervals"] == "none"
    again = cli("backtest", "--config", "bt.run.toml", "--out", "again.csv")
    assert again.exit_code == 0, again.output
    pd.testing.assert_frame_equal(pd.read_csv("bt.csv"), pd.read_csv("again.csv"))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("epoch = 3", "run.toml: unknown key 'epoch'; did you mean 'epochs'?"),
        ("model_dirr = 'x'", "run.toml: unknown key 'model_dirr'; did you mean 'model-dir'?"),
        ('epochs = "ten"', 'run.toml: epochs = "ten": Input should be a valid integer'),
        ("epochs = 0", "run.toml: epochs = 0: Input should be greater than or equal to 1."),
        ("anchor = 'up'", "run.toml: anchor = \"up\": 'up' is not one of 'auto', 'none'"),
        ('layers = ["lstm:4"]', 'layers = ["lstm:4"]: a list, but --layers takes one value.'),
        ("[training]\nepochs = 3", "run.toml: [training] is a table; give each flag as a key"),
        ("epochs =", "run.toml: not a TOML file (Invalid value (at line 1, column 9))"),
    ],
)
def test_a_bad_run_file_is_one_error_naming_the_file_and_key(cli, sine_csv, content, message):
    with open("run.toml", "w") as file:
        file.write(content + "\n")
    assert message in error_line(cli("train", sine_csv, "--config", "run.toml"))


def test_a_run_file_gives_lists_and_flags_their_toml_types(cli, tmp_path, write_csv):
    """A repeatable flag takes a TOML list, an on/off flag a boolean; a data file named in
    the file is read from the file's folder."""
    frame = sine_frame().assign(other=1.0)
    write_csv("two.csv", frame)
    (tmp_path / "runs").mkdir()
    (tmp_path / "runs" / "run.toml").write_text(
        'data = "../two.csv"\ntarget = ["value", "nope"]\ncalendar = true\n'
    )
    result = cli("train", "--config", "runs/run.toml")
    assert "Column 'nope' is not in two.csv" in error_line(result)


def test_event_files_are_written_without_the_tensorboard_package(tmp_path):
    # TensorFlow does not install tensorboard; tf.summary.scalar would need it.
    script = (
        "import sys; sys.modules['tensorboard'] = None\n"
        "from pathlib import Path\n"
        "from forecast_cli.epoch_log import Epoch\n"
        "from forecast_cli.tensorboard_log import TensorBoardLog\n"
        "log = TensorBoardLog(Path(sys.argv[1]))\n"
        "for epoch in (1, 2):\n"
        "    log.write(Epoch('net', 'network', None, 42, epoch, 0.5 / epoch, 0.25, 0.1))\n"
        "log.close()\n"
    )
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path)], capture_output=True)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    assert tensorboard_losses(tmp_path / "network" / "train") == {1: 0.5, 2: 0.25}
    assert tensorboard_losses(tmp_path / "network" / "validation") == {1: 0.25, 2: 0.25}
