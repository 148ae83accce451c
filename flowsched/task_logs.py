"""Where a try's log file is, writing masked lines to it, and reading it while it grows.

The runner writes these files (capturing a try's output: ``flowsched.runner.log_capture``);
the scheduler adds a line when it fails a task itself; the CLI and the web UI read them.
So the path rule and the line format live here, below all of them. Ids come from DAG files, run
triggers and URLs: an id that would lead elsewhere (a ``/`` in ``../../x``) is refused
before any file is opened.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from flowsched.config import conf
from flowsched.masking import mask_secrets

CHUNK_BYTES = 256 * 1024
_SEPARATORS = tuple({"/", os.sep, os.altsep or "/"})


class LogPathError(ValueError):
    """The ids given would point outside the log folder."""


@dataclass
class LogChunk:
    text: str
    next_offset: int
    size: int  # bytes in the file now
    exists: bool


def base_folder() -> Path:
    return Path(conf.logging.base_log_folder)


def log_path(dag_id: str, run_id: str, task_id: str, map_index: int, try_number: int) -> Path:
    """``<base_log_folder>/dag_id=<d>/run_id=<r>/task_id=<t>/[map_index=<i>/]attempt=<n>.log``.

    Raises ``LogPathError`` for an id with a path separator: each id names exactly one
    folder level, so no id can lead outside the log folder or into another try's folder.
    The check is on the strings alone (no file system access): it is on the runner's path.
    """
    for what, value in (("DAG id", dag_id), ("run id", run_id), ("task id", task_id)):
        if any(separator in value for separator in _SEPARATORS):
            raise LogPathError(
                f"{what} {value!r} contains a path separator: its log would not stay in "
                "its place in the log folder"
            )
    folder = base_folder() / f"dag_id={dag_id}" / f"run_id={run_id}" / f"task_id={task_id}"
    if map_index >= 0:
        folder = folder / f"map_index={map_index}"
    return folder / f"attempt={try_number}.log"


def outcome_path(dag_id: str, run_id: str, task_id: str, map_index: int, try_number: int) -> Path:
    """Beside the try's log: the outcome its process wrote as its code ended, kept until
    it is recorded (``runner.outcome_file``)."""
    return log_path(dag_id, run_id, task_id, map_index, try_number).with_suffix(".outcome.json")


def note_in_log(path: Path, source: str, text: str) -> None:
    """Append stamped lines to a try's log from a process other than the try's (the
    scheduler); a log folder that cannot take them is passed over: the caller says the
    same in its own log."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as file:
            LogSink(file).note(source, text)
    except OSError:
        pass


def timestamp() -> str:
    """Now, as every line of a try's log is stamped: UTC, ISO 8601, milliseconds."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class LogSink:
    """One try's log destination, shared by its logger, its stdout/stderr and its fds.

    It masks registered secrets per whole line (never arbitrary chunks): a secret split
    across two ``write`` calls would otherwise slip through unmasked.

    A log that cannot be written (a full or read-only log folder) never fails the try:
    the lines go to ``fallback`` (the process's original standard error) instead, and
    ``problem`` says why, for the supervisor to log once and the task page to show.
    """

    def __init__(
        self, stream: TextIO, fallback: TextIO | None = None, path: Path | None = None
    ) -> None:
        self._stream = stream
        self._fallback = fallback
        self._path = path
        self._lock = threading.Lock()
        self.problem: str | None = None

    def write_line(self, line: str) -> None:
        text = mask_secrets(line) + "\n"
        with self._lock:
            if self.problem is None:
                try:
                    self._stream.write(text)
                    self._stream.flush()
                    return
                except OSError as exc:
                    self.failed(exc)
            if self._fallback is not None:
                with suppress(OSError, ValueError):
                    self._fallback.write(text)
                    self._fallback.flush()

    def failed(self, error: OSError) -> None:
        """From now on, write to the fallback; say why once."""
        if self.problem is None:
            self.problem = f"{self._path or error.filename}: {error.strerror or error}"

    def note(self, source: str, text: str) -> None:
        """Stamped lines from ``source`` (not the task): ``[time] source: text``."""
        for line in text.rstrip("\n").splitlines():
            self.write_line(f"[{timestamp()}] {source}: {line}")


@contextmanager
def try_log_file(path: Path) -> Iterator[LogSink]:
    """A sink appending to the try's log file (a rescheduled try continues its file); to
    this process's standard error (as it is now, before any capture) if the file cannot
    be opened or written."""
    fallback = os.fdopen(os.dup(2), "w", encoding="utf-8", errors="replace")
    try:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            file = path.open("a", encoding="utf-8")
        except OSError as exc:
            sink = LogSink(fallback, fallback, path)
            sink.failed(exc)
            yield sink
            return
        try:
            yield LogSink(file, fallback, path)
        finally:
            with suppress(OSError):  # what a full disk left in the buffer is lost
                file.close()
    finally:
        with suppress(OSError):
            fallback.close()


def read_from(path: Path, offset: int = 0) -> tuple[str, int]:
    """The text of ``path`` after byte ``offset``, and the offset to continue from.

    Only whole lines are returned while the file grows, so a reader never shows half a
    line (or half a UTF-8 character) that the next read would repeat.
    """
    try:
        with path.open("rb") as file:
            file.seek(offset)
            data = file.read()
    except FileNotFoundError:
        return "", offset
    end = data.rfind(b"\n") + 1
    return data[:end].decode("utf-8", errors="replace"), offset + end


def follow(path: Path, *, still_running: Callable[[], bool], poll: float = 0.2) -> Iterator[str]:
    """Chunks of ``path`` as they are written, until ``still_running()`` turns false."""
    offset = 0
    while True:
        running = still_running()  # asked before reading, so the last read gets the end
        text, offset = read_from(path, offset)
        if text:
            yield text
        if not running:
            return
        time.sleep(poll)


def read_chunk(path: Path, offset: int, *, complete: bool) -> LogChunk:
    """At most ``CHUNK_BYTES`` from ``offset`` on, cut after the last full line unless
    the try is over (a page polling a live log asks for one chunk at a time).

    Cutting at a newline means a line the task is still writing (or a UTF-8 character
    split between two reads) comes whole in the next poll.
    """
    try:
        with path.open("rb") as handle:
            size = handle.seek(0, 2)
            handle.seek(min(max(offset, 0), size))
            data = handle.read(CHUNK_BYTES)
    except FileNotFoundError:
        return LogChunk("", offset, 0, exists=False)
    start = min(max(offset, 0), size)
    full_chunk = len(data) == CHUNK_BYTES
    if not complete or full_chunk:
        cut = data.rfind(b"\n") + 1
        if cut or not full_chunk:
            data = data[:cut]
    return LogChunk(data.decode("utf-8", errors="replace"), start + len(data), size, exists=True)
