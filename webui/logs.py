"""Task logs on disk: where a try's log is, and reading it in chunks for a live tail.

Ids come from the URL, so the path is resolved and must stay under the base log folder:
a ``..`` in a run id or task id is refused instead of reading another file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from flowsched.config import conf
from flowsched.db.tables import TaskInstance
from flowsched.runner import logs as runner_logs
from webui.queries.tries import try_is_over

CHUNK_BYTES = 256 * 1024


class LogPathError(ValueError):
    """The ids given would point outside the log folder."""


@dataclass
class LogChunk:
    text: str
    next_offset: int
    size: int  # bytes in the file now
    exists: bool


def base_folder() -> Path:
    return Path(conf.logging.base_log_folder).resolve()


def log_path(dag_id: str, run_id: str, task_id: str, map_index: int, try_number: int) -> Path:
    """Where the runner writes this try's log, refused if the ids lead outside the folder."""
    base = base_folder()
    path = runner_logs.log_path(dag_id, run_id, task_id, map_index, try_number).resolve()
    if not path.is_relative_to(base):
        raise LogPathError(f"{path} is outside the log folder")
    return path


def read_chunk(path: Path, offset: int, *, complete: bool) -> LogChunk:
    """Bytes from ``offset`` on, cut after the last full line unless the try is over.

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


@dataclass
class Tail:
    chunk: LogChunk
    done: bool  # the try is over and everything was read: the page may stop polling


def tail_try(ti: TaskInstance, try_number: int, offset: int) -> Tail:
    """The next chunk of one try's log for a poller that has read up to ``offset``."""
    over = try_number < ti.try_number or try_is_over(ti.state)
    path = log_path(ti.dag_id, ti.run_id, ti.task_id, ti.map_index, try_number)
    chunk = read_chunk(path, offset, complete=over)
    return Tail(chunk, over and chunk.next_offset >= chunk.size)
