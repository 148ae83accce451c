"""Run-level changes: trigger a run, mark it success or failed, delete it."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from flowsched.authoring.params import params_from_serialized, resolve_params
from flowsched.db.states import (
    FINISHED_RUN_STATES,
    FINISHED_TI_STATES,
    DagRunState,
    TaskInstanceState,
    transition_run,
)
from flowsched.db.tables import (
    DagModel,
    DagRun,
    TaskInstance,
    TaskInstanceHistory,
    XCom,
    utcnow,
)
from flowsched.exceptions import ParamValidationError
from flowsched.timetables.factory import timetable_from_serialized
from webui import audit
from webui.actions import ActionError
from webui.actions.transitions import move_ti

RUN_ID_PATTERN = re.compile(r"^[A-Za-z0-9_.:+\-]{1,250}$")


def trigger_run(
    session: Session,
    dag: DagModel,
    structure: dict[str, Any],
    *,
    conf: Any,
    logical_date: datetime | None = None,
    run_id: str | None = None,
    note: str | None = None,
) -> DagRun:
    """A queued manual run (``manual__<logical date>``) for the scheduler to start."""
    if not dag.is_active:
        raise ActionError(f"DAG {dag.dag_id!r} is inactive (its file is gone)", 409)
    _check_conf(structure, conf)
    now = utcnow()
    logical_date = logical_date or now
    if logical_date.tzinfo is None:
        raise ActionError("logical_date needs a time zone, e.g. 2025-01-01T00:00:00+00:00")
    run_id = run_id or f"manual__{logical_date.isoformat()}"
    if not RUN_ID_PATTERN.match(run_id):
        raise ActionError("run_id may hold only letters, digits and _ . : + -")
    _refuse_duplicate(session, dag.dag_id, run_id, logical_date)
    interval = timetable_from_serialized(
        structure["schedule"], structure.get("timezone") or "UTC"
    ).infer_manual_data_interval(logical_date)
    run = DagRun(
        dag_id=dag.dag_id,
        run_id=run_id,
        run_type="manual",
        logical_date=logical_date,
        data_interval_start=interval.start,
        data_interval_end=interval.end,
        run_after=now,
        state=DagRunState.QUEUED,
        queued_at=now,
        conf=conf,
        external_trigger=True,
        triggered_by=audit.username(),
        note=note,
    )
    session.add(run)
    audit.record(session, "trigger", dag_id=dag.dag_id, run_id=run_id, extra={"conf": conf})
    return run


def _check_conf(structure: dict[str, Any], conf: Any) -> None:
    """The conf must fit the DAG's params, as the scheduler will resolve them."""
    if not isinstance(conf, dict):
        raise ActionError('conf must be a JSON object, e.g. {"x": 1}')
    try:
        resolve_params(params_from_serialized(structure.get("params") or {}), conf)
    except ParamValidationError as exc:
        raise ActionError(str(exc)) from None


def _refuse_duplicate(session: Session, dag_id: str, run_id: str, logical_date: datetime) -> None:
    clash = session.scalar(
        select(DagRun.run_id).where(
            DagRun.dag_id == dag_id,
            (DagRun.run_id == run_id) | (DagRun.logical_date == logical_date),
        )
    )
    if clash is not None:
        raise ActionError(f"run {clash!r} already exists for this run id or logical date", 409)


def mark_run(session: Session, run: DagRun, new_state: str) -> int:
    """Set a run's final state; its unfinished tasks follow (success, or failed/skipped).

    As in Airflow: marking failed fails what is running and skips what has not started.
    Returns how many task instances changed.
    """
    if new_state not in FINISHED_RUN_STATES:
        raise ActionError("a run can be marked success or failed only")
    changed = 0
    for ti in _unfinished_tis(session, run):
        target = _ti_target(ti.state, new_state)
        changed += move_ti(session, ti, target, end_date=utcnow())
    others = [s for s in DagRunState if s != new_state]
    transition_run(
        session,
        dag_id=run.dag_id,
        run_id=run.run_id,
        expected=others,
        new=new_state,
        end_date=utcnow(),
    )
    audit.record(session, f"mark_run_{new_state}", dag_id=run.dag_id, run_id=run.run_id)
    return changed


def _unfinished_tis(session: Session, run: DagRun) -> list[TaskInstance]:
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


def delete_run(session: Session, run: DagRun) -> None:
    """The run and everything it owns: task instances, their tries, XComs."""
    key = {"dag_id": run.dag_id, "run_id": run.run_id}
    for table in (XCom, TaskInstanceHistory, TaskInstance):
        session.execute(delete(table).filter_by(**key))
    session.delete(run)
    audit.record(session, "delete_run", dag_id=run.dag_id, run_id=run.run_id)
