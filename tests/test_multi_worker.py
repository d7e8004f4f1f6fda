"""--strategy multi-worker: two worker processes on 127.0.0.1 train one network together."""

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FAST, error_line, flat, invoke, wait_for

# Starts clusters of processes: run by `make test-cluster`, beside `make test`.
pytestmark = pytest.mark.cluster

FORECAST = str(Path(sys.executable).with_name("forecast"))


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def start_cluster(tmp_path, args: list[str], model_dirs: list[str]) -> list[subprocess.Popen]:
    """One ``forecast train`` worker per model directory (worker 0 is the chief)."""
    cluster = {"worker": [f"127.0.0.1:{port}" for port in free_ports(len(model_dirs))]}
    workers = []
    for index, model_dir in enumerate(model_dirs):
        config = {"cluster": cluster, "task": {"type": "worker", "index": index}}
        env = {**os.environ, "TF_CONFIG": json.dumps(config)}
        command = [FORECAST, "train", *args, "--strategy", "multi-worker", "--model-dir", model_dir]
        workers.append(
            subprocess.Popen(
                command,
                cwd=tmp_path,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    return workers


def finish(workers: list[subprocess.Popen]) -> list[tuple[str, str]]:
    """Each worker's standard output and error, once all have succeeded."""
    outputs = [worker.communicate(timeout=300) for worker in workers]
    assert [worker.returncode for worker in workers] == [0] * len(workers), outputs
    return outputs


def rmse(output: tuple[str, str]) -> float:
    return json.loads(output[0].splitlines()[-1])["val_rmse"]


def test_a_cluster_trains_as_one_process_does_and_resumes_from_the_chiefs_backup(
    sine_csv, tmp_path
):
    """One test, as each cluster costs two TensorFlow processes: a killed cluster, the
    same cluster run afresh (compared with one process), and the cluster resumed."""
    train = [str(sine_csv), *FAST, "--epochs", "3", "--patience", "3", "--json"]
    # The network alone, beside the naive baselines: no process imports statsforecast.
    train += ["--combine", "none", "--baselines", "naive,snaive"]
    workers = start_cluster(tmp_path, train, ["m", "w1"])
    backup = tmp_path / "m.backup.npz"
    wait_for(backup, 240)
    for worker in workers:  # a machine fails: the whole cluster stops
        worker.kill()
        worker.communicate()
    assert backup.is_file() and not (tmp_path / "w1.backup.npz").exists()  # the chief's alone
    shutil.copy(backup, tmp_path / "shared.backup.npz")

    # Worker 1 cannot see the backup of its --model-dir: all start afresh rather than hang.
    afresh = finish(start_cluster(tmp_path, train, ["m", "w1"]))
    assert all("Started afresh: not every worker sees the backup" in flat(err) for _, err in afresh)
    assert not backup.exists()  # the chief removes it once the model is saved
    assert rmse(afresh[0]) == rmse(afresh[1])  # one network, trained by both
    # Only the chief (worker 0, there being no 'chief' task) writes the model.
    assert (tmp_path / "m" / "forecast.json").is_file() and not (tmp_path / "w1").exists()
    alone = invoke("train", *train, "--model-dir", tmp_path / "alone")  # in this process
    # Each worker computes half of every batch of 16; the gradients are summed: the same
    # training as one process, up to the order of float additions.
    assert rmse((alone.stdout, alone.stderr)) == pytest.approx(rmse(afresh[0]), rel=5e-3)

    resumed = finish(start_cluster(tmp_path, train, ["shared", "shared"]))
    assert all("Resumed after epoch" in flat(err) for _, err in resumed)
    # Resumed, the cluster ends where the uninterrupted cluster ended.
    assert rmse(resumed[0]) == rmse(resumed[1]) == pytest.approx(rmse(afresh[0]), rel=1e-5)


def test_multi_worker_needs_tf_config_and_is_for_train_alone(cli, sine_csv, monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    assert "reads the cluster from the TF_CONFIG" in error_line(
        cli("train", sine_csv, "--strategy", "multi-worker")
    )
    for command in ("compare", "backtest"):
        line = error_line(cli(command, sine_csv, "--strategy", "multi-worker"))
        assert f"forecast {command} runs its networks in worker processes" in line
