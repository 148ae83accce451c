"""The running try's heartbeat: proof of life for the scheduler's zombie detection.

The try's supervisor beats while it waits on the try, so a beat says "the process that
will record this try is alive" (the try dies with it). The beat is a guarded UPDATE
(state running, same try): when it stops matching, someone else (a user marking the
task, a scheduler declaring a zombie) has taken the task instance away, and the try must
stop rather than keep working for nobody.
"""

from __future__ import annotations

from sqlalchemy import update

from flowsched.db import rows_changed, session_scope
from flowsched.db.tables import TaskInstance, TaskInstanceState, utcnow
from flowsched.tries import TaskKey


def beat(key: TaskKey, pid: int) -> bool:
    """Record a heartbeat (and ``pid``, the try's process); False if the TI is no longer
    running this try."""
    statement = (
        update(TaskInstance)
        .where(*TaskInstance.of_try(key), TaskInstance.state == TaskInstanceState.RUNNING)
        .values(last_heartbeat_at=utcnow(), pid=pid)
        .execution_options(synchronize_session=False)
    )
    with session_scope() as session:
        return rows_changed(session, statement) == 1
