"""--strategy multi-worker: two worker processes on 127.0.0.1 train one network together."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FAST, error_line

FORECAST = str(Path(sys.executable).with_name("forecast"))


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def test_two_workers_agree_and_match_one_process(sine_csv, tmp_path):
    cluster = {"worker": [f"127.0.0.1:{port}" for port in free_ports(2)]}
    train = [FORECAST, "train", str(sine_csv), *map(str, FAST), "--json"]
    workers = []
    for index in range(2):
        config = {"cluster": cluster, "task": {"type": "worker", "index": index}}
        env = {**os.environ, "TF_CONFIG": json.dumps(config)}
        args = [*train, "--strategy", "multi-worker", "--model-dir", f"m{index}"]
        workers.append(
            subprocess.Popen(args, cwd=tmp_path, env=env, stdout=subprocess.PIPE, text=True)
        )
    outputs = [worker.communicate(timeout=300)[0] for worker in workers]
    assert [worker.returncode for worker in workers] == [0, 0], outputs
    scores = [json.loads(output.splitlines()[-1])["val_rmse"] for output in outputs]
    assert scores[0] == scores[1]  # one network, trained by both
    # Only the chief (worker 0, there being no 'chief' task) writes the model.
    assert (tmp_path / "m0" / "forecast.json").is_file() and not (tmp_path / "m1").exists()
    alone = subprocess.run(
        [*train, "--model-dir", "alone"], cwd=tmp_path, capture_output=True, text=True
    )
    # Each worker computes half of every batch of 32; the gradients are summed: the same
    # training as one process, up to the order of float additions.
    assert json.loads(alone.stdout.splitlines()[-1])["val_rmse"] == pytest.approx(
        scores[0], rel=5e-3
    )


def test_multi_worker_needs_tf_config_and_is_for_train_alone(cli, sine_csv, monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    assert "reads the cluster from the TF_CONFIG" in error_line(
        cli("train", sine_csv, "--strategy", "multi-worker")
    )
    for command in ("compare", "backtest"):
        line = error_line(cli(command, sine_csv, "--strategy", "multi-worker"))
        assert f"forecast {command} runs its networks in worker processes" in line
