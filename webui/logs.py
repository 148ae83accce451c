"""A try's log for the web UI: the next chunk for a live tail, and whether it is over.

Ids come from the URL; ``flowsched.task_logs.log_path`` refuses ids that would lead
outside the log folder (a ``..`` in a run id or task id) before any file is opened.
"""

from __future__ import annotations

from dataclasses import dataclass

from flowsched.db.tables import TaskInstance
from flowsched.task_logs import LogChunk, log_path, read_chunk
from webui.queries.tries import try_is_over


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
