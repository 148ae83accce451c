"""One try of one task instance, recorded (SPEC §7).

The try starts with a guarded ``queued -> running`` and ends with a guarded change from
``running`` (same try number): if another process owns the try, this one neither runs it
nor overwrites what the owner recorded. Everything the try prints or logs goes to its log
file, and its outcome is committed together with its XComs and the tasks it skips.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import event, select, update

from flowsched.db import session_scope
from flowsched.executors.base import TaskKey
from flowsched.models import DagRun, TaskInstance, TaskInstanceState, utcnow
from flowsched.models.states import transition_ti
from flowsched.runner import xcom
from flowsched.runner.callbacks import run_callbacks
from flowsched.runner.context import previous_success, try_context
from flowsched.runner.execution import Outcome, run_task, xcoms_of
from flowsched.runner.failure import FailurePolicy, handle_failure
from flowsched.runner.heartbeat import Heartbeat
from flowsched.runner.history import find_try, record_try
from flowsched.runner.interrupts import sigterm_interrupts
from flowsched.runner.logs import TASK_LOGGER, capture_try_output, log_path, try_log_file
from flowsched.runner.mapping import concrete_task
from flowsched.runner.skip import skip_tasks
from flowsched.runner.task_instance import RuntimeTaskInstance

if TYPE_CHECKING:
    from flowsched.authoring.dag import DAG

logger = logging.getLogger(TASK_LOGGER)
State = TaskInstanceState


@dataclass
class StartedTry:
    """What the try read while claiming its task instance."""

    row: TaskInstance  # detached, with the values this try set
    dag_run: DagRun
    previous: DagRun | None


Recorded = Callable[[str | None], None]


def run_try(
    key: TaskKey,
    dag: DAG,
    *,
    executor: str,
    capture_fds: bool = True,
    on_recorded: Recorded | None = None,
) -> str | None:
    """Run try ``key`` of a task of ``dag`` here; the state it ended in, or None when the
    task instance was not ``queued`` for this try (someone else owns it).

    ``on_recorded(state)`` is called once the try ran, as soon as its state is committed
    and before the success callbacks, so a supervisor can tell the scheduler without
    waiting; with None if the task instance was changed from outside meanwhile.
    """
    started = claim_try(key, executor)
    if started is None:
        return None
    path = log_path(*key)
    with try_log_file(path) as sink, capture_try_output(sink, capture_fds=capture_fds):
        return _RecordedTry(key, dag, started, on_recorded or _ignore).run()


def _ignore(_state: str | None) -> None:
    """No one to tell."""


def claim_try(key: TaskKey, executor: str) -> StartedTry | None:
    """``queued -> running`` for this try, its history row, and a clean XCom slate.

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
            "pid": os.getpid(),
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


def _where(key: TaskKey) -> dict[str, Any]:
    return {
        "dag_id": key.dag_id,
        "run_id": key.run_id,
        "task_id": key.task_id,
        "map_index": key.map_index,
    }


def _terminate_self() -> None:
    """The heartbeat saw the TI taken away: stop the try through its SIGTERM path."""
    os.kill(os.getpid(), signal.SIGTERM)


class _RecordedTry:
    def __init__(self, key: TaskKey, dag: DAG, started: StartedTry, on_recorded: Recorded) -> None:
        self.key = key
        self.on_recorded = on_recorded
        self.dag = dag
        self.row = started.row
        self.dag_run = started.dag_run
        self.previous = started.previous
        self.task: Any = None
        self.ti = RuntimeTaskInstance(self.row, None)
        self.context: dict[str, Any] = {"dag": dag, "ti": self.ti, "run_id": key.run_id}

    def run(self) -> str | None:
        logger.info("Starting %s on %s (pid %s)", self.key, self.row.hostname, self.row.pid)
        heartbeat = Heartbeat(self.key, on_lost=_terminate_self)
        heartbeat.start()
        try:
            with sigterm_interrupts():
                outcome = self._execute()
        finally:
            heartbeat.stop()
        if outcome.state == State.FAILED:
            assert outcome.error is not None
            state = self._record_failure(outcome.error)
        else:
            state = self._record(outcome)
        if state is None:
            logger.warning(
                "The task instance is no longer running try %s (changed from outside); "
                "its state is left as recorded there",
                self.key.try_number,
            )
        return state

    def _execute(self) -> Outcome:
        try:
            self.task = self.ti.task = self.dag.get_task(self.key.task_id)
            self.task = self.ti.task = concrete_task(self.task, self.ti)
            self.context = try_context(self.dag, self.task, self.ti, self.dag_run, self.previous)
        except BaseException as error:
            logger.exception("Could not prepare the task")
            return Outcome.failed(error)
        return run_task(self.task, self.context, self._store_rendered)

    def _store_rendered(self, fields: dict[str, Any]) -> None:
        if all(value in (None, "", [], {}) for value in fields.values()):
            return  # nothing to show; spares a write for the many tasks with no templates
        with session_scope() as session:
            session.execute(
                update(TaskInstance)
                .where(*_key_filter(self.key))
                .values(rendered_fields=fields)
                .execution_options(synchronize_session=False)
            )

    def _record(self, outcome: Outcome) -> str | None:
        """Success, skipped or up_for_reschedule, committed with XComs and skips."""
        now = utcnow()
        values: dict[str, Any] = {"end_date": now, "duration": self._duration(now)}
        if outcome.state == State.UP_FOR_RESCHEDULE:
            values["next_try_at"] = outcome.reschedule_date
        with session_scope() as session:
            won = transition_ti(
                session,
                **_where(self.key),
                expected=[State.RUNNING],
                new=outcome.state,
                try_number=self.key.try_number,
                **values,
            )
            if won:
                self._store_result(session, outcome)
                record_try(session, self.key, exists=True, state=outcome.state, **_history(values))
        if not won:
            self.on_recorded(None)
            return None
        self.on_recorded(outcome.state)
        self.ti.state = outcome.state
        logger.info("Marking task as %s", outcome.state.upper())
        if outcome.state == State.SUCCESS:
            run_callbacks(self.task.on_success_callback, self.context, "on_success")
        return outcome.state

    def _store_result(self, session: Any, outcome: Outcome) -> None:
        for name, value in xcoms_of(self.task, outcome.result).items():
            xcom.store_value(session, self.key, name, value)
        if outcome.skip:
            skip_tasks(session, self.dag, self.key.run_id, outcome.skip)

    def _record_failure(self, error: BaseException) -> str | None:
        """The failure policy; its callbacks and alerts follow the commit."""
        policy = FailurePolicy.from_task(self.task) if self.task is not None else FailurePolicy()
        with session_scope() as session:
            state = handle_failure(
                session, self.row, policy, error, run_callbacks=True, context=self.context
            )
            if state is not None:
                logger.info("Marking task as %s", state.upper())
                # told at the commit, ahead of the callbacks and alerts attached to it
                event.listen(
                    session,
                    "after_commit",
                    lambda _: self.on_recorded(state),
                    once=True,
                    insert=True,
                )
        if state is None:
            self.on_recorded(None)
        return state

    def _duration(self, now: Any) -> float | None:
        start = self.row.start_date
        return (now - start).total_seconds() if start else None


def _history(values: dict[str, Any]) -> dict[str, Any]:
    return {name: values[name] for name in ("end_date", "duration")}


def _key_filter(key: TaskKey) -> list[Any]:
    return [
        TaskInstance.dag_id == key.dag_id,
        TaskInstance.run_id == key.run_id,
        TaskInstance.task_id == key.task_id,
        TaskInstance.map_index == key.map_index,
        TaskInstance.try_number == key.try_number,
    ]
