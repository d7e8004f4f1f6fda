"""Where a command's independent pieces of work run (compare's jobs, backtest's folds): in
this process, in worker processes that share the cores, or as tasks of a Ray cluster
(``--ray``, ``ray_cluster``).

Small recurrent networks keep one core busy at most, so on a machine with several cores
training them in separate processes (each limited to its share of the threads) is what
uses the hardware. Workers are spawned, never forked: TensorFlow is not fork-safe. Each
imports TensorFlow and sets its device up as it starts; the command's own process never
imports TensorFlow, which would put its import (seconds) before theirs.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import ctypes
import multiprocessing
import os
import queue
import signal
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from multiprocessing.managers import SyncManager
from typing import Any

from forecast_cli import signals
from forecast_cli.config import ClusterConfig, RuntimeConfig, Xla
from forecast_cli.errors import WorkerLost
from forecast_cli.runtime import use_device

Hook = Callable[..., None]
Task = Callable[[Any, Any, Hook], Any]
OnEvent = Callable[[int, tuple], None]
Meanwhile = Callable[[], object] | None
POLL = 0.1  # seconds between looks at the workers' progress events


def slots(runtime: RuntimeConfig, xla: Xla, cluster: ClusterConfig) -> int:
    """How many pieces of work can run at once: one per core of this machine, or per CPU
    of the Ray cluster ``cluster`` names (joined here)."""
    if cluster.ray is None:
        return os.cpu_count() or 1
    from forecast_cli import ray_cluster

    return ray_cluster.connect(cluster.ray, runtime, xla)[1]


@contextlib.contextmanager
def workers(
    count: int, runtime: RuntimeConfig, xla: Xla, cluster: ClusterConfig
) -> Iterator[InProcess | Pool | Ray]:
    """Where ``count`` pieces of work run at a time: the Ray cluster ``cluster`` names; this
    process, its device set up at once, when ``count`` is 1; else ``count`` worker
    processes, started now and stopped on leaving the block."""
    if cluster.ray is not None:
        yield Ray(cluster.ray, runtime, xla)
    elif count == 1:
        yield InProcess(use_device(runtime, xla))
    else:
        _refuse_in_a_starting_worker()
        context = multiprocessing.get_context("spawn")
        threads = max(1, (os.cpu_count() or 1) // count)
        manager = SyncManager(ctx=context)
        try:
            manager.start(_die_with, (os.getpid(),))  # its process starts here
        except EOFError:  # it ended as it started, and said why on standard error
            raise WorkerLost(
                "The worker processes could not start (any error of theirs is above); --jobs 1 "
                "(jobs=1 in Python) trains in this process."
            ) from None
        with manager:
            events = manager.Queue()
            pool = context.Pool(
                count,
                initializer=_set_up_worker,
                initargs=(os.getpid(), threads, runtime, xla, events),
            )
            try:
                yield Pool(pool, events, count)
                pool.close()
            finally:
                pool.terminate()  # a no-op after close() once the work is done
                pool.join()


def _refuse_in_a_starting_worker() -> None:
    """End a worker that is still importing the script that started it, in one line.

    A spawned process imports the main script again; one that starts its work as it is
    imported, not under ``if __name__ == "__main__":``, would start the work anew in each
    worker, which multiprocessing refuses with a page of traceback."""
    # the flag multiprocessing's own check reads (spawn._check_not_importing_main)
    if getattr(multiprocessing.current_process(), "_inheriting", False):
        raise SystemExit(
            "Error: a worker process imported the script that started it, which starts the "
            "work again: keep the script's work under 'if __name__ == \"__main__\":', or "
            "pass jobs=1."
        )


@dataclass(frozen=True)
class InProcess:
    """Work run here, one piece after the other."""

    described: str

    in_process = True

    def device(self) -> str:
        return self.described

    def run(
        self, task: Task, shared: Any, items: list, on_event: OnEvent, meanwhile: Meanwhile = None
    ) -> list:
        """``[task(shared, item, hook) for item in items]``; what a task passes to its
        ``hook`` reaches ``on_event(item index, arguments)``. ``meanwhile()``, work of
        this process that does not wait for the tasks, runs while they do where they run
        elsewhere, here before them."""
        if meanwhile:
            meanwhile()
        return [
            task(shared, item, lambda *event, i=i: on_event(i, event))
            for i, item in enumerate(items)
        ]


@dataclass(frozen=True)
class Pool:
    """Worker processes, each set up as it starts: its share of the cores, then the
    device (``set_up``).

    A worker that dies (killed, for lack of memory for instance, or crashed) is replaced
    by the pool, and its task never ends: each worker says when it starts, and a start
    beyond ``count`` ends the command instead of leaving it waiting forever."""

    pool: Any  # multiprocessing.pool.Pool
    events: Any  # the Manager's queue of the tasks' hook calls and the workers' starts
    count: int
    started: list[int] = field(default_factory=list)  # the workers' process ids

    in_process = False

    def device(self) -> str:
        """What the workers train on, once one of them has set its device up; an error of
        that set-up (a device or flag it refused) is raised here."""
        return self._wait([self.pool.apply_async(_device)], lambda *event: None)[0]

    def run(
        self, task: Task, shared: Any, items: list, on_event: OnEvent, meanwhile: Meanwhile = None
    ) -> list:
        """``InProcess.run`` on the workers, in order. ``task`` must be a module-level
        function. An exception in a task is raised here; Ctrl-C stops every worker at once."""
        pending = [
            self.pool.apply_async(_call, (task, shared, item, self.events, i))
            for i, item in enumerate(items)
        ]
        return alongside(meanwhile, lambda: self._wait(pending, on_event))

    def _wait(self, pending: list, on_event: OnEvent) -> list:
        while not all(result.ready() for result in pending):
            signals.raise_pending()
            self._drain(pending, on_event, timeout=POLL)
        self._drain(pending, on_event, timeout=0)
        return [result.get() for result in pending]

    def _drain(self, pending: list, on_event: OnEvent, timeout: float) -> None:
        try:
            while True:
                index, event = self.events.get(timeout=timeout)
                if index != _STARTED:
                    on_event(index, event)
                    continue
                self.started.append(event[0])
                # The pool replaced a worker that died: lost work, unless all is done.
                if len(self.started) > self.count and not all(r.ready() for r in pending):
                    raise WorkerLost(
                        "A worker process ended before its work was done (killed, for "
                        "instance for lack of memory, or crashed); fewer --jobs need less "
                        "memory, and with --jobs 1 the work runs in this process, where "
                        "the cause shows."
                    )
        except queue.Empty:
            return


@dataclass(frozen=True)
class Ray:
    """Tasks of a Ray cluster, which set their device up where they run."""

    address: str
    runtime: RuntimeConfig
    xla: Xla

    in_process = False

    def device(self) -> str:
        from forecast_cli import ray_cluster

        return ray_cluster.connect(self.address, self.runtime, self.xla)[0]

    def run(
        self, task: Task, shared: Any, items: list, on_event: OnEvent, meanwhile: Meanwhile = None
    ) -> list:
        from forecast_cli import ray_cluster

        return ray_cluster.run(task, shared, items, on_event, self.runtime, meanwhile)


def alongside(meanwhile: Meanwhile, wait: Callable[[], list]) -> list:
    """``wait()`` for tasks sent elsewhere, with ``meanwhile()`` (this process's own work,
    which needs none of them) in a thread beside it: this thread passes the tasks' events
    on (the progress shown) and takes the signals. ``meanwhile``'s error is raised once
    the tasks are done; if a task fails or Ctrl-C comes, it is left to end alone."""
    if not meanwhile:
        return wait()
    beside = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="meanwhile")
    try:
        done = beside.submit(meanwhile)
        results = wait()
        done.result()
        return results
    finally:
        beside.shutdown(wait=False)


def set_up(threads: int, runtime: RuntimeConfig, xla: Xla = Xla.AUTO) -> str:
    """Runs first in each worker: its share of the threads before TensorFlow starts, then
    the device; says what it trains on."""
    os.environ["TF_NUM_INTRAOP_THREADS"] = str(threads)
    os.environ["TF_NUM_INTEROP_THREADS"] = str(threads)
    return use_device(runtime, xla)


_set_up: str | Exception = ""  # in a worker process: what ``set_up`` said, or raised
_STARTED = -1  # the item index of a worker's start on the events queue
PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _set_up_worker(command: int, threads: int, runtime: RuntimeConfig, xla: Xla, events) -> None:
    """``set_up`` in a worker process that leaves Ctrl-C to the command: a terminal sends
    it to the workers too, where it would stop them anywhere (in TensorFlow's import, its
    log and their tracebacks printed); the command ends its workers itself, and a worker
    ends with the command's process ``command`` (``_die_with``). (Ray's workers are Ray's
    own, not set up here.) An error is kept for the worker's tasks to raise: raised here,
    it would make the pool start new workers forever."""
    global _set_up
    _die_with(command)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    events.put((_STARTED, (os.getpid(),)))
    try:
        _set_up = set_up(threads, runtime, xla)
    except Exception as exc:
        _set_up = exc


def _die_with(command: int) -> None:
    """On Linux, have the kernel kill this process when the process that started it,
    ``command``, ends: a command killed outright (SIGKILL, the out-of-memory killer) would
    otherwise leave its workers training for nothing and its manager process running.
    (The kernel watches the thread that started this process; ``workers`` starts them in
    the thread that holds its block, and the pool its replacements in a thread of its
    own, each outliving them.)"""
    if sys.platform != "linux":
        return
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != command:  # it ended before the line above
        os._exit(1)


def _device() -> str:
    if isinstance(_set_up, Exception):
        raise _set_up
    return _set_up


def _call(task, shared, item, events, index: int):
    _device()  # a worker whose set-up failed runs nothing
    return task(shared, item, lambda *event: events.put((index, event)))
