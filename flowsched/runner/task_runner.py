"""One try of one task instance: claiming it and recording how it ended (SPEC §7).

The try starts with a guarded ``queued -> running`` and ends with a guarded change from
``running`` (same try number): if another process owns the try, this one neither runs it
nor overwrites what the owner recorded. Its end is committed together with its XComs and
the tasks it skips, so the scheduler never sees a finished task without them.

Both steps run in the try's supervisor, a long-lived process (a worker) whose database
connection and compiled statements stay warm from try to try; the try's own forked
process (``try_process``) only runs the task. A fresh process would pay for a new engine,
a connection, a schema read and statement compilation on every try: most of a small
task's cost, and most of it while holding SQLite's write lock.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update

from flowsched.db import session_scope
from flowsched.executors.base import TaskKey
from flowsched.models import DagRun, TaskInstance, TaskInstanceState, utcnow
from flowsched.models.states import transition_ti
from flowsched.runner import xcom
from flowsched.runner.context import previous_success
from flowsched.runner.execution import TryResult
from flowsched.runner.failure import FailurePolicy, handle_failure
from flowsched.runner.history import find_try, record_try
from flowsched.runner.skip import skip_tasks

if TYPE_CHECKING:
    from flowsched.authoring.dag import DAG

State = TaskInstanceState


@dataclass
class StartedTry:
    """What the try read while claiming its task instance."""

    row: TaskInstance  # detached, with the values this try set
    dag_run: DagRun
    previous: DagRun | None


def claim_try(key: TaskKey, executor: str) -> StartedTry | None:
    """``queued -> running`` for this try, its history row and a clean XCom slate; None
    if the task instance is not queued for this try (someone else owns it).

    The try's process does not exist yet: its pid comes with its first heartbeat, and
    with its end.

    A try coming back from ``up_for_reschedule`` already has its history row: it keeps its
    start_date (a sensor's timeout counts from its first poke) and its XComs.
    """
    now = utcnow()
    with session_scope() as session:
        row = session.get(TaskInstance, (key.dag_id, key.run_id, key.task_id, key.map_index))
        if row is None or row.state != State.QUEUED or row.try_number != key.try_number:
            return None
        dag_run = session.scalar(
            select(DagRun).where(DagRun.dag_id == key.dag_id, DagRun.run_id == key.run_id)
        )
        if dag_run is None:
            raise LookupError(f"DAG run {key.run_id!r} of DAG {key.dag_id!r} does not exist")
        continuing = find_try(session, key) is not None
        values: dict[str, Any] = {
            "start_date": row.start_date if continuing and row.start_date else now,
            "end_date": None,
            "duration": None,
            "hostname": socket.gethostname(),
            "pid": None,
            "executor": executor,
        }
        won = transition_ti(
            session,
            **_where(key),
            expected=[State.QUEUED],
            new=State.RUNNING,
            try_number=key.try_number,
            last_heartbeat_at=now,
            next_try_at=None,
            **values,
        )
        if not won:
            return None
        record_try(
            session,
            key,
            exists=continuing,
            state=State.RUNNING,
            queued_dttm=row.queued_dttm,
            **values,
        )
        if not continuing and key.try_number > 1:  # a first try has nothing to clear
            xcom.clear_xcoms(session, key)
        previous = previous_success(session, dag_run)
        session.expunge(row)
    for name, value in values.items():
        setattr(row, name, value)
    row.state = State.RUNNING
    return StartedTry(row, dag_run, previous)


def record_result(key: TaskKey, dag: DAG, started: StartedTry, result: TryResult) -> str | None:
    """Commit how the try ended (``started.row.pid`` set to the try's process); the state
    it is in now, or None if it was no longer running this try (changed from outside)."""
    if result.state == State.FAILED:
        assert result.error is not None
        task = dag.task_dict.get(key.task_id)
        policy = FailurePolicy.from_task(task) if task is not None else FailurePolicy()
        with session_scope() as session:
            return handle_failure(
                session,
                started.row,
                policy,
                result.error,
                run_callbacks=False,  # the try's process runs them, where the task is
                end_date=result.ended_at,
            )
    start = started.row.start_date
    values: dict[str, Any] = {
        "end_date": result.ended_at,
        "duration": (result.ended_at - start).total_seconds() if start else None,
        "pid": started.row.pid,
    }
    with session_scope() as session:
        won = transition_ti(
            session,
            **_where(key),
            expected=[State.RUNNING],
            new=result.state,
            try_number=key.try_number,
            next_try_at=result.reschedule_date,
            **values,
        )
        if not won:
            return None
        for name, value in result.xcoms.items():
            xcom.store_value(session, key, name, value)
        if result.skip:
            skip_tasks(session, dag, key.run_id, result.skip)
        record_try(session, key, exists=True, state=result.state, **values)
    return result.state


def _running(key: TaskKey) -> list[Any]:
    return [
        TaskInstance.dag_id == key.dag_id,
        TaskInstance.run_id == key.run_id,
        TaskInstance.task_id == key.task_id,
        TaskInstance.map_index == key.map_index,
        TaskInstance.try_number == key.try_number,
        TaskInstance.state == State.RUNNING,
    ]


def store_rendered(key: TaskKey, fields: dict[str, Any]) -> None:
    """Show the try's rendered template fields (in the UI) while it runs."""
    with session_scope() as session:
        session.execute(
            update(TaskInstance)
            .where(*_running(key))
            .values(rendered_fields=fields)
            .execution_options(synchronize_session=False)
        )


def _where(key: TaskKey) -> dict[str, Any]:
    return {
        "dag_id": key.dag_id,
        "run_id": key.run_id,
        "task_id": key.task_id,
        "map_index": key.map_index,
    }
