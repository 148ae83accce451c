"""Task-level changes: clear task instances so they run again, mark them success/failed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from flowsched.db.states import DagRunState, TaskInstanceState
from flowsched.db.tables import DagRun, TaskInstance, utcnow
from webui import audit
from webui.actions import ActionError
from webui.actions.transitions import move_ti, reopen_run
from webui.queries.structure import find_task, with_downstream

TI = TaskInstanceState
# A queued or running try belongs to a worker: clearing it would let a second try start.
CLEARABLE = frozenset(
    {
        TI.SUCCESS,
        TI.FAILED,
        TI.UPSTREAM_FAILED,
        TI.SKIPPED,
        TI.REMOVED,
        TI.UP_FOR_RETRY,
        TI.UP_FOR_RESCHEDULE,
        TI.SCHEDULED,
    }
)
FAILED_STATES = frozenset({TI.FAILED, TI.UPSTREAM_FAILED})
MARKABLE = frozenset({TI.SUCCESS, TI.FAILED})


@dataclass
class ClearResult:
    cleared: list[TaskInstance]
    skipped_running: list[TaskInstance]


def select_tis(
    session: Session,
    run: DagRun,
    structure: dict[str, Any],
    *,
    task_ids: list[str] | None,
    downstream: bool,
    only_failed: bool,
) -> list[TaskInstance]:
    """The task instances a clear would touch: the tasks (all if none), maybe downstream too."""
    wanted = set(task_ids) if task_ids else None
    if wanted is not None:
        unknown = sorted(t for t in wanted if find_task(structure, t) is None)
        if unknown:
            raise ActionError(f"no task {', '.join(map(repr, unknown))} in {run.dag_id!r}", 404)
        if downstream:
            wanted = with_downstream(structure, wanted)
    query = select(TaskInstance).where(
        TaskInstance.dag_id == run.dag_id, TaskInstance.run_id == run.run_id
    )
    if wanted is not None:
        query = query.where(TaskInstance.task_id.in_(wanted))
    tis = list(session.scalars(query.order_by(TaskInstance.task_id, TaskInstance.map_index)))
    return [ti for ti in tis if not only_failed or ti.state in FAILED_STATES]


def clear_tis(
    session: Session, run: DagRun, structure: dict[str, Any], tis: list[TaskInstance]
) -> ClearResult:
    """Reset each finished task instance to no status with fresh retries; requeue the run.

    Past tries stay listed: the runner records each try in the history when it starts.
    """
    result = ClearResult([], [])
    for ti in tis:
        if ti.state not in CLEARABLE:
            result.skipped_running.append(ti)
            continue
        retries = (find_task(structure, ti.task_id) or {}).get("retries", 0)
        if _reset(session, ti, retries):
            result.cleared.append(ti)
    if result.cleared:
        _requeue(session, run)
        audit.record(
            session,
            "clear",
            dag_id=run.dag_id,
            run_id=run.run_id,
            task_id=_one_task_id(result.cleared),
            extra={"task_instances": [_label(ti) for ti in result.cleared]},
        )
    return result


def _reset(session: Session, ti: TaskInstance, retries: int) -> bool:
    return move_ti(
        session,
        ti,
        None,
        try_number=ti.try_number,
        max_tries=ti.try_number + retries,
        start_date=None,
        end_date=None,
        duration=None,
        next_try_at=None,
        scheduled_dttm=None,
        queued_dttm=None,
    )


def _requeue(session: Session, run: DagRun) -> None:
    """A finished run goes back to queued so the scheduler picks its cleared tasks up."""
    reopen_run(session, run, DagRunState.QUEUED, queued_at=utcnow())


def mark_tis(session: Session, run: DagRun, tis: list[TaskInstance], new_state: str) -> int:
    """Set task instances to success or failed, e.g. to let downstream go on after a fix.

    A finished run is set running again, so the scheduler recomputes its final state.
    """
    if new_state not in MARKABLE:
        raise ActionError("a task can be marked success or failed only")
    changed = [
        ti
        for ti in tis
        if ti.state != new_state
        and move_ti(session, ti, new_state, end_date=ti.end_date or utcnow())
    ]
    if changed:
        reopen_run(session, run, DagRunState.RUNNING)
        audit.record(
            session,
            f"mark_task_{new_state}",
            dag_id=run.dag_id,
            run_id=run.run_id,
            task_id=_one_task_id(changed),
            extra={"task_instances": [_label(ti) for ti in changed]},
        )
    return len(changed)


def _label(ti: TaskInstance) -> str:
    return ti.task_id if ti.map_index < 0 else f"{ti.task_id}[{ti.map_index}]"


def _one_task_id(tis: list[TaskInstance]) -> str | None:
    ids = {ti.task_id for ti in tis}
    return ids.pop() if len(ids) == 1 else None
