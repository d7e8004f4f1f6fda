"""Real signals sent to a real ``forecast train`` process."""

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from forecast_cli.artifacts import load_model_dir

SINE = Path(__file__).parents[1] / "sample_data" / "sine.csv"
FORECAST = str(Path(sys.executable).with_name("forecast"))


def start_training(cwd: Path, *extra: str) -> subprocess.Popen:
    """Start a long training and return once its first epochs are under way."""
    process = subprocess.Popen(
        [
            FORECAST,
            "train",
            str(SINE),
            "--epochs",
            "1000",
            "--patience",
            "1000",
            "--layers",
            "lstm:8",
            "--json",
            *extra,
        ],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    for line in process.stderr:  # the report goes to stderr with --json
        if line.startswith("Network:"):
            break
    subprocess.run(["sleep", "3"])  # a few epochs of about 0.1 s each
    return process


def test_ctrl_c_stops_training_and_saves_the_best_weights(tmp_path):
    process = start_training(tmp_path)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr
    summary = json.loads(stdout.splitlines()[-1])
    assert 1 <= summary["epochs_run"] < 1000
    assert "Interrupted: keeping the weights of epoch" in stderr
    _, card = load_model_dir(tmp_path / "forecast-model")
    assert card.outcome["interrupted"] is True
    assert card.outcome["epochs_run"] == summary["epochs_run"]


@pytest.mark.parametrize("existing", [False, True])
def test_sigterm_abandons_the_run_and_keeps_the_previous_model(tmp_path, existing):
    if existing:
        done = subprocess.run(
            [FORECAST, "train", str(SINE), "--epochs", "1", "--layers", "lstm:2"],
            cwd=tmp_path,
            capture_output=True,
        )
        assert done.returncode == 0
        before = {p.name: p.read_bytes() for p in (tmp_path / "forecast-model").iterdir()}
    process = start_training(tmp_path)
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=60)
    assert process.returncode == 128 + signal.SIGTERM
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    if existing:
        after = {p.name: p.read_bytes() for p in (tmp_path / "forecast-model").iterdir()}
        assert after == before
        load_model_dir(tmp_path / "forecast-model")
    else:
        assert not (tmp_path / "forecast-model").exists()


@pytest.mark.parametrize(("signum", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_interrupted_compare_keeps_the_previous_comparison(tmp_path, signum, status):
    small = ["--layers", "lstm:2", "--layers", "gru:2", "--epochs"]
    done = subprocess.run(
        [FORECAST, "compare", str(SINE), *small, "1", "--anchor", "none"],
        cwd=tmp_path,
        capture_output=True,
    )
    assert done.returncode == 0, done.stderr
    out = tmp_path / "comparison"
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    process = subprocess.Popen(
        [FORECAST, "compare", str(SINE), *small, "1000", "--patience", "1000", "--overwrite"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    for line in process.stdout:  # the report goes to stdout without --json
        if line.startswith("Training"):
            break
    subprocess.run(["sleep", "4"])  # workers started and a few epochs in
    process.send_signal(signum)
    process.communicate(timeout=60)
    assert process.returncode == status
    after = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before
    assert [p.name for p in tmp_path.iterdir()] == ["comparison"]  # nothing temporary left
    load_model_dir(out / "models" / "lstm-2")
