"""One try of one task instance: claiming it and recording how it ended
(docs/architecture.md, "Executor contract").

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

import os
import socket
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import ColumnElement, Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from flowsched.db import rows_changed, session_scope
from flowsched.db.failure import FailurePolicy
from flowsched.db.tables import (
    DagRun,
    TaskInstance,
    TaskInstanceHistory,
    TaskInstanceState,
    utcnow,
)
from flowsched.runner import xcom
from flowsched.runner.execution import TryResult
from flowsched.runner.failure import handle_failure
from flowsched.runner.skip import skip_tasks
from flowsched.runner.try_context import previous_success
from flowsched.tries import TaskKey

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

    The transaction holds SQLite's write lock, which the scheduler and the other workers
    wait for, so it runs prebuilt Core statements (no ORM loading, unit of work or
    bulk-update machinery) wherever it can.
    """
    now = utcnow()
    with session_scope() as session:
        row = _load_ti(session, key)
        if row is None or row.state != State.QUEUED or row.try_number != key.try_number:
            return None
        dag_run = _load_run(session, key)
        if dag_run is None:
            raise LookupError(f"DAG run {key.run_id!r} of DAG {key.dag_id!r} does not exist")
        continuing = _history_exists(session, key)
        values: dict[str, Any] = {
            "start_date": row.start_date if continuing and row.start_date else now,
            "end_date": None,
            "duration": None,
            "hostname": socket.gethostname(),
            "pid": None,
            "executor": executor,
        }
        won = _guarded_update(
            session,
            key,
            expected=State.QUEUED,
            state=State.RUNNING,
            last_heartbeat_at=now,
            next_try_at=None,
            supervisor_pid=os.getpid(),
            **values,
        )
        if not won:
            return None
        _record_history(
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
        won = _guarded_update(
            session,
            key,
            expected=State.RUNNING,
            state=result.state,
            next_try_at=result.reschedule_date,
            deferral=result.deferral,
            **values,
        )
        if not won:
            return None
        for name, value in result.xcoms.items():
            xcom.store_value(session, key, name, value)
        if result.skip:
            skip_tasks(session, dag, key.run_id, result.skip)
        _record_history(session, key, exists=True, state=result.state, **values)
    return result.state


# --- prebuilt Core statements -------------------------------------------------------------
#
# Built once: constructing ORM statements (and running them through the ORM's loading and
# bulk-update paths) cost more CPU per try than SQLite did, most of it under the write lock.
# The WHERE parameters are prefixed ``k_`` so that they do not clash with the SET columns,
# which come from the parameters passed at execution (and select the compiled form cached).

_TI = cast(Table, TaskInstance.__table__)
_HISTORY = cast(Table, TaskInstanceHistory.__table__)
_RUN = cast(Table, DagRun.__table__)


def _key_of(table: Table) -> list[ColumnElement[bool]]:
    return [
        table.c.dag_id == bindparam("k_dag_id"),
        table.c.run_id == bindparam("k_run_id"),
        table.c.task_id == bindparam("k_task_id"),
        table.c.map_index == bindparam("k_map_index"),
    ]


_SELECT_TI = select(_TI).where(*_key_of(_TI))
_SELECT_RUN = select(_RUN).where(
    _RUN.c.dag_id == bindparam("k_dag_id"), _RUN.c.run_id == bindparam("k_run_id")
)
_GUARDED_UPDATE_TI = update(_TI).where(
    *_key_of(_TI),
    _TI.c.state == bindparam("k_state"),
    _TI.c.try_number == bindparam("k_try_number"),
)
_HISTORY_OF_TRY = [*_key_of(_HISTORY), _HISTORY.c.try_number == bindparam("k_try_number")]
_SELECT_HISTORY = select(_HISTORY.c.id).where(*_HISTORY_OF_TRY).limit(1)
_UPDATE_HISTORY = update(_HISTORY).where(*_HISTORY_OF_TRY)
_INSERT_HISTORY = insert(_HISTORY)


def _key_params(key: TaskKey) -> dict[str, Any]:
    return {
        "k_dag_id": key.dag_id,
        "k_run_id": key.run_id,
        "k_task_id": key.task_id,
        "k_map_index": key.map_index,
        "k_try_number": key.try_number,
    }


def _load_ti(session: Session, key: TaskKey) -> TaskInstance | None:
    """The task instance, read with one Core select, as an object outside any session."""
    found = session.execute(_SELECT_TI, _key_params(key)).mappings().first()
    return TaskInstance(**found) if found is not None else None


def _load_run(session: Session, key: TaskKey) -> DagRun | None:
    """The try's DAG run, read with one Core select, as an object outside any session."""
    found = session.execute(_SELECT_RUN, _key_params(key)).mappings().first()
    return DagRun(**found) if found is not None else None


def _history_exists(session: Session, key: TaskKey) -> bool:
    return session.execute(_SELECT_HISTORY, _key_params(key)).first() is not None


def _guarded_update(
    session: Session, key: TaskKey, *, expected: str, state: str | None, **values: Any
) -> bool:
    """``expected -> state`` for this try (same guard as ``transition_ti`` with a
    ``try_number``); True if this call won."""
    params = {**_key_params(key), "k_state": expected, "state": state, **values}
    return rows_changed(session, _GUARDED_UPDATE_TI, params) == 1


def _record_history(session: Session, key: TaskKey, *, exists: bool, **values: Any) -> None:
    """Like ``history.record_try``: update this try's row, or insert it (as it was known
    to exist or not)."""
    if exists:
        params = {**_key_params(key), **values}
        if rows_changed(session, _UPDATE_HISTORY, params) == 1:
            return
    session.execute(_INSERT_HISTORY, {**key._asdict(), **values})


def _running(key: TaskKey) -> list[ColumnElement[bool]]:
    return [*TaskInstance.of_try(key), TaskInstance.state == State.RUNNING]


def store_rendered(key: TaskKey, fields: dict[str, Any]) -> None:
    """Show the try's rendered template fields (in the UI) while it runs."""
    with session_scope() as session:
        session.execute(
            update(TaskInstance)
            .where(*_running(key))
            .values(rendered_fields=fields)
            .execution_options(synchronize_session=False)
        )


def store_log_error(key: TaskKey, problem: str) -> None:
    """Say on the try's history row (shown on the task page) why its log is missing."""
    with session_scope() as session:
        session.execute(_UPDATE_HISTORY, {**_key_params(key), "log_error": problem})
