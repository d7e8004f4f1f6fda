"""Ctrl-C and SIGTERM while a command runs.

The first Ctrl-C stops what runs: a training then keeps its best weights and the command
saves them. The next ones end the process at once, before TensorFlow, stopped in the
middle of its work, prints errors about it. SIGTERM unwinds like an error, so temporary
files are removed and nothing is saved.

Python raises a Ctrl-C as ``KeyboardInterrupt`` wherever the main thread is. When that
is a destructor (TensorFlow frees objects all through a training), Python can only print
the exception as "Exception ignored" and drop it: the Ctrl-C is kept pending instead,
without the print, and a training raises it at its next step (``raise_pending``).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from collections.abc import Iterator

INTERRUPTED = 130  # the shell's status for a process that Ctrl-C ended

_pending = False  # a Ctrl-C has stopped what runs, and no training has handled it yet


@contextlib.contextmanager
def handlers() -> Iterator[None]:
    """Ctrl-C and SIGTERM as above while the block runs, unless the process ignores or
    handles Ctrl-C itself; after it, a Ctrl-C already pressed keeps exiting at once."""
    global _pending
    _pending = False
    sigterm = signal.signal(signal.SIGTERM, _exit_on_sigterm)
    ctrl_c = signal.getsignal(signal.SIGINT)
    if ctrl_c is signal.default_int_handler:  # not where Ctrl-C is ignored or handled
        signal.signal(signal.SIGINT, _stop_on_ctrl_c)
    unraisable, sys.unraisablehook = sys.unraisablehook, _drop_pending(sys.unraisablehook)
    try:
        yield
    finally:
        sys.unraisablehook = unraisable
        signal.signal(signal.SIGTERM, sigterm)
        if signal.getsignal(signal.SIGINT) is _stop_on_ctrl_c:
            signal.signal(signal.SIGINT, ctrl_c)


def raise_pending() -> None:
    """Raise the Ctrl-C that a destructor dropped, if one did: call where stopping is safe."""
    if _pending:
        raise KeyboardInterrupt


def handle_pending() -> None:
    """Say that the Ctrl-C stopped what it was meant to stop."""
    global _pending
    _pending = False


def _stop_on_ctrl_c(signum, frame):
    global _pending
    _pending = True
    signal.signal(signal.SIGINT, _exit_at_once)
    raise KeyboardInterrupt


def _exit_at_once(signum, frame):
    with contextlib.suppress(Exception):  # the output may be in the middle of a write
        sys.stdout.flush()
    os.write(2, b"\nInterrupted again: stopped at once, saving nothing more.\n")
    os._exit(INTERRUPTED)


def _exit_on_sigterm(signum, frame):
    raise SystemExit(128 + signum)


def _drop_pending(hook):
    """``hook`` but silent on a Ctrl-C raised in a destructor, which stays pending."""

    def unraisable(info) -> None:
        if not (_pending and issubclass(info.exc_type, KeyboardInterrupt)):
            hook(info)

    return unraisable
