"""Clear task instances so they run again, and mark them success or failed.

Clearing follows Airflow 2.10: a task instance goes back to no status; its try_number
stays (the scheduler increments it when it schedules the new try), so the earlier tries
stay in the try history; max_tries becomes try_number + the task's retries, so it gets
its full retries again; the timings of the last try are reset; and a run that had ended
goes back to queued so the scheduler picks it up. Instances that are queued or running
are left alone (their try belongs to a worker: clearing it would let a second try start).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from flowsched.db.bulk import transition_many
from flowsched.db.states import (
    FINISHED_RUN_STATES,
    RUNNING_TI_STATES,
    DagRunState,
    TaskInstanceState,
    transition_run,
)
from flowsched.db.tables import DagRun, TaskInstance, utcnow
from flowsched.operations import audit
from flowsched.operations.errors import Invalid, NotFound
from flowsched.operations.nudge import nudge_after_commit
from flowsched.operations.rules import get_run, get_structure
from flowsched.serialized import SerializedDAG

TI = TaskInstanceState
CLEARABLE = frozenset({None, *(state for state in TI if state not in RUNNING_TI_STATES)})
FAILED_STATES = frozenset({TI.FAILED, TI.UPSTREAM_FAILED})
MARKABLE = frozenset({TI.SUCCESS, TI.FAILED})


@dataclass(frozen=True)
class TaskSelection:
    """Task instances of one DAG: its runs ``run_ids`` and tasks ``task_ids`` (None: all
    tasks), widened to every task downstream and/or upstream of those."""

    dag_id: str
    run_ids: Collection[str]
    task_ids: Collection[str] | None = None
    downstream: bool = False
    upstream: bool = False
    map_indexes: Collection[int] | None = None


# Given a selection's DAG, run and chosen task ids, more selections to clear with it
# (an ExternalTaskMarker's DAG and task in the run of the same logical date).
Follow = Callable[[Session, SerializedDAG, DagRun, set[str]], Iterable[TaskSelection]]


@dataclass
class ClearResult:
    cleared: list[TaskInstance] = field(default_factory=list)
    left_running: list[TaskInstance] = field(default_factory=list)
    selected: list[TaskInstance] = field(default_factory=list)


def select_task_instances(
    session: Session,
    selections: Sequence[TaskSelection],
    *,
    only_failed: bool = False,
    follow: Follow | None = None,
) -> list[TaskInstance]:
    """The instances the selections name, each once, in (DAG, run, task, index) order.

    Unknown DAGs, runs and tasks are refused (NotFound) rather than silently skipped.
    """
    found: dict[tuple[str, str, str, int], TaskInstance] = {}
    todo = list(selections)
    seen: set[tuple[str, str, frozenset[str] | None]] = set()
    while todo:
        selection = todo.pop(0)
        dag = get_structure(session, selection.dag_id)
        task_ids = _widened(dag, selection)
        for run_id in selection.run_ids:
            mark = (dag.dag_id, run_id, frozenset(task_ids))
            if mark in seen:
                continue
            seen.add(mark)
            run = get_run(session, dag.dag_id, run_id)
            for ti in _instances(session, run, task_ids, selection.map_indexes, only_failed):
                found.setdefault((ti.dag_id, ti.run_id, ti.task_id, ti.map_index), ti)
            if follow is not None:
                todo.extend(follow(session, dag, run, task_ids))
    return [found[key] for key in sorted(found)]


def _widened(dag: SerializedDAG, selection: TaskSelection) -> set[str]:
    if selection.task_ids is None:
        return set(dag.task_ids)
    unknown = sorted(t for t in selection.task_ids if not dag.has_task(t))
    if unknown:
        raise NotFound(f"DAG {dag.dag_id!r} has no task {', '.join(map(repr, unknown))}")
    chosen = set(selection.task_ids)
    for task_id in selection.task_ids:
        if selection.downstream:
            chosen |= dag.get_flat_relative_ids(task_id)
        if selection.upstream:
            chosen |= dag.get_flat_relative_ids(task_id, upstream=True)
    return chosen


def _instances(
    session: Session,
    run: DagRun,
    task_ids: set[str],
    map_indexes: Collection[int] | None,
    only_failed: bool,
) -> list[TaskInstance]:
    query = select(TaskInstance).where(
        TaskInstance.dag_id == run.dag_id,
        TaskInstance.run_id == run.run_id,
        TaskInstance.task_id.in_(task_ids),
    )
    if map_indexes is not None:
        query = query.where(TaskInstance.map_index.in_(map_indexes))
    if only_failed:
        query = query.where(TaskInstance.state.in_(FAILED_STATES))
    return list(session.scalars(query))


def clear_task_instances(
    session: Session,
    selections: Sequence[TaskSelection],
    *,
    actor: str,
    only_failed: bool = False,
    dry_run: bool = False,
    follow: Follow | None = None,
) -> ClearResult:
    """Clear what the selections name, all in the caller's transaction (several DAGs at
    once when a caller adds selections, or ``follow`` finds them).

    ``dry_run`` lists what would be cleared and changes nothing.
    """
    tis = select_task_instances(session, selections, only_failed=only_failed, follow=follow)
    result = ClearResult(selected=tis)
    todo = [ti for ti in tis if ti.state in CLEARABLE]
    result.left_running = [ti for ti in tis if ti.state not in CLEARABLE]
    if dry_run or not todo:
        return result
    by_run: dict[tuple[str, str], list[TaskInstance]] = defaultdict(list)
    for ti in todo:
        by_run[(ti.dag_id, ti.run_id)].append(ti)
    for (dag_id, run_id), run_tis in by_run.items():
        won = _reset(session, get_structure(session, dag_id), run_id, run_tis)
        if won:
            _reopen(session, dag_id, run_id, DagRunState.QUEUED, queued_at=utcnow())
            _record(session, actor, "clear", won)
        result.cleared += won
        result.left_running += [ti for ti in run_tis if ti not in won]
    nudge_after_commit(session)
    return result


def _reset(
    session: Session, dag: SerializedDAG, run_id: str, tis: list[TaskInstance]
) -> list[TaskInstance]:
    """The guarded reset to no status, batched by the new max_tries; the instances won."""
    batches: dict[int, list[TaskInstance]] = defaultdict(list)
    for ti in tis:
        batches[ti.try_number + _retries(dag, ti)].append(ti)
    won: list[TaskInstance] = []
    for max_tries, batch in batches.items():
        by_key = {(ti.task_id, ti.map_index): ti for ti in batch}
        rows = transition_many(
            session, dag.dag_id, run_id, list(by_key), expected=CLEARABLE, new=None,
            max_tries=max_tries, next_try_at=None, start_date=None, end_date=None,
            duration=None, scheduled_dttm=None, queued_dttm=None,
        )  # fmt: skip
        won += [by_key[(task_id, map_index)] for task_id, map_index, _ in rows]
    for ti in won:
        reflect(ti, state=None, max_tries=ti.try_number + _retries(dag, ti), start_date=None,
                end_date=None, duration=None, next_try_at=None, scheduled_dttm=None,
                queued_dttm=None)  # fmt: skip
    return won


def _retries(dag: SerializedDAG, ti: TaskInstance) -> int:
    return dag.task_dict[ti.task_id].retries if dag.has_task(ti.task_id) else 0


def reflect(row: object, **values: object) -> None:
    """Show on a loaded row what a guarded UPDATE (which bypasses the ORM) wrote, so callers
    read the new values, also after the session is closed."""
    for name, value in values.items():
        set_committed_value(row, name, value)


def _reopen(session: Session, dag_id: str, run_id: str, new: str, **values: object) -> bool:
    """A run that had ended goes back to ``new`` so the scheduler looks at it again; a run
    still going is left as it is, the scheduler already tracks it."""
    return transition_run(
        session,
        dag_id=dag_id,
        run_id=run_id,
        expected=list(FINISHED_RUN_STATES),
        new=new,
        end_date=None,
        **values,
    )


def mark_task_instances(
    session: Session,
    dag_id: str,
    run_id: str,
    task_id: str,
    new_state: str,
    *,
    actor: str,
    map_indexes: Collection[int] | None = None,
) -> int:
    """Set a task's instances (all map indexes, or those given) to success or failed, e.g.
    to let downstream go on after a fix; a finished run is set running again so the
    scheduler recomputes its end. Returns how many changed."""
    if new_state not in MARKABLE:
        raise Invalid("a task can be marked success or failed only")
    selection = TaskSelection(dag_id, [run_id], [task_id], map_indexes=map_indexes)
    tis = select_task_instances(session, [selection])
    if not tis:
        raise NotFound(f"run {run_id!r} of {dag_id!r} has no instance of task {task_id!r}")
    now = utcnow()
    changed = [
        ti
        for ti in tis
        if ti.state != new_state
        and move_task_instance(session, ti, new_state, end_date=ti.end_date or now)
    ]
    if changed:
        _reopen(session, dag_id, run_id, DagRunState.RUNNING)
        _record(session, actor, f"mark_task_{new_state}", changed)
        nudge_after_commit(session)
    return len(changed)


def move_task_instance(session: Session, ti: TaskInstance, new: str, **values: Any) -> bool:
    """From the state it was read in to ``new``: if a worker moved it meanwhile, the
    worker wins and this returns False."""
    key = (ti.task_id, ti.map_index)
    won = bool(
        transition_many(
            session, ti.dag_id, ti.run_id, [key], expected=[ti.state], new=new, **values
        )
    )
    if won:
        reflect(ti, state=new, **values)
    return won


def _record(session: Session, actor: str, event: str, tis: list[TaskInstance]) -> None:
    """One audit row per run: the task id when one task, and each instance by label."""
    task_ids = {ti.task_id for ti in tis}
    audit.record(
        session,
        actor,
        event,
        dag_id=tis[0].dag_id,
        run_id=tis[0].run_id,
        task_id=next(iter(task_ids)) if len(task_ids) == 1 else None,
        extra={"task_instances": [_label(ti) for ti in tis]},
    )


def _label(ti: TaskInstance) -> str:
    return ti.task_id if ti.map_index < 0 else f"{ti.task_id}[{ti.map_index}]"
