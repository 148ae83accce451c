"""Capturing what a try prints and logs into its log file (``flowsched.task_logs``).

Everything a try prints or logs, and what its subprocesses write to fds 1 and 2, goes
through the try's one ``LogSink``, which masks registered secrets line by line.
"""

from __future__ import annotations

import io
import logging
import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flowsched.config import conf
from flowsched.task_logs import LogSink, timestamp, try_log_file

TASK_LOGGER = "flowsched.task"


class _UtcFormatter(logging.Formatter):
    """Log records stamped like the try's other lines: UTC, ISO 8601, milliseconds."""

    converter = staticmethod(time.gmtime)
    default_time_format = "%Y-%m-%dT%H:%M:%S"
    default_msec_format = "%s.%03dZ"


class SinkHandler(logging.Handler):
    """A logging handler writing formatted, masked records to a ``LogSink``."""

    def __init__(self, sink: LogSink) -> None:
        super().__init__()
        self.sink = sink
        self.setFormatter(_UtcFormatter("[%(asctime)s] %(levelname)s %(name)s - %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            for line in self.format(record).splitlines() or [""]:
                self.sink.write_line(line)
        except Exception:
            self.handleError(record)


class SinkStream(io.TextIOBase):
    """A text stream (for ``sys.stdout``/``sys.stderr``) that hands whole lines to a sink."""

    def __init__(self, sink: LogSink, label: str) -> None:
        self._sink = sink
        self._label = label
        self._partial = ""
        self._lock = threading.Lock()

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        with self._lock:
            *lines, self._partial = (self._partial + text).split("\n")
        for line in lines:
            self._sink.write_line(f"[{timestamp()}] {self._label}: {line}")
        return len(text)

    def flush(self) -> None:
        with self._lock:
            rest, self._partial = self._partial, ""
        if rest:
            self._sink.write_line(f"[{timestamp()}] {self._label}: {rest}")


class _FdCapture(threading.Thread):
    """Sends what is written to fds 1 and 2 (e.g. by a child process) to the sink.

    A task's subprocesses write to the file descriptors, not to ``sys.stdout``; a pipe
    read by this thread lets their output be masked like everything else.
    """

    def __init__(self, sink: LogSink) -> None:
        super().__init__(name="flowsched-log-capture", daemon=True)
        self._sink = sink
        self._read_fd, self._write_fd = os.pipe()
        self._saved = [os.dup(1), os.dup(2)]

    def __enter__(self) -> _FdCapture:
        for stream in (sys.__stdout__, sys.__stderr__):
            if stream is not None:
                stream.flush()
        os.dup2(self._write_fd, 1)
        os.dup2(self._write_fd, 2)
        os.close(self._write_fd)
        self.start()
        return self

    def run(self) -> None:
        with os.fdopen(self._read_fd, "rb") as pipe:
            for raw in pipe:
                line = raw.decode("utf-8", errors="replace").rstrip("\n")
                self._sink.write_line(f"[{timestamp()}] output: {line}")

    def __exit__(self, *exc_info: object) -> None:
        # Restoring fds 1 and 2 closes the pipe's last writers we own; the reader then
        # sees EOF once any grandchild still holding them has exited as well.
        os.dup2(self._saved[0], 1)
        os.dup2(self._saved[1], 2)
        for fd in self._saved:
            os.close(fd)
        self.join(timeout=2.0)


@contextmanager
def capture_try_output(sink: LogSink, *, capture_fds: bool) -> Iterator[None]:
    """Route logging, ``sys.stdout``/``sys.stderr`` (and fds 1, 2) to ``sink`` alone.

    The root logger's own handlers (say, the scheduler's console, inherited through fork)
    are set aside meanwhile: through the captured fds they would log every line twice.
    """
    root = logging.getLogger()
    old_handlers, old_level = root.handlers[:], root.level
    old_streams = sys.stdout, sys.stderr
    stdout, stderr = SinkStream(sink, "stdout"), SinkStream(sink, "stderr")
    root.handlers = [SinkHandler(sink)]
    root.setLevel(conf.logging.level)
    sys.stdout, sys.stderr = stdout, stderr
    try:
        if capture_fds:
            with _FdCapture(sink):
                yield
        else:
            yield
    finally:
        stdout.flush()
        stderr.flush()
        sys.stdout, sys.stderr = old_streams
        root.handlers = old_handlers
        root.setLevel(old_level)


@contextmanager
def supervisor_log(path: Path) -> Iterator[LogSink]:
    """The try's log, for what its supervisor says (and runs) after the try's process
    died; stderr if the file cannot be written, so that the words are not lost (the
    problem is logged once by this process)."""
    with try_log_file(path) as sink:
        yield sink
    if sink.problem is not None:
        report_log_problem(sink.problem)


_reported: set[str] = set()


def report_log_problem(problem: str) -> None:
    """Log, once per process (a worker) and kind of OS error, that tries' logs cannot be
    written: where and why. The tries go on; their output goes to this process's
    standard error meanwhile."""
    kind = problem.rsplit(": ", 1)[-1]
    if kind in _reported:
        return
    _reported.add(kind)
    logging.getLogger("flowsched.executor").error(
        "cannot write the task log %s; the tries run on and their output goes to this "
        "worker's standard error meanwhile (said once per worker)",
        problem,
    )
