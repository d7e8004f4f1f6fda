"""Ctrl-C and SIGTERM while a command runs.

The first Ctrl-C stops what runs: a training then keeps its best weights and the command
saves them. The next ones end the process at once, before TensorFlow, stopped in the
middle of its work, prints errors about it. SIGTERM unwinds like an error, so temporary
files are removed and nothing is saved.

Python raises a signal's exception (``KeyboardInterrupt``, or ``SystemExit`` for SIGTERM)
wherever the main thread is. Two places break that. In a destructor (TensorFlow frees
objects all through a training), Python can only print the exception as "Exception
ignored" and drop it. In Python code that TensorFlow's C++ calls, such as the exception
it builds at the end of every validation pass, the exception replaces the one pybind11
is handling: the run ends in a ``RuntimeError``, or its heap is corrupted and it aborts.
So the exception is kept pending, and raised again where stopping is safe
(``raise_pending``): at a training's next step, and while worker processes or Ray tasks
run. While a training runs (``deferred``) the signal only leaves it pending; elsewhere
it is raised at once too, and only a destructor's drop needs the pending copy.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from collections.abc import Iterator

INTERRUPTED = 130  # the shell's status for a process that Ctrl-C ended

# The exception of the last signal that stopped, or is to stop, what runs, until a
# training says it stopped (``handle_pending``) or the command ends.
_pending: BaseException | None = None
# Whether a signal only leaves its exception pending (``deferred``).
_deferring = False


@contextlib.contextmanager
def handlers() -> Iterator[None]:
    """Ctrl-C and SIGTERM as above while the block runs, unless the process ignores or
    handles Ctrl-C itself; after it, a Ctrl-C already pressed keeps exiting at once."""
    global _pending
    sigterm, ctrl_c, unraisable = (
        signal.getsignal(signal.SIGTERM),
        signal.getsignal(signal.SIGINT),
        sys.unraisablehook,
    )
    try:
        _pending = None
        sys.unraisablehook = _drop_pending(unraisable)
        signal.signal(signal.SIGTERM, _exit_on_sigterm)
        if ctrl_c is signal.default_int_handler:  # not where Ctrl-C is ignored or handled
            signal.signal(signal.SIGINT, _stop_on_ctrl_c)
        yield
    finally:
        if signal.getsignal(signal.SIGINT) is _stop_on_ctrl_c:
            signal.signal(signal.SIGINT, ctrl_c)
        signal.signal(signal.SIGTERM, sigterm)
        sys.unraisablehook = unraisable
        _pending = None


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """While the block runs, Ctrl-C and SIGTERM only leave their exception pending, for
    the block's ``raise_pending`` calls; one still pending is raised when it ends."""
    global _deferring
    before, _deferring = _deferring, True
    try:
        yield
    finally:
        _deferring = before
    raise_pending()


def raise_pending() -> None:
    """Raise the signal's exception left pending (by ``deferred``, or dropped by a
    destructor), if one is: call it where stopping is safe."""
    if _pending is not None:
        raise _pending


def handle_pending() -> None:
    """Say that the Ctrl-C stopped what it was meant to stop."""
    global _pending
    _pending = None


def _stop_on_ctrl_c(signum, frame):
    global _pending
    signal.signal(signal.SIGINT, _exit_at_once)
    if not isinstance(_pending, SystemExit):  # a SIGTERM still to raise saves nothing
        _pending = KeyboardInterrupt()
    if not _deferring:
        raise _pending


def _exit_at_once(signum, frame):
    processes = sys.modules.get("multiprocessing")  # loaded where workers were started
    with contextlib.suppress(Exception):  # in whatever state the signal found it
        for worker in processes.active_children() if processes else ():
            worker.kill()  # they leave Ctrl-C to this process
    with contextlib.suppress(Exception):  # the output may be in the middle of a write
        sys.stdout.flush()
    os.write(2, b"\nInterrupted again: stopped at once, saving nothing more.\n")
    os._exit(INTERRUPTED)


def _exit_on_sigterm(signum, frame):
    global _pending
    _pending = SystemExit(128 + signum)
    if not _deferring:
        raise _pending


def _drop_pending(hook):
    """``hook`` but silent on the pending exception raised in a destructor."""

    def unraisable(info) -> None:
        if _pending is None or info.exc_value is not _pending:
            hook(info)

    return unraisable
