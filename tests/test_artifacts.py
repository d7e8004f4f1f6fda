import json
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import FAST, sine_frame
from typer.testing import CliRunner

from forecast_cli.artifacts import (
    CARD_FILE,
    MODEL_FILE,
    atomic_path,
    check_destination,
    load_model_dir,
    save_model_dir,
)
from forecast_cli.cli import app
from forecast_cli.errors import ForecastError
from forecast_cli.runtime import keras


@pytest.fixture(scope="module")
def trained_once(tmp_path_factory):
    """One small model trained through the CLI, shared read-only by this module."""
    root = tmp_path_factory.mktemp("trained")
    sine_frame().to_csv(root / "sine.csv", index=False)
    result = CliRunner().invoke(
        app, ["train", str(root / "sine.csv"), *FAST, "--model-dir", str(root / "model")]
    )
    assert result.exit_code == 0, result.output
    return root / "model"


@pytest.fixture
def trained(trained_once, tmp_path):
    """A private copy of the trained model directory, free to damage."""
    return Path(shutil.copytree(trained_once, tmp_path / "model"))


def leftovers(directory):
    return sorted(p.name for p in directory.iterdir() if p.name.startswith("."))


def test_model_directory_holds_model_card_history_and_run_file(trained):
    assert sorted(p.name for p in trained.iterdir()) == [
        "forecast.json",
        "history.csv",
        "model.keras",
        "run.toml",
    ]
    card = json.loads((trained / CARD_FILE).read_text())
    assert card["data"]["targets"] == ["value"] and card["data"]["time_col"] == "timestamp"
    assert card["data"]["freq"] == "h" and len(card["data"]["sha256"]) == 64
    # the default horizon: predict's 20 steps, shorter than the 32-row validation tail
    assert card["window"] == {
        "lookback": 8,
        "horizon": 20,
        "val_fraction": 0.2,
        "scale": "standard",
        "baselines": ["naive", "snaive", "ets", "theta"],
    }
    assert card["model"]["layers"] == ["lstm:4"] and card["model"]["params"] > 0
    assert set(card["versions"]) >= {"forecast", "tensorflow", "keras", "numpy", "pandas"}
    assert card["training"]["seed"] == 42 and card["training"]["epochs_run"] == 2
    history = (trained / "history.csv").read_text().splitlines()
    assert history[0] == "epoch,loss,val_loss" and len(history) == 3
    model, loaded = load_model_dir(trained)
    assert loaded.to_dict() == card
    assert model.output_shape == (None, 20, 1)


def test_a_failed_save_leaves_the_previous_model_and_no_temporary_files(trained):
    before = {p.name: p.read_bytes() for p in trained.iterdir()}
    model, card = load_model_dir(trained)

    def broken_save(path, *args, **kwargs):
        Path(path).write_bytes(b"half")  # half-written, then the disk "fills up"
        raise OSError("No space left on device")

    model.save = broken_save
    with pytest.raises(OSError):
        save_model_dir(trained, model, card, {"loss": [1.0], "val_loss": [1.0]})
    assert {p.name: p.read_bytes() for p in trained.iterdir()} == before
    assert leftovers(trained.parent) == []


def test_saving_over_a_model_replaces_it_whole(trained):
    model, card = load_model_dir(trained)
    model.set_weights([w + 1 for w in model.get_weights()])
    save_model_dir(trained, model, card, {"loss": [3.0], "val_loss": [4.0]})
    reloaded, _ = load_model_dir(trained)
    for new, old in zip(reloaded.get_weights(), model.get_weights(), strict=True):
        np.testing.assert_array_equal(new, old)
    assert (trained / "history.csv").read_text().splitlines()[1] == "1,3.0,4.0"
    assert leftovers(trained.parent) == []
    assert oct(trained.stat().st_mode & 0o777) == oct(0o777 & ~_umask())


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_refuses_to_replace_a_directory_that_is_not_a_model(tmp_path):
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "todo.txt").write_text("keep me")
    with pytest.raises(ForecastError, match="is not a forecast model directory"):
        check_destination(tmp_path / "notes")
    check_destination(tmp_path / "new")  # a new path is fine


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda d: (d / CARD_FILE).unlink(), "has no readable forecast.json"),
        (lambda d: (d / CARD_FILE).write_text("{not json"), "has no readable forecast.json"),
        (
            lambda d: (d / CARD_FILE).write_text('{"format": 99}'),
            "has format 99; this forecast reads format 1",
        ),
        (
            lambda d: (d / CARD_FILE).write_text('{"format": 1, "data": {}}'),
            "forecast.json is corrupt (KeyError",
        ),
        (lambda d: (d / MODEL_FILE).write_bytes(b"not a zip"), "model.keras cannot be loaded"),
    ],
)
def test_damaged_model_directories_are_refused_clearly(trained, damage, message):
    damage(trained)
    with pytest.raises(ForecastError, match=re.escape(message)):
        load_model_dir(trained)


def test_missing_model_directory(tmp_path):
    with pytest.raises(
        ForecastError, match="does not exist. Train one with 'forecast train DATA.csv'"
    ):
        load_model_dir(tmp_path / "nowhere")


def test_a_model_with_arbitrary_code_is_not_executed(trained, tmp_path, monkeypatch):
    k = keras()
    marker = tmp_path / "executed"
    monkeypatch.setenv("FORECAST_TEST_MARKER", str(marker))
    inputs = k.Input((8, 1))
    payload = k.layers.Lambda(
        lambda x: x + __import__("os").system("touch $FORECAST_TEST_MARKER")  # noqa: S605
    )
    k.Model(inputs, payload(inputs)).save(trained / MODEL_FILE)
    marker.unlink(missing_ok=True)
    with pytest.raises(ForecastError, match="model.keras cannot be loaded"):
        load_model_dir(trained)
    assert not marker.exists()


def test_atomic_path_writes_nothing_when_the_block_fails(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(target) as temporary:
        temporary.write_text("new")
        raise RuntimeError
    assert target.read_text() == "old" and leftovers(tmp_path) == []
