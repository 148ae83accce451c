"""Stopping a running task from outside its code: execution_timeout and SIGTERM.

Both raise an exception in the task's (main) thread, so the try ends through the normal
failure path: the operator's ``on_kill`` stops what it started, the failure policy and
callbacks run, and the log says why. They derive from BaseException so that a task's
own ``except Exception`` cannot swallow them. The supervising process keeps a hard
deadline of its own in case the task is stuck where no signal reaches Python code.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from flowsched.exceptions import TaskInterrupted, TaskTimeout

__all__ = ["TaskInterrupted", "TaskTimeout", "execution_timeout", "timeout_message"]


def timeout_message(seconds: float) -> str:
    return f"Task timed out after {seconds:g} s (execution_timeout)"


def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@contextmanager
def execution_timeout(seconds: float | None) -> Iterator[None]:
    """Raise ``TaskTimeout`` in this thread after ``seconds`` (no limit when None)."""
    if not seconds or not _in_main_thread():
        yield
        return

    def expire(_signum: int, _frame: FrameType | None) -> None:
        raise TaskTimeout(timeout_message(seconds))

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@contextmanager
def sigterm_interrupts() -> Iterator[None]:
    """Turn SIGTERM (a user marking the task, a stopping executor) into TaskInterrupted."""
    if not _in_main_thread():
        yield
        return

    def terminate(_signum: int, _frame: FrameType | None) -> None:
        raise TaskInterrupted("Task received SIGTERM")

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
