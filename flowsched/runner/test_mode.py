"""``tasks test``: one task run here, for its author, recording nothing.

The task sees the context of a real run (the DAG's run at that date if there is one, so
upstream XComs can be pulled; else a run that exists only in memory). It reads the
database like a real try, but its state, its XComs and its callbacks' effects are not
recorded: what it pushes stays in memory, visible only to itself.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any, TextIO

from sqlalchemy import select

from flowsched.authoring.templating import jinja_env_for
from flowsched.db import session_scope
from flowsched.db.tables import DagRun, TaskInstance, TaskInstanceState, utcnow
from flowsched.db.xcom import RETURN_VALUE_KEY
from flowsched.runner.execution import Outcome, rendered_fields, run_task
from flowsched.runner.log_capture import capture_try_output
from flowsched.runner.mapping import concrete_task
from flowsched.runner.task_instance import RuntimeTaskInstance
from flowsched.runner.try_context import previous_success, try_context
from flowsched.task_logs import LogSink

if TYPE_CHECKING:
    from flowsched.authoring.dag import DAG


class UnrecordedTaskInstance(RuntimeTaskInstance):
    """A ``ti`` whose pushes stay in memory."""

    def __init__(self, row: TaskInstance, task: Any) -> None:
        super().__init__(row, task)
        self.pushed: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.pushed[key] = value

    def xcom_pull(
        self,
        task_ids: str | Iterable[str] | None = None,
        dag_id: str | None = None,
        key: str = RETURN_VALUE_KEY,
        map_indexes: int | Iterable[int] | None = None,
        default: Any = None,
        run_id: str | None = None,
    ) -> Any:
        if task_ids == self.task_id and key in self.pushed:
            return self.pushed[key]
        return super().xcom_pull(task_ids, dag_id, key, map_indexes, default, run_id)


def try_out_task(
    dag: DAG, task_id: str, logical_date: datetime, *, map_index: int, stream: TextIO
) -> Outcome:
    """Run ``task_id`` of ``dag`` for ``logical_date`` here; its log goes to ``stream``."""
    dag_run, previous = _run_for(dag, logical_date)
    task, ti = _unrecorded_instance(dag, dag_run, task_id, map_index)
    with capture_try_output(LogSink(stream), capture_fds=False):
        try:
            task = ti.task = concrete_task(task, ti)
            context = try_context(dag, task, ti, dag_run, previous, test_mode=True)
        except Exception as error:
            return Outcome.failed(error)
        return _waiting_out_deferrals(task, context, run_task(task, context, _ignore))


def render_task(
    dag: DAG, task_id: str, logical_date: datetime, *, map_index: int
) -> dict[str, Any]:
    """The template fields of ``task_id`` rendered for ``logical_date`` (secrets masked),
    as the try would see them; nothing runs and nothing is recorded."""
    dag_run, previous = _run_for(dag, logical_date)
    task, ti = _unrecorded_instance(dag, dag_run, task_id, map_index)
    task = ti.task = concrete_task(task, ti)
    context = try_context(dag, task, ti, dag_run, previous, test_mode=True)
    task.render_template_fields(context, jinja_env_for(dag))
    return rendered_fields(task)


def _unrecorded_instance(
    dag: DAG, dag_run: DagRun, task_id: str, map_index: int
) -> tuple[Any, UnrecordedTaskInstance]:
    row = TaskInstance(
        dag_id=dag.dag_id,
        run_id=dag_run.run_id,
        task_id=task_id,
        map_index=map_index,
        try_number=1,
        max_tries=0,
        state=TaskInstanceState.RUNNING,
        start_date=utcnow(),
        hostname=socket.gethostname(),
        pid=os.getpid(),
    )
    task = dag.get_task(task_id)
    return task, UnrecordedTaskInstance(row, task)


def _waiting_out_deferrals(task: Any, context: dict[str, Any], outcome: Outcome) -> Outcome:
    """A task that defers waits here for its trigger and resumes, as in Airflow's
    ``tasks test`` (which runs the trigger in line): there is no scheduler to wake it."""
    while outcome.deferral is not None:
        assert outcome.reschedule_date is not None
        delay = (outcome.reschedule_date - utcnow()).total_seconds()
        task.log.info("[TASK TEST] waiting %.1f s for the trigger in line", max(delay, 0))
        time.sleep(max(delay, 0))
        outcome = run_task(task, context, _ignore, outcome.deferral)
    return outcome


def _ignore(_fields: dict[str, Any]) -> None:
    """Rendered fields are not recorded in test mode."""


def _run_for(dag: DAG, logical_date: datetime) -> tuple[DagRun, DagRun | None]:
    """The DAG's run at ``logical_date``, or one in memory only; and the last success."""
    with session_scope(readonly=True) as session:
        dag_run = session.scalar(
            select(DagRun).where(DagRun.dag_id == dag.dag_id, DagRun.logical_date == logical_date)
        )
        if dag_run is None:
            interval = dag.timetable.infer_manual_data_interval(logical_date)
            dag_run = DagRun(
                dag_id=dag.dag_id,
                run_id=f"test__{logical_date.isoformat()}",
                run_type="test",
                logical_date=logical_date,
                data_interval_start=interval.start,
                data_interval_end=interval.end,
                state="running",
                conf={},
            )
        previous = previous_success(session, dag_run)
        session.expunge_all()
    return dag_run, previous
