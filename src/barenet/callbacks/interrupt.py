"""Ctrl-C during training: stop at the next batch boundary."""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager


@contextmanager
def interrupt_at_batch_boundary():
    """While active, Ctrl-C (SIGINT) only sets `flag["hit"]`; the training loop stops at the
    next batch boundary, so no update is left half-applied. A second Ctrl-C raises
    `KeyboardInterrupt` at once. Outside the main thread, or when someone else already
    handles SIGINT, nothing is installed (a `KeyboardInterrupt` is still caught by `fit`).
    """
    flag = {"hit": False}
    if threading.current_thread() is not threading.main_thread() \
            or signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        yield flag
        return

    def handler(signum, frame):
        if flag["hit"]:
            raise KeyboardInterrupt
        flag["hit"] = True

    signal.signal(signal.SIGINT, handler)
    try:
        yield flag
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
