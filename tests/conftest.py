"""Shared fixtures: CPU only, quiet TensorFlow, tiny data, the CLI run in-process."""

import contextlib
import json
import os
import signal
import time

os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")  # tests run on the CPU, like CI
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# make test runs a test process per core: one TensorFlow thread each, rather than each
# spreading its small steps over every core (measured: 11% less time on 2 cores)
for variable in ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS"):
    os.environ.setdefault(variable, "1")

from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from forecast_cli.cli import app  # noqa: E402

# Tiny network and few epochs: enough to exercise every path for real, in seconds.
FAST = ["--layers", "lstm:4", "--epochs", "2", "--lookback", "8", "--batch-size", "16"]


def pytest_collection_modifyitems(items):
    """The tests marked slow first: the test processes take tests in order, so the long
    ones start early and the short ones fill the end, rather than one long test running
    on after every other process has finished."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


def made_once(tmp_path_factory, name: str, make) -> tuple[Path, object]:
    """``(folder, make(folder))`` made once for the whole run, even across pytest-xdist's
    test processes (module fixtures are made once per process): the first to ask makes
    it, the others wait and read the folder and the JSON result it left. Its users read
    what it holds and never change it."""
    from filelock import FileLock

    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent  # the run's folder, above each process's own
    folder, result = shared / name, shared / f"{name}.json"
    with FileLock(shared / f"{name}.lock"):
        if not result.exists():
            if folder.exists():
                pytest.fail(f"{name}: another test process failed to make it (see its error)")
            folder.mkdir()
            result.write_text(json.dumps(make(folder)))
    return folder, json.loads(result.read_text())


@contextlib.contextmanager
def ctrl_c_as_at_a_terminal():
    """Python's own Ctrl-C handler while the block runs, which the command's handlers
    replace (pytest started from a background job inherits Ctrl-C ignored, which they
    leave alone); the handler before is back after it, also after a first Ctrl-C, which
    leaves the command's "exit at once" handler in place."""
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, before)


class Freed:
    """Takes signal ``signum`` in its destructor, where Python drops the exception raised
    and prints it as "Exception ignored"."""

    def __init__(self, signum: int):
        self.signum = signum

    def __del__(self):
        signal.raise_signal(self.signum)


def sine_frame(rows: int = 160, noise: float = 0.1, seed: int = 0, period: float = 20.0):
    rng = np.random.default_rng(seed)
    steps = np.arange(rows)
    return pd.DataFrame(
        {
            "timestamp": pd.date_range("2026-01-01", periods=rows, freq="h"),
            "value": np.sin(2 * np.pi * steps / period) + rng.normal(0, noise, rows),
        }
    )


@pytest.fixture
def write_csv(tmp_path):
    """Write a frame (or raw text) to ``tmp_path/name`` and return the path."""

    def write(name: str, content) -> Path:
        path = tmp_path / name
        if isinstance(content, pd.DataFrame):
            content.to_csv(path, index=False)
        elif isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
        return path

    return write


@pytest.fixture
def sine_csv(write_csv):
    return write_csv("sine.csv", sine_frame())


def train_sine(folder: Path) -> None:
    """``sine_model``'s training, in ``folder``."""
    data = folder / "sine.csv"
    sine_frame().to_csv(data, index=False)
    trained = invoke("train", data, *FAST, "--model-dir", folder / "model")
    assert trained.exit_code == 0, trained.output


@pytest.fixture(scope="session")
def sine_model(tmp_path_factory) -> Path:
    """``forecast train sine.csv`` with ``FAST``, trained once in the run, for the tests
    that only read the model (``predict --model``); its training file stays unchanged."""
    folder, _ = made_once(tmp_path_factory, "sine_model", train_sine)
    return folder / "model"


# compare and backtest train in this process unless a test asks for --jobs: each worker
# process they would start by default (one per core) imports TensorFlow, seconds apiece.
IN_PROCESS = {"compare": {"jobs": 1}, "backtest": {"jobs": 1}}


def invoke(*args, input: str | None = None):
    """Run ``forecast ARGS...`` in-process, from the current directory; the click Result."""
    return CliRunner().invoke(app, [str(a) for a in args], input=input, default_map=IN_PROCESS)


@pytest.fixture
def cli(tmp_path, monkeypatch):
    """Run ``forecast ARGS...`` in-process from ``tmp_path``; returns the click Result."""
    monkeypatch.chdir(tmp_path)
    return invoke


def error_line(result) -> str:
    """The single ``Error:`` line a failed command must print on stderr, and nothing else."""
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == 2, (result.exit_code, result.output)
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: "), lines[0]
    assert "Traceback" not in result.output
    return lines[0]


def wait_for(path: Path, seconds: float) -> None:
    """Return once ``path`` exists (a file written by another process), or after ``seconds``."""
    deadline = time.monotonic() + seconds
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.01)


def flat(text: str) -> str:
    """``text`` with every run of white space folded to one space (tables vary in width)."""
    return " ".join(text.split())


def json_lines(result) -> list[dict]:
    """Every line of stderr, each of which must be a JSON object (--log-format json)."""
    import json

    return [json.loads(line) for line in result.stderr.splitlines()]


def tensorboard_losses(run: Path) -> dict[int, float]:
    """The ``epoch_loss`` scalars of one TensorBoard run folder (--tensorboard), by step,
    as TensorBoard's own reader reads them."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.util.tensor_util import make_ndarray

    events = EventAccumulator(str(run))
    events.Reload()
    return {e.step: float(make_ndarray(e.tensor_proto)) for e in events.Tensors("epoch_loss")}
