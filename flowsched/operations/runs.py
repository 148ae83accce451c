"""Runs people (and operators) create or change: trigger, backfill, mark, delete."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from flowsched.db import run_rules
from flowsched.db.states import (
    FINISHED_RUN_STATES,
    FINISHED_TI_STATES,
    DagRunState,
    TaskInstanceState,
    transition_run,
)
from flowsched.db.tables import DagRun, TaskInstance, TaskInstanceHistory, XCom, utcnow
from flowsched.operations import audit
from flowsched.operations.errors import Conflict, Invalid
from flowsched.operations.nudge import nudge_after_commit
from flowsched.operations.rules import (
    check_conf,
    check_run_id,
    get_active_dag,
    get_run,
    get_structure,
)
from flowsched.operations.task_instances import move_task_instance, reflect
from flowsched.serialized import SerializedDAG
from flowsched.timetables import DataInterval

MAX_BACKFILL_RUNS = 10_000


def trigger_run(
    session: Session,
    dag_id: str,
    *,
    actor: str,
    conf: Any = None,
    logical_date: datetime | None = None,
    run_id: str | None = None,
    note: str | None = None,
    run_type: str = run_rules.MANUAL,
) -> DagRun:
    """A queued run (``manual__<logical date>`` unless named) for the scheduler to start.

    Refused: an unknown or inactive DAG, a run id outside the rule, a conf that is not an
    object, is over ``[core] max_conf_bytes`` or does not fit the params, and a run id or
    logical date the DAG already has a run for.
    """
    get_active_dag(session, dag_id)
    dag = get_structure(session, dag_id)
    conf = check_conf(dag, {} if conf is None else conf)
    when = logical_date or utcnow()
    if when.tzinfo is None:
        raise Invalid("the logical date needs a time zone, e.g. 2025-01-01T00:00:00+00:00")
    run_id = check_run_id(run_id or run_rules.run_id_for(run_type, when))
    _refuse_clash(session, dag_id, run_id, when)
    run = run_rules.new_run(
        dag_id,
        run_type,
        dag.timetable.infer_manual_data_interval(when),
        logical_date=when,
        run_after=utcnow(),
        conf=conf,
        run_id=run_id,
        triggered_by=actor,
    )
    run.note = note
    session.add(run)
    session.flush()
    audit.record(session, actor, "trigger", dag_id=dag_id, run_id=run_id, extra={"conf": conf})
    nudge_after_commit(session)
    return run


def _refuse_clash(session: Session, dag_id: str, run_id: str, when: datetime) -> None:
    clash = session.execute(
        select(DagRun.run_id, DagRun.logical_date).where(
            DagRun.dag_id == dag_id, (DagRun.run_id == run_id) | (DagRun.logical_date == when)
        )
    ).first()
    if clash is not None:
        raise Conflict(
            f"DAG {dag_id!r} already has a run {clash.run_id!r} at "
            f"{clash.logical_date.isoformat()}; choose another logical date or run id"
        )


@dataclass(frozen=True)
class PlannedRun:
    interval: DataInterval
    run_id: str
    exists: bool


def backfill(
    session: Session,
    dag_id: str,
    first: datetime,
    last: datetime,
    *,
    actor: str,
    dry_run: bool = False,
) -> list[PlannedRun]:
    """Runs for every schedule interval whose logical date is in [first, last].

    Runs that exist are left alone; backfill runs start even if the DAG is paused,
    within its max_active_runs. The same DAG rule as a trigger: active DAGs only.
    """
    get_active_dag(session, dag_id)
    dag = get_structure(session, dag_id)
    if last < first:
        raise Invalid("the end date is before the start date")
    plan = _backfill_plan(session, dag, first, last)
    if dry_run:
        return plan
    for planned in plan:
        if not planned.exists:
            run = run_rules.new_run(
                dag_id, run_rules.BACKFILL, planned.interval, run_after=utcnow(), triggered_by=actor
            )
            session.add(run)
            audit.record(session, actor, "backfill", dag_id=dag_id, run_id=run.run_id)
    if any(not planned.exists for planned in plan):
        nudge_after_commit(session)
    return plan


def _backfill_plan(
    session: Session, dag: SerializedDAG, first: datetime, last: datetime
) -> list[PlannedRun]:
    if not dag.timetable.periodic and dag.timetable.kind != "once":
        raise Invalid(
            f"DAG {dag.dag_id!r} has schedule {dag.timetable.summary}: nothing to backfill"
        )
    intervals: list[DataInterval] = []
    info = None
    while len(intervals) <= MAX_BACKFILL_RUNS:
        info = dag.timetable.next_dagrun_info(
            last_automated_data_interval=info.data_interval if info else None,
            start_date=first,
            end_date=last,
            catchup=True,
            now=utcnow(),
        )
        if info is None:
            break
        intervals.append(info.data_interval)
    if len(intervals) > MAX_BACKFILL_RUNS:
        raise Invalid(
            f"that is more than {MAX_BACKFILL_RUNS} runs; backfill a shorter range at a time"
        )
    existing = set(
        session.scalars(
            select(DagRun.logical_date).where(
                DagRun.dag_id == dag.dag_id, DagRun.logical_date.between(first, last)
            )
        )
    )
    return [
        PlannedRun(
            interval,
            run_rules.run_id_for(run_rules.BACKFILL, interval.start),
            interval.start in existing,
        )
        for interval in intervals
    ]


def mark_run(session: Session, dag_id: str, run_id: str, new_state: str, *, actor: str) -> int:
    """Set a run's final state; its unfinished tasks follow. As in Airflow, marking
    failed fails what is running and skips what has not started. Returns how many task
    instances changed."""
    if new_state not in FINISHED_RUN_STATES:
        raise Invalid("a run can be marked success or failed only")
    run = get_run(session, dag_id, run_id)
    now = utcnow()
    changed = 0
    for ti in _unfinished(session, run):
        changed += move_task_instance(session, ti, _ti_target(ti.state, new_state), end_date=now)
    transition_run(
        session,
        dag_id=dag_id,
        run_id=run_id,
        expected=[state for state in DagRunState if state != new_state],
        new=new_state,
        end_date=now,
    )
    reflect(run, state=new_state, end_date=now)
    audit.record(session, actor, f"mark_run_{new_state}", dag_id=dag_id, run_id=run_id)
    nudge_after_commit(session)
    return changed


def _unfinished(session: Session, run: DagRun) -> list[TaskInstance]:
    tis = session.scalars(
        select(TaskInstance).where(
            TaskInstance.dag_id == run.dag_id, TaskInstance.run_id == run.run_id
        )
    )
    return [ti for ti in tis if ti.state not in FINISHED_TI_STATES]


def _ti_target(ti_state: str | None, run_state: str) -> str:
    if run_state == DagRunState.SUCCESS:
        return TaskInstanceState.SUCCESS
    if ti_state == TaskInstanceState.RUNNING:
        return TaskInstanceState.FAILED
    return TaskInstanceState.SKIPPED


def delete_run(session: Session, dag_id: str, run_id: str, *, actor: str) -> None:
    """The run and everything it owns: task instances, their tries, XComs."""
    get_run(session, dag_id, run_id)
    delete_runs(session, dag_id, [run_id])
    audit.record(session, actor, "delete_run", dag_id=dag_id, run_id=run_id)


def delete_runs(session: Session, dag_id: str, run_ids: Sequence[str] | None) -> None:
    """Delete runs (all of the DAG's when ``run_ids`` is None) with everything they hold."""
    for table in (XCom, TaskInstanceHistory, TaskInstance, DagRun):
        statement = delete(table).where(table.dag_id == dag_id)
        if run_ids is not None:
            statement = statement.where(table.run_id.in_(run_ids))
        session.execute(statement)
