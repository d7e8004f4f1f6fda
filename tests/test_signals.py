"""Real signals sent to a real ``forecast train`` process, and the handlers' rules."""

import contextlib
import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import Freed, ctrl_c_as_at_a_terminal, flat, invoke, sine_frame, wait_for

from forecast_cli import signals
from forecast_cli.artifacts import load_model_dir

FORECAST = str(Path(sys.executable).with_name("forecast"))
LONG = ["--epochs", "1000", "--patience", "1000", "--layers", "lstm:8", "--json"]
LONG += ["--anchor", "none"]  # its first epoch beats the untrained network: Ctrl-C keeps it
# A thousand epochs would be long enough for --xla auto to compile the steps, seconds
# before the first epoch that every test here waits for (test_training tests XLA).
LONG += ["--xla", "off"]


@pytest.fixture
def sine(tmp_path) -> Path:
    """A short series, so that epochs are short and the signals come early."""
    path = tmp_path / "sine.csv"
    sine_frame().to_csv(path, index=False)
    return path


def start(cwd: Path, args: list[str], ready: str, seconds: int) -> subprocess.Popen:
    """Start ``forecast ARGS`` and return ``seconds`` after its report prints ``ready``
    (on stderr with --json, else on stdout). Ctrl-C reaches it as at a terminal even when
    the tests run in a background job, whose shell passes SIGINT on ignored."""
    process = subprocess.Popen(
        [FORECAST, *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        start_new_session=True,  # a process group of its own, as a terminal's job is
    )
    for line in process.stderr if "--json" in args else process.stdout:
        if line.startswith(ready):
            break
    subprocess.run(["sleep", str(seconds)])
    return process


def start_training(cwd: Path, data: Path) -> subprocess.Popen:
    """A long training, its first epoch done: its backup is on disk."""
    process = start(cwd, ["train", str(data), *LONG], "Network:", 0)
    wait_for(cwd / "forecast-model.backup.npz", 120)
    return process


@pytest.mark.slow
def test_ctrl_c_stops_training_and_saves_the_best_weights(tmp_path, sine):
    process = start_training(tmp_path, sine)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr  # scripts can tell it was stopped
    summary = json.loads(stdout.splitlines()[-1])
    assert 1 <= summary["epochs_run"] < 1000
    ran = summary["epochs_run"]
    # The last line says what was saved, and how to go on. The backup holds the last
    # epoch it was written after: that epoch, or the one before if Ctrl-C came between
    # the epoch's end and the writing of its backup.
    said = re.fullmatch(
        r"Interrupted: saved the weights of epoch (\d+), the best on validation before the "
        r"stop, to forecast-model; the same command resumes after epoch (\d+) from the backup "
        + re.escape(str(tmp_path / "forecast-model.backup.npz"))
        + r"\.",
        stderr.strip().splitlines()[-1],
    )
    assert said, stderr
    best, backed_up = int(said[1]), int(said[2])
    assert backed_up in (ran - 1, ran)
    _, card = load_model_dir(tmp_path / "forecast-model")
    assert card.outcome["interrupted"] is True and card.outcome["best_epoch"] == best
    assert card.outcome["epochs_run"] == ran
    # Run again, it goes on from there (--epochs may change), and then drops the backup.
    again = subprocess.run(
        [FORECAST, "train", str(sine), *LONG[2:], "--epochs", str(backed_up + 2)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert f"Resumed after epoch {backed_up} from the backup" in flat(again.stderr)
    assert json.loads(again.stdout.splitlines()[-1])["epochs_run"] == backed_up + 2
    _, card = load_model_dir(tmp_path / "forecast-model")
    assert card.outcome["resumed_after_epoch"] == backed_up and not card.outcome["interrupted"]
    assert not (tmp_path / "forecast-model.backup.npz").exists()


def test_a_second_ctrl_c_stops_at_once_without_a_tensorflow_dump(tmp_path, sine):
    """The first Ctrl-C stops training; the second comes while the model is being chosen,
    scored and saved, in the middle of TensorFlow's work."""
    process = start_training(tmp_path, sine)
    process.send_signal(signal.SIGINT)
    subprocess.run(["sleep", "0.3"])
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert stderr.strip().splitlines()[-1] == (
        "Interrupted again: stopped at once, saving nothing more."
    )
    for dump in ("Traceback", "ERROR:tensorflow", "Exception ignored"):
        assert dump not in stderr, stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["forecast-model.backup.npz", "sine.csv"]


@pytest.mark.parametrize("existing", [False, True])
@pytest.mark.slow
def test_sigterm_abandons_the_run_and_keeps_the_previous_model(tmp_path, sine, existing):
    model = tmp_path / "forecast-model"
    if existing:  # trained in this process: only the signalled run needs its own
        done = invoke("train", sine, "--epochs", 1, "--layers", "lstm:2", "--model-dir", model)
        assert done.exit_code == 0, done.output
        before = {p.name: p.read_bytes() for p in model.iterdir()}
    process = start_training(tmp_path, sine)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 128 + signal.SIGTERM, stderr
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    # A preempted machine gets SIGTERM: the epochs done so far wait in the backup.
    assert (tmp_path / "forecast-model.backup.npz").is_file()
    if existing:
        after = {p.name: p.read_bytes() for p in model.iterdir()}
        assert after == before
        load_model_dir(model)
    else:
        assert not model.exists()


SINE = Path(__file__).parents[1] / "sample_data" / "sine.csv"
SMALL_COMPARE = ["--layers", "lstm:2", "--layers", "gru:2", "--epochs"]


@pytest.fixture(scope="module")
def finished_comparison(tmp_path_factory) -> Path:
    """A comparison that ran to its end (in this process), made once for the tests that
    interrupt the next."""
    out = tmp_path_factory.mktemp("finished") / "comparison"
    flags = [*SMALL_COMPARE, 1, "--anchor", "none", "--jobs", 1, "--out-dir", out]
    done = invoke("compare", SINE, *flags)
    assert done.exit_code == 0, done.output
    return out


@pytest.mark.parametrize(("signum", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
@pytest.mark.slow
def test_interrupted_compare_keeps_the_previous_comparison(
    tmp_path, finished_comparison, signum, status
):
    out = tmp_path / "comparison"
    shutil.copytree(finished_comparison, out)
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    long = [*SMALL_COMPARE, "1000", "--patience", "1000", "--overwrite"]
    if signum == signal.SIGINT:  # a terminal's Ctrl-C reaches the workers too, here
        # while they import TensorFlow, which printed its log and their tracebacks
        process = start(tmp_path, ["compare", str(SINE), *long], "Training", 2)
        os.killpg(process.pid, signum)
    else:
        process = start(tmp_path, ["compare", str(SINE), *long], "Training", 4)  # training
        process.send_signal(signum)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == status
    said = ["Interrupted: nothing was saved."] if signum == signal.SIGINT else []
    assert stderr.strip().splitlines() == said, stderr
    after = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before
    assert [p.name for p in tmp_path.iterdir()] == ["comparison"]  # nothing temporary left
    load_model_dir(out / "models" / "lstm-2")


@pytest.fixture
def handled(monkeypatch):
    """The command's signal handlers, Ctrl-C as at a terminal; what Python prints of
    exceptions it drops, which must stay empty."""
    printed = []
    monkeypatch.setattr(sys, "unraisablehook", printed.append)
    with ctrl_c_as_at_a_terminal(), signals.handlers():
        yield
    assert printed == []


@pytest.mark.parametrize(
    ("signum", "raised"), [(signal.SIGINT, KeyboardInterrupt), (signal.SIGTERM, SystemExit)]
)
def test_a_signal_a_destructor_drops_is_raised_where_the_command_waits(handled, signum, raised):
    Freed(signum)
    with pytest.raises(raised):
        signals.raise_pending()
    signals.handle_pending()
    signals.raise_pending()  # handled: nothing left


def test_in_a_training_a_signal_waits_for_the_next_safe_point(handled):
    went_on = []
    with pytest.raises(SystemExit) as ended, signals.deferred():
        signal.raise_signal(signal.SIGTERM)
        went_on.append("past the signal")
        signals.raise_pending()
        went_on.append("past the safe point")
    assert went_on == ["past the signal"] and ended.value.code == 128 + signal.SIGTERM
    signals.handle_pending()
    with pytest.raises(SystemExit):  # outside a training: at once
        signal.raise_signal(signal.SIGTERM)


def test_a_ctrl_c_still_pending_when_a_training_ends_is_raised_then(handled):
    went_on = []
    with pytest.raises(KeyboardInterrupt), signals.deferred():
        signal.raise_signal(signal.SIGINT)
        went_on.append("past Ctrl-C")
    assert went_on == ["past Ctrl-C"]


def test_a_ctrl_c_after_sigterm_does_not_save_the_model(handled):
    with pytest.raises(BaseException) as ended, signals.deferred():
        signal.raise_signal(signal.SIGTERM)
        signal.raise_signal(signal.SIGINT)
    assert ended.type is SystemExit


def test_a_second_ctrl_c_ends_the_worker_processes_too():
    """They ignore Ctrl-C, and the command's process exits at once: it kills them first."""
    script = (
        "import multiprocessing, signal, time\n"
        "from forecast_cli import signals\n"
        "signal.signal(signal.SIGINT, signal.default_int_handler)  # as at a terminal\n"
        "worker = multiprocessing.get_context('spawn').Process(target=time.sleep, args=(600,))\n"
        "worker.start()\n"
        "print(worker.pid, flush=True)\n"
        "with signals.handlers():\n"
        "    try:\n"
        "        signal.raise_signal(signal.SIGINT)\n"
        "    except KeyboardInterrupt:\n"
        "        signal.raise_signal(signal.SIGINT)  # the second\n"
    )
    process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert process.wait(timeout=30) == signals.INTERRUPTED
    assert select.select([process.stdout], [], [], 10)[0], "the script printed no worker"
    worker = int(process.stdout.readline())
    process.stdout.close()
    try:
        for _ in range(50):
            if not running(worker):
                return
            subprocess.run(["sleep", "0.1"])
        pytest.fail(f"worker {worker} still runs")
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(worker, signal.SIGKILL)


def running(pid: int) -> bool:
    """Whether process ``pid`` runs: neither gone nor a zombie not yet reaped."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"
