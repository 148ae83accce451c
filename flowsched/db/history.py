"""Try history: one ``task_instance_history`` row per try that started.

A try writes its row when it starts and completes it when it ends, so the UI lists a try
that is still running, and a try that died mid-way keeps its start.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, update
from sqlalchemy.orm import Session

from flowsched.db import rows_changed
from flowsched.db.tables import TaskInstanceHistory
from flowsched.tries import TaskKey


def _where(key: TaskKey) -> list[ColumnElement[bool]]:
    return [
        TaskInstanceHistory.dag_id == key.dag_id,
        TaskInstanceHistory.run_id == key.run_id,
        TaskInstanceHistory.task_id == key.task_id,
        TaskInstanceHistory.map_index == key.map_index,
        TaskInstanceHistory.try_number == key.try_number,
    ]


def record_try(
    session: Session, key: TaskKey, *, exists: bool | None = None, **values: Any
) -> None:
    """Update the columns given in this try's row, or insert the row with them.

    ``exists`` says whether the caller knows the row to exist or not, saving a statement.
    """
    if exists is not False:
        statement = (
            update(TaskInstanceHistory)
            .where(*_where(key))
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if rows_changed(session, statement) == 1:
            return
    session.add(TaskInstanceHistory(**key._asdict(), **values))
