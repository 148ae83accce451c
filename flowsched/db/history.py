"""Try history: one ``task_instance_history`` row per try that started.

A try writes its row when it starts and completes it when it ends, so the UI lists a try
that is still running, and a try that died mid-way keeps its start.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from flowsched.db import rows_changed
from flowsched.db.tables import TaskInstance, TaskInstanceHistory
from flowsched.tries import TaskKey


def record_try(
    session: Session, key: TaskKey, *, exists: bool | None = None, **values: Any
) -> None:
    """Update the columns given in this try's row, or insert the row with them.

    ``exists`` says whether the caller knows the row to exist or not, saving a statement.
    """
    if exists is not False:
        statement = (
            update(TaskInstanceHistory)
            .where(*TaskInstanceHistory.of_try(key))
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if rows_changed(session, statement) == 1:
            return
    session.add(TaskInstanceHistory(**key._asdict(), **values))


def record_ended_try(
    session: Session, ti: TaskInstance, *, state: str, end_date: datetime, error: str | None
) -> None:
    """Complete the row of ``ti``'s current try, ended in ``state`` outside its own
    process (failed or lost): the try cannot write its row itself any more."""
    record_try(
        session,
        ti.key,
        state=state,
        hostname=ti.hostname,
        pid=ti.pid,
        start_date=ti.start_date,
        end_date=end_date,
        duration=(end_date - ti.start_date).total_seconds() if ti.start_date else None,
        error=error,
    )
