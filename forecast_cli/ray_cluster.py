"""Independent trainings as tasks of a Ray cluster (``--ray``), behind ``parallel.workers``.

Ray is an optional extra (``pip install 'forecast-cli[ray]'``), imported only here and
only when ``--ray`` is given. The shared data goes into Ray's object store once, each
task gets it from there and returns its result to this process, which alone writes
the output. A task whose worker dies (a crash, a lost machine) is run again by Ray, up
to ``RETRIES`` times; the same seed gives it the same result. Ray's own log lines stay
in its session folder (``/tmp/ray/session_latest/logs``), off the terminal unless
``--debug`` (``FORECAST_DEBUG=1``).
"""

from __future__ import annotations

import contextlib
import functools
import os
import socket
from collections.abc import Callable
from typing import Any

from forecast_cli import signals
from forecast_cli.config import Device, RuntimeConfig, Xla
from forecast_cli.errors import DEBUG, ForecastError
from forecast_cli.parallel import alongside
from forecast_cli.runtime import refuse_idle_xla, stderr_captured

LOCAL, AUTO = "local", "auto"
RETRIES = 3  # runs of a task after the first whose worker died
OBJECT_STORE = 256 * 2**20  # bytes, for ``local``: larger objects spill to disk
POLL = 0.1  # seconds between looks at the progress events


def connect(address: str, runtime: RuntimeConfig, xla: Xla) -> tuple[str, int]:
    """Join the cluster at ``address`` (``local`` starts one on this machine, ``auto`` joins
    the one in ``RAY_ADDRESS``), once per process: a later call keeps the cluster joined
    first. Return its description for the report and its CPUs, how many tasks run at
    once; refuse ``--device gpu`` on a cluster without GPUs (the tasks would wait for one
    forever), and ``--xla on`` where the tasks would train without it (they hold a GPU
    only under ``--device gpu``)."""
    refuse_idle_xla(xla, runtime.strategy, on_gpu=runtime.device is Device.GPU)
    try:
        import ray
    except ImportError:
        raise ForecastError("--ray needs Ray: pip install 'forecast-cli[ray]'") from None
    reached = None if address == LOCAL else _reachable(address)
    if not ray.is_initialized():
        shown = os.environ.get(DEBUG) == "1"
        logs = {
            "include_dashboard": False,
            "log_to_driver": shown,
            "logging_level": "INFO" if shown else "ERROR",
        }
        local = {"num_cpus": os.cpu_count(), "object_store_memory": OBJECT_STORE}
        # Ray's C++ core writes its retries to stderr while it tries to join.
        with contextlib.nullcontext() if shown else stderr_captured(shown_on_failure=False):
            try:  # "local": a new cluster of this machine, even where another runs
                ray.init(address=reached or LOCAL, **(local if reached is None else {}), **logs)
            except (ConnectionError, RuntimeError) as exc:
                raise ForecastError(
                    f"--ray {address}: Ray could not join the cluster ({_first_line(exc)}); if "
                    "it uses token authentication, set RAY_AUTH_MODE=token with this "
                    "machine's copy of its token (~/.ray/auth_token)."
                ) from None
        # Ray prints a line when a worker dies, retried or not, whatever log_to_driver says.
        ray._private.worker._worker_logs_enabled = shown
    resources = ray.cluster_resources()
    cpus, gpus = int(resources.get("CPU", 0)), int(resources.get("GPU", 0))
    where = f"Ray cluster at {reached or LOCAL}"
    if runtime.device is Device.GPU and not gpus:
        raise ForecastError(
            f"--device gpu: the {where} has no GPU; use --device cpu, or auto, or add a "
            "machine with one ('ray start --address' there)."
        )
    return f"{where} ({cpus} CPUs" + (f", {gpus} GPUs)" if gpus else ")"), max(cpus, 1)


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0].rstrip(".")


def _reachable(address: str) -> str:
    """``address`` (``auto``: ``RAY_ADDRESS``'s) once something answers there: Ray itself
    would wait minutes for a machine that is not up."""
    given = address
    if address == AUTO:
        address = os.environ.get("RAY_ADDRESS", "")
        if not address:
            raise ForecastError(
                "--ray auto joins the Ray cluster named by RAY_ADDRESS, which is not set: "
                "export RAY_ADDRESS=HEAD:6379 (the head started with 'ray start --head'), "
                "pass --ray HEAD:6379, or --ray local to start one here."
            )
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        raise ForecastError(
            f"--ray {given}: expected a cluster's HOST:PORT (e.g. 10.0.0.1:6379), auto or "
            f"local, got {address!r}."
        )
    try:
        socket.create_connection((host, int(port)), timeout=5).close()
    except OSError as exc:
        raise ForecastError(
            f"--ray {given}: no Ray cluster answers at {address} ({exc.strerror or exc}); "
            "start one there with 'ray start --head', or pass --ray local."
        ) from None
    return address


def run(
    task: Callable[[Any, Any, Callable], Any],
    shared: Any,
    items: list,
    on_event: Callable[[int, tuple], None],
    runtime: RuntimeConfig,
    meanwhile: Callable[[], object] | None = None,
) -> list:
    """``[task(shared, item, hook) for item in items]`` as tasks of the cluster joined, in
    order; what a task passes to its ``hook`` reaches ``on_event(item index, arguments)``
    here while it runs, and ``meanwhile()`` beside them (``parallel.alongside``). An
    exception in a task is raised here as itself."""
    import ray
    from ray.util.queue import Queue

    events = Queue(actor_options={"num_cpus": 0})
    remote = ray.remote(_task).options(
        num_cpus=1,
        num_gpus=1 if runtime.device is Device.GPU else 0,
        max_retries=RETRIES,
    )
    data = ray.put(shared)
    pending = [remote.remote(task, data, item, runtime, events, i) for i, item in enumerate(items)]

    def wait() -> list:
        waiting = pending
        while waiting:
            signals.raise_pending()
            _, waiting = ray.wait(waiting, num_returns=len(waiting), timeout=POLL)
            _drain(events, on_event)
        _drain(events, on_event)
        return ray.get(pending)

    try:
        return alongside(meanwhile, wait)
    except BaseException as exc:  # the others are stopped: the run is written whole or not
        for ref in pending:
            ray.cancel(ref, force=True)
        if isinstance(exc, ray.exceptions.RayTaskError):
            raise exc.cause from None
        raise
    finally:
        events.shutdown(force=True)


def _task(task, shared, item, runtime: RuntimeConfig, events, index: int):
    """One task in a worker of the cluster, set up as a worker process of ``parallel``."""
    _set_up(runtime)
    return task(shared, item, lambda *event: events.put((index, event)))


@functools.cache
def _set_up(runtime: RuntimeConfig) -> None:
    """Once per worker process (Ray reuses them): one thread per CPU the task holds."""
    from forecast_cli.parallel import set_up

    set_up(1, runtime)


def _drain(events, on_event) -> None:
    for index, event in events.get_nowait_batch(events.qsize()):
        on_event(index, event)
