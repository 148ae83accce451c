"""XCom storage as the runner sees it: push JSON values, pull them back by task and key.

Each call uses its own short session: a task may push and pull while it runs for hours,
and SQLite's write lock must only be held for the moment of one write.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from flowsched.db import session_scope
from flowsched.db.tables import XCom, utcnow
from flowsched.db.xcom import RETURN_VALUE_KEY
from flowsched.tries import TaskKey

__all__ = [
    "RETURN_VALUE_KEY",
    "clear_xcoms",
    "pull_mapped",
    "pull_one",
    "push_value",
    "store_value",
]


def store_value(session: Session, key: TaskKey, name: str, value: Any) -> None:
    """Store ``value`` (already checked to be JSON) under ``name`` in ``session``."""
    text = json.dumps(value, allow_nan=False)
    row = session.get(XCom, (key.dag_id, key.run_id, key.task_id, key.map_index, name))
    if row is None:
        session.add(
            XCom(
                dag_id=key.dag_id,
                run_id=key.run_id,
                task_id=key.task_id,
                map_index=key.map_index,
                key=name,
                value=text,
            )
        )
    else:
        row.value, row.timestamp = text, utcnow()


def push_value(key: TaskKey, name: str, value: Any) -> None:
    """``ti.xcom_push`` while the task runs: stored at once, in a session of its own."""
    with session_scope() as session:
        store_value(session, key, name, value)


def pull_one(dag_id: str, run_id: str, task_id: str | None, name: str, map_index: int = -1) -> Any:
    """One value, or None if nothing was pushed.

    ``task_id=None`` takes the latest value pushed under ``name`` by any task of the run.
    """
    query = select(XCom.value).where(XCom.dag_id == dag_id, XCom.run_id == run_id, XCom.key == name)
    if task_id is not None:
        query = query.where(XCom.task_id == task_id, XCom.map_index == map_index)
    with session_scope(readonly=True) as session:
        text = session.scalar(query.order_by(XCom.timestamp.desc()).limit(1))
    return None if text is None else json.loads(text)


def pull_mapped(dag_id: str, run_id: str, task_id: str, name: str) -> list[Any]:
    """The values of every instance of a mapped task, ordered by map_index.

    Instances that pushed nothing are left out, as in Airflow.
    """
    query = select(XCom.value).where(
        XCom.dag_id == dag_id,
        XCom.run_id == run_id,
        XCom.task_id == task_id,
        XCom.key == name,
        XCom.map_index >= 0,
    )
    with session_scope(readonly=True) as session:
        return [json.loads(text) for text in session.scalars(query.order_by(XCom.map_index))]


def clear_xcoms(session: Session, key: TaskKey) -> None:
    """Forget what an earlier try of this task instance pushed: a new try starts clean."""
    session.execute(
        delete(XCom).where(
            XCom.dag_id == key.dag_id,
            XCom.run_id == key.run_id,
            XCom.task_id == key.task_id,
            XCom.map_index == key.map_index,
        )
    )
