"""Independent pieces of work in parallel worker processes, sharing the CPU cores, or as
tasks of a Ray cluster (``--ray``, ``ray_cluster``).

Small recurrent networks keep one core busy at most, so on a machine with several cores
training them in separate processes (each limited to its share of the threads) is what
uses the hardware. Workers are spawned, never forked: TensorFlow is not fork-safe.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import signal
from collections.abc import Callable
from typing import Any

from forecast_cli import signals
from forecast_cli.config import ClusterConfig, RuntimeConfig

Hook = Callable[..., None]


def run_parallel(
    task: Callable[[Any, Any, Hook], Any],
    shared: Any,
    items: list,
    workers: int,
    on_event: Callable[[int, tuple], None],
    runtime: RuntimeConfig,
    cluster: ClusterConfig,
) -> list:
    """``[task(shared, item, hook) for item in items]`` on ``workers`` processes, or on the
    Ray cluster ``cluster`` names, in order.

    ``task`` must be a module-level function. Each worker is set up once as it starts:
    its share of the cores, then ``runtime``'s device. What a task passes to its ``hook``
    reaches ``on_event(item index, arguments)`` in this process while it runs. An
    exception in a task is raised here; Ctrl-C stops every worker at once.
    """
    if cluster.ray is not None:
        from forecast_cli import ray_cluster

        return ray_cluster.run(task, shared, items, on_event, runtime)
    context = multiprocessing.get_context("spawn")
    threads = max(1, (os.cpu_count() or 1) // workers)
    with context.Manager() as manager:
        events = manager.Queue()
        pool = context.Pool(workers, initializer=_set_up_worker, initargs=(threads, runtime))
        try:
            pending = [
                pool.apply_async(_call, (task, shared, item, events, i))
                for i, item in enumerate(items)
            ]
            while not all(result.ready() for result in pending):
                signals.raise_pending()
                _drain(events, on_event, timeout=0.1)
            _drain(events, on_event, timeout=0)
            results = [result.get() for result in pending]
            pool.close()
            return results
        finally:
            pool.terminate()  # a no-op after close() once the work is done
            pool.join()


def set_up(threads: int, runtime: RuntimeConfig) -> None:
    """Runs first in each worker: its share of the threads before TensorFlow starts, then
    the device."""
    os.environ["TF_NUM_INTRAOP_THREADS"] = str(threads)
    os.environ["TF_NUM_INTEROP_THREADS"] = str(threads)
    from forecast_cli.runtime import use_device

    use_device(runtime)


def _set_up_worker(threads: int, runtime: RuntimeConfig) -> None:
    """``set_up`` in a worker process that leaves Ctrl-C to the command: a terminal sends
    it to the workers too, where it would stop them anywhere (in TensorFlow's import, its
    log and their tracebacks printed); the command ends its workers itself. (Ray's
    workers are Ray's own, not set up here.)"""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    set_up(threads, runtime)


def _call(task, shared, item, events, index: int):
    return task(shared, item, lambda *event: events.put((index, event)))


def _drain(events, on_event, timeout: float) -> None:
    try:
        while True:
            index, event = events.get(timeout=timeout)
            on_event(index, event)
    except queue.Empty:
        return
