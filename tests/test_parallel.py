"""The worker processes of compare and backtest (``parallel.workers``)."""

import contextlib
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ctrl_c_as_at_a_terminal, sine_frame

from forecast_cli import parallel
from forecast_cli.config import ClusterConfig, RuntimeConfig, Xla
from forecast_cli.errors import WorkerLost


def ignores_ctrl_c(shared, item, hook) -> bool:
    """A task: whether its worker process ignores Ctrl-C."""
    return signal.getsignal(signal.SIGINT) == signal.SIG_IGN


def meets(folder: Path, item, hook) -> bool:
    """A task: says it started, through its hook, then whether this process answered
    within 20 s."""
    hook("started")
    return appears(folder / "answered")


def answer(folder: Path, heard: list) -> bool:
    """This process's side: whether a task's start was ``heard`` within 20 s; then
    answers it."""
    for _ in range(200):
        if heard:
            break
        time.sleep(0.1)
    (folder / "answered").touch()
    return bool(heard)


def dies(shared, item, hook) -> None:
    """A task whose worker is killed, as for lack of memory."""
    os.kill(os.getpid(), signal.SIGKILL)


def appears(path: Path) -> bool:
    for _ in range(200):
        if path.exists():
            return True
        time.sleep(0.1)
    return False


@pytest.mark.slow
def test_worker_processes_leave_ctrl_c_to_the_command_and_work_beside_it(tmp_path):
    """A terminal sends Ctrl-C to the workers too, where it stopped them anywhere, even
    in TensorFlow's import, with its log and their tracebacks printed. And the command's
    own work that needs no network (compare's baselines) runs while theirs does: neither
    before the tasks are sent nor after they end, nor holding up their progress."""
    with (
        ctrl_c_as_at_a_terminal(),
        parallel.workers(2, RuntimeConfig(), Xla.AUTO, ClusterConfig()) as workers,
    ):
        ignored = workers.run(ignores_ctrl_c, None, [0, 1], lambda *event: None)
        heard, answered = [], []
        met = workers.run(
            meets,
            tmp_path,
            [0],
            lambda index, event: heard.append(event),
            lambda: answered.append(answer(tmp_path, heard)),
        )
    assert ignored == [True, True]
    assert answered == met == [True]


def too_long(signum, frame):
    raise TimeoutError("the command still waits for a task whose worker died")


@pytest.mark.slow
def test_a_worker_that_dies_ends_the_command_instead_of_leaving_it_waiting():
    """The pool starts a new worker in its place and the task never ends."""
    before = signal.signal(signal.SIGALRM, too_long)
    signal.alarm(120)
    try:
        with (
            pytest.raises(WorkerLost, match="A worker process ended before its work"),
            parallel.workers(2, RuntimeConfig(), Xla.AUTO, ClusterConfig()) as workers,
        ):
            workers.run(dies, None, [0], lambda *event: None)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, before)
    assert multiprocessing.active_children() == []  # the pool and its Manager ended


def test_a_lost_worker_is_one_error_line_with_exit_status_1(cli, monkeypatch, sine_csv):
    """Not the input's fault: exit status 1 rather than bad input's 2."""

    def lost(*args, **kwargs):
        raise WorkerLost("A worker process ended before its work was done.")

    monkeypatch.setattr("forecast_cli.compare_run.load_panel", lost)
    result = cli("compare", sine_csv, "--layers", "lstm:4")
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        "Error: A worker process ended before its work was done."
    ]


def test_a_script_without_a_main_guard_gets_one_line_from_its_workers(tmp_path):
    """Each spawned worker imports the script again, which would start the work again:
    the worker ends with one line saying why, and the call raises WorkerLost."""
    sine_frame().to_csv(tmp_path / "sine.csv", index=False)  # never read: the workers
    script = tmp_path / "unguarded.py"  # start before the data is read, and end at once
    script.write_text(
        "from forecast_cli import api\n"
        "from forecast_cli.errors import WorkerLost\n"
        "try:\n"
        "    api.backtest('sine.csv', options=api.BacktestConfig(jobs=2))\n"
        "except WorkerLost as error:\n"
        "    print('raised:', error)\n"
    )
    done = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    said = [line for line in done.stderr.splitlines() if line.startswith("Error:")]
    assert len(said) == 1 and "if __name__ ==" in said[0], done.stderr
    assert "Traceback" not in done.stderr and "bootstrapping" not in done.stderr
    assert done.stdout.startswith("raised: The worker processes could not start")


@pytest.mark.slow
def test_the_workers_end_with_a_command_killed_outright(tmp_path):
    """SIGKILL (the out-of-memory killer's) gives the command no time to end its workers:
    the kernel ends them and the manager process with it, on Linux."""
    script = tmp_path / "command.py"
    script.write_text(
        "import time\n"
        "from forecast_cli import parallel\n"
        "from forecast_cli.config import ClusterConfig, RuntimeConfig, Xla\n"
        "def sleeps(shared, item, hook):\n"
        "    hook('started')\n"
        "    time.sleep(120)\n"
        "if __name__ == '__main__':\n"
        "    with parallel.workers(2, RuntimeConfig(), Xla.AUTO, ClusterConfig()) as workers:\n"
        "        workers.run(sleeps, None, [0, 1], lambda i, event: print(*event, flush=True))\n"
    )
    command = subprocess.Popen(
        [sys.executable, str(script)], cwd=tmp_path, stdout=subprocess.PIPE, text=True
    )
    children = []
    try:
        assert command.stdout.readline().strip() == "started"  # a worker is at work
        pid = command.pid
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        assert len(children) >= 3  # the manager and two workers (and the resource tracker)
        command.kill()
        command.wait()
        for _ in range(100):
            if not [child for child in children if running(child)]:
                break
            time.sleep(0.1)
        assert [child for child in children if running(child)] == []
    finally:
        command.kill()
        for child in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(child), signal.SIGKILL)


def running(pid: str) -> bool:
    """Whether process ``pid`` exists and has not ended (a zombie has)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False
