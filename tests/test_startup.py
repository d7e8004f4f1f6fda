"""The command line answers before any heavy import, and TensorFlow stays quiet."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("tensorflow", "keras", "matplotlib", "pandas", "ray")
FORECAST = str(Path(sys.executable).with_name("forecast"))


def modules_loaded_by(args: list[str]) -> tuple[int, list[str]]:
    """Run the CLI in a fresh interpreter; return its exit code and the heavy modules loaded."""
    code = (
        "import sys\n"
        "from forecast_cli.cli import app\n"
        "try:\n"
        f"    app({args!r})\n"
        "except SystemExit as exit:\n"
        f"    heavy = [m for m in {HEAVY!r} if m in sys.modules]\n"
        "    print('RESULT', exit.code, heavy, file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    result = done.stderr.strip().splitlines()[-1].split(" ", 2)
    return int(result[1]), eval(result[2])


def test_importing_the_cli_loads_nothing_heavy():
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            f"import sys, forecast_cli.cli; print([m for m in {HEAVY!r} if m in sys.modules])",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == "[]"


def test_help_and_argument_errors_answer_without_heavy_imports():
    assert modules_loaded_by(["--help"]) == (0, [])
    assert modules_loaded_by(["train", "--help"]) == (0, [])
    assert modules_loaded_by(["predict", "--steps", "0"]) == (2, [])
    assert modules_loaded_by(["train", "data.csv", "--layers", "bilstm:5:max"]) == (2, [])


@pytest.mark.parametrize(
    "command",
    # in this process: worker processes would import TensorFlow there, not here
    [["train"], ["compare", "--jobs", "1"], ["backtest", "--jobs", "1"]],
)
def test_a_missing_file_is_refused_before_tensorflow_is_imported(command):
    """A mistyped path is answered at once, not after TensorFlow's import (seconds)."""
    status, heavy = modules_loaded_by([*command, "missing.csv"])
    assert status == 2 and not {"tensorflow", "keras"} & set(heavy), heavy


@pytest.mark.slow
def test_the_console_script_prints_a_clean_error_and_tensorflow_stays_silent(tmp_path):
    done = subprocess.run(
        [FORECAST, "predict", "--model", str(tmp_path / "none")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("Error: Model directory") and done.stderr.count("\n") == 1
    (tmp_path / "s.csv").write_text("value\n" + "\n".join(str(i % 7) for i in range(60)))
    done = subprocess.run(
        [
            FORECAST,
            "train",
            "s.csv",
            "--layers",
            "lstm:2",
            "--epochs",
            "1",
            "--lookback",
            "5",
            "--json",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1])["epochs_run"] == 1
    for noise in ("oneDNN", "cuda", "absl", "cpu_feature_guard", "WARNING"):
        assert noise not in done.stderr, done.stderr
    # without TensorFlow too, the process ends only after its output is all out
    done = subprocess.run(
        [FORECAST, "predict", "--steps", "4", "--json"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert len(json.loads(done.stdout.splitlines()[-1])["forecast"]) == 4
    assert (tmp_path / "forecast.csv").read_text().count("\n") == 5
