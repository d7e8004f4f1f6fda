"""``--ray``: compare's candidates and backtest's folds as tasks of a Ray cluster score as
one process does, a worker killed mid-task is retried, and a cluster that cannot be
joined is one error line. One local cluster serves the module (seconds to start)."""

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pandas as pd
import pytest
from conftest import FAST, error_line, flat, invoke, sine_frame

from forecast_cli import ray_cluster
from forecast_cli.artifacts import load_card
from forecast_cli.config import RuntimeConfig, Xla

# Starts clusters of processes: run by `make test-cluster`, beside `make test`.
pytestmark = pytest.mark.cluster

# Two candidates, unanchored so that the scores depend on the seed and the training.
COMPARE = [*FAST, "--anchor", "none", "--layers", "gru:3", "--steps", 4]  # and FAST's lstm:4
BACKTEST = ["--folds", 2, "--steps", 4, *FAST, "--anchor", "none", "--intervals", "none"]
TIMING = "train_seconds"  # the one column a run on other processes changes


@pytest.fixture(scope="module")
def cluster():
    """A local Ray cluster, joined by this process: '--ray local' finds it joined."""
    ray = pytest.importorskip("ray")
    ray_cluster.connect("local", RuntimeConfig(), Xla.AUTO)  # '--ray local' keeps it
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """The series, and compare and backtest run on it in this process (--jobs 1)."""
    root = tmp_path_factory.mktemp("ray")
    sine_frame().to_csv(root / "sine.csv", index=False)
    for command, flags, out in (
        ("compare", COMPARE, ["--out-dir", root / "compared"]),
        ("backtest", BACKTEST, ["--out", root / "backtest.csv", "--plot", root / "b.png"]),
    ):
        result = invoke(command, root / "sine.csv", *flags, "--jobs", 1, *out)
        assert result.exit_code == 0, result.output
    return root


def compare_on_ray(data: Path, out: str):
    result = invoke("compare", data / "sine.csv", *COMPARE, "--ray", "local", "--jobs", 2,
                    "--out-dir", data / out)  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "in 2 job(s), 2 at a time, on the Ray cluster at local (" in flat(result.output)
    return result


def assert_same_comparison(a: Path, b: Path) -> None:
    tables = [pd.read_csv(d / "comparison.csv").drop(columns=TIMING) for d in (a, b)]
    pd.testing.assert_frame_equal(*tables)
    pd.testing.assert_frame_equal(*(pd.read_csv(d / "forecasts.csv") for d in (a, b)))
    for name in ("lstm-4", "gru-3"):  # written here from the files the tasks handed back
        cards = [load_card(d / "models" / name) for d in (a, b)]
        assert cards[0].metrics == cards[1].metrics
        assert cards[0].outcome["epochs_run"] == cards[1].outcome["epochs_run"]


def test_compare_on_ray_scores_as_one_process(cluster, data):
    compare_on_ray(data, "on-ray")
    assert_same_comparison(data / "compared", data / "on-ray")


def test_backtest_on_ray_scores_as_one_process(cluster, data):
    flags = ["--out", data / "on-ray.csv", "--plot", data / "on-ray.png"]
    result = invoke("backtest", data / "sine.csv", *BACKTEST, "--ray", "local", *flags)
    assert result.exit_code == 0, result.output
    assert "retrain, 2 folds at a time; on the Ray cluster at local" in flat(result.output)
    pd.testing.assert_frame_equal(
        pd.read_csv(data / "backtest.csv"), pd.read_csv(data / "on-ray.csv")
    )


def test_a_worker_killed_mid_task_is_retried_to_the_same_scores(cluster, data):
    """The first Ray worker of this process seen running a task is killed (SIGKILL, as the
    kernel's OOM killer or a lost machine would end it); Ray runs the task again."""
    killed, done = [], threading.Event()

    def kill_one_task() -> None:
        while not done.is_set() and not killed:
            for pid in running_tasks():
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
                break
            done.wait(0.01)

    killer = threading.Thread(target=kill_one_task)
    killer.start()
    try:
        result = compare_on_ray(data, "retried")
    finally:
        done.set()
        killer.join()
    assert len(killed) == 1
    assert "died" not in result.output  # Ray's own line about it stays in its logs
    assert_same_comparison(data / "compared", data / "retried")


def running_tasks() -> list[int]:
    """The processes under this one that Ray titled as running ``ray_cluster``'s task."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            title = (entry / "cmdline").read_bytes().split(b"\0")[0]
        except (OSError, ValueError):
            continue
        if title.startswith(b"ray::_task") and descends_from_this(int(entry.name)):
            found.append(int(entry.name))
    return found


def descends_from_this(pid: int) -> bool:
    while pid > 1:
        try:
            pid = int((Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError):
            return False
        if pid == os.getpid():
            return True
    return False


def test_ray_missing_or_unreachable_is_one_error_line(cli, sine_csv, monkeypatch):
    with monkeypatch.context() as uninstalled:
        uninstalled.setitem(sys.modules, "ray", None)  # import ray fails
        message = error_line(cli("compare", sine_csv, "--ray", "local"))
    assert message == "Error: --ray needs Ray: pip install 'forecast-cli[ray]'"
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    message = error_line(cli("backtest", sine_csv, "--ray", "auto"))
    assert "--ray auto joins the Ray cluster named by RAY_ADDRESS, which is not set" in message
    monkeypatch.setenv("RAY_ADDRESS", "127.0.0.1:1")
    message = error_line(cli("backtest", sine_csv, "--ray", "auto"))
    assert message.startswith("Error: --ray auto: no Ray cluster answers at 127.0.0.1:1 (")
    message = error_line(cli("compare", sine_csv, "--ray", "head"))
    assert "--ray head: expected a cluster's HOST:PORT" in message
    tuned = cli("backtest", sine_csv, "--refit", "fine-tune", "--ray", "local")
    assert "folds train one after another: leave out --ray" in error_line(tuned)


def test_a_gpu_is_asked_of_the_cluster(cluster, cli, sine_csv):
    message = error_line(cli("compare", sine_csv, "--ray", "local", "--device", "gpu"))
    assert message.startswith("Error: --device gpu: the Ray cluster at local has no GPU;")


def test_ray_is_imported_only_for_ray():
    code = "import sys, forecast_cli.compare_run, forecast_cli.backtest_run\n"
    code += "print('ray' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
