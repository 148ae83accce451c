"""What the metadata database says about tries sent through Celery.

The database is where a try's end is recorded (by its runner, its supervisor or the
scheduler's zombie handling), so the executor reads ends from there instead of from a
Celery result backend. Both queries here are single statements over indexed columns,
cheap enough to run every few tens of milliseconds.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import or_, select, tuple_, update

from flowsched.db import session_scope
from flowsched.db.states import RUNNING_TI_STATES, TaskInstanceState
from flowsched.db.tables import DagModel, TaskInstance
from flowsched.db.taskinstance import TRY_KEY_COLUMNS
from flowsched.tries import ExecutorEvent, TaskKey

# Keys per query: SQLite binds at most 32,766 parameters, four per key here.
KEYS_PER_QUERY = 1000


class Resend(NamedTuple):
    key: TaskKey
    fileloc: str
    queue: str


def ended_tries(keys: Collection[TaskKey]) -> list[ExecutorEvent]:
    """An event for each of ``keys`` whose task instance has left that try's
    ``queued``/``running``; tries still on their way or running are not reported."""
    current: dict[tuple[str, str, str, int], tuple[int, str | None]] = {}
    with session_scope(readonly=True) as session:
        for chunk in _chunks(list(keys)):
            rows = session.execute(
                select(*TRY_KEY_COLUMNS, TaskInstance.state).where(
                    tuple_(
                        TaskInstance.dag_id,
                        TaskInstance.run_id,
                        TaskInstance.task_id,
                        TaskInstance.map_index,
                    ).in_([key[:4] for key in chunk])
                )
            )
            for dag_id, run_id, task_id, map_index, held_try, held_state in rows:
                current[(dag_id, run_id, task_id, map_index)] = (held_try, held_state)
    events = []
    for key in keys:
        try_number, state = current.get(key[:4], (None, None))
        if try_number != key.try_number:
            events.append(ExecutorEvent(key, None, "the task instance no longer holds this try"))
        elif state not in RUNNING_TI_STATES:
            events.append(ExecutorEvent(key, state))
    return events


def claim_stale_queued(executor: str, queued_before: datetime, now: datetime) -> list[Resend]:
    """The tries queued to ``executor`` before ``queued_before`` and not started since:
    their message was lost (or waits behind a long backlog). Each is stamped as queued
    ``now`` in the same statement, so that of several schedulers exactly one re-sends
    it, once per timeout."""
    with session_scope() as session:
        rows = session.execute(
            update(TaskInstance)
            .where(
                TaskInstance.state == TaskInstanceState.QUEUED,
                TaskInstance.executor == executor,
                or_(TaskInstance.queued_dttm < queued_before, TaskInstance.queued_dttm.is_(None)),
            )
            .values(queued_dttm=now)
            .returning(*TRY_KEY_COLUMNS, TaskInstance.queue)
            .execution_options(synchronize_session=False)
        ).all()
        if not rows:
            return []
        filelocs = dict(
            session.execute(
                select(DagModel.dag_id, DagModel.fileloc).where(
                    DagModel.dag_id.in_({row.dag_id for row in rows})
                )
            ).all()
        )
    return [
        Resend(TaskKey(*row[:5]), filelocs[row.dag_id], row.queue)
        for row in rows
        if row.dag_id in filelocs
    ]


def _chunks(keys: Sequence[TaskKey]) -> Iterator[Sequence[TaskKey]]:
    for start in range(0, len(keys), KEYS_PER_QUERY):
        yield keys[start : start + KEYS_PER_QUERY]
