"""Helpers shared by the runner, executor and ``tasks`` CLI tests: a DAG file in the dags
folder, a run of it and a queued try, written as the scheduler would leave them."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from flowsched.db import session_scope
from flowsched.db.tables import DagRun, TaskInstance, TaskInstanceHistory, XCom
from flowsched.task_logs import log_path
from flowsched.tries import ExecutorEvent, TaskKey

LOGICAL_DATE = datetime(2024, 3, 1, tzinfo=UTC)
RUN_ID = "manual__2024-03-01T00:00:00+00:00"


def write_dag(folder: Path, name: str, source: str) -> str:
    """Write a DAG file (source dedented) and return its path."""
    path = folder / f"{name}.py"
    path.write_text(textwrap.dedent(source))
    return str(path)


def create_run(
    dag_id: str,
    *,
    run_id: str = RUN_ID,
    logical_date: datetime = LOGICAL_DATE,
    conf: dict[str, Any] | None = None,
    state: str = "running",
) -> str:
    with session_scope() as session:
        session.add(
            DagRun(
                dag_id=dag_id,
                run_id=run_id,
                run_type=run_id.split("__")[0],
                logical_date=logical_date,
                data_interval_start=logical_date,
                data_interval_end=logical_date + timedelta(days=1),
                state=state,
                conf=conf or {},
                start_date=logical_date,
            )
        )
    return run_id


def queue_ti(
    dag_id: str,
    task_id: str,
    *,
    run_id: str = RUN_ID,
    map_index: int = -1,
    try_number: int = 1,
    max_tries: int = 0,
    state: str | None = "queued",
) -> TaskKey:
    """A task instance row in ``state`` for try ``try_number`` (what the scheduler queues)."""
    with session_scope() as session:
        row = session.get(TaskInstance, (dag_id, run_id, task_id, map_index))
        if row is None:
            row = TaskInstance(dag_id=dag_id, run_id=run_id, task_id=task_id, map_index=map_index)
            session.add(row)
        row.try_number, row.max_tries, row.state = try_number, max_tries, state
    return TaskKey(dag_id, run_id, task_id, map_index, try_number)


def ti(key: TaskKey) -> TaskInstance:
    with session_scope(readonly=True) as session:
        row = session.get(TaskInstance, (key.dag_id, key.run_id, key.task_id, key.map_index))
        assert row is not None, f"no task instance {key}"
        session.expunge(row)
        return row


def history(key: TaskKey) -> list[TaskInstanceHistory]:
    with session_scope(readonly=True) as session:
        query = select(TaskInstanceHistory).where(
            TaskInstanceHistory.dag_id == key.dag_id,
            TaskInstanceHistory.run_id == key.run_id,
            TaskInstanceHistory.task_id == key.task_id,
            TaskInstanceHistory.map_index == key.map_index,
        )
        rows = list(session.scalars(query.order_by(TaskInstanceHistory.try_number)))
        session.expunge_all()
        return rows


def xcom_values(dag_id: str, task_id: str, run_id: str = RUN_ID) -> dict[tuple[int, str], str]:
    """Stored XComs of a task as {(map_index, key): JSON text}."""
    with session_scope(readonly=True) as session:
        rows = session.scalars(
            select(XCom).where(
                XCom.dag_id == dag_id, XCom.run_id == run_id, XCom.task_id == task_id
            )
        )
        return {(row.map_index, row.key): row.value for row in rows}


def read_log(key: TaskKey) -> str:
    return log_path(*key).read_text()


def run_supervised(fileloc: str, key: TaskKey) -> ExecutorEvent:
    """Run one try as a worker does (supervised, in a child process); its event."""
    from flowsched.runner.queued_try import run_queued_try

    events: list[ExecutorEvent] = []
    run_queued_try(key, fileloc, executor="test", report=events.append)
    assert len(events) == 1, events
    return events[0]


def run_state(fileloc: str, key: TaskKey) -> str | None:
    """Run one try as a worker does; the state it ended in (None: it did not run)."""
    return run_supervised(fileloc, key).state
