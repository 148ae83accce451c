"""One run, one look: settle what the states allow, expand mapped tasks, schedule what is
ready, and end the run when nothing can change any more.

Everything is written in the caller's transaction with a handful of statements per run,
whatever its size: one SELECT of its rows, and one guarded UPDATE per kind of change.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, literal, or_, select
from sqlalchemy.orm import Session

from flowsched.db.bulk import transition_many
from flowsched.db.states import FINISHED_TI_STATES, UNFINISHED_TI_STATES, DagRunState
from flowsched.db.states import TaskInstanceState as TI
from flowsched.db.tables import DagRun, TaskInstance, XCom
from flowsched.db.xcom import SKIPPED_KEY
from flowsched.scheduling import finishing, mapping
from flowsched.scheduling.claims import RunRef
from flowsched.scheduling.readiness import Decision, TIKey, TIRow, decide
from flowsched.serialized import SerializedDAG

MAX_TARGETED_TASKS = 1000  # beyond this, one read of the whole run is cheaper


@dataclass(frozen=True)
class Examined:
    next_due: datetime | None  # earliest retry or reschedule time still ahead
    finished: DagRunState | None  # the state the run ended in during this look


def examine(
    session: Session,
    dag: SerializedDAG,
    run: RunRef,
    now: datetime,
    ended_tasks: Collection[str] | None = None,
) -> Examined:
    """Look at a run. With ``ended_tasks`` (the tasks whose tries just ended: an event
    pass) only their downstream tasks are looked at, which is what keeps a pass cheap in a
    run of thousands of tasks; whenever that is not enough (something must be skipped,
    failed upstream, expanded, or the run may have ended) the whole run is examined."""
    if ended_tasks is not None and not finishing.timed_out(dag, run, now):
        quick = _examine_downstream(session, dag, run, now, ended_tasks)
        if quick is not None:
            return quick
    return _examine_all(session, dag, run, now)


def _examine_all(session: Session, dag: SerializedDAG, run: RunRef, now: datetime) -> Examined:
    rows = load_rows(session, run)
    if finishing.timed_out(dag, run, now):
        states = {(row.task_id, row.map_index): row.state for row in rows}
        ended = finishing.time_out(session, dag, run, states, now)
        return Examined(None, DagRunState.FAILED if ended else None)
    past = past_states(session, dag, run)
    branch_skips = recorded_skips(session, dag, run)
    clean = True
    for _ in range(1 + sum(task.is_mapped for task in dag.tasks)):
        decision = decide(dag, rows, now, past, branch_skips=branch_skips)
        clean &= _settle(session, run, decision, now)
        if not decision.expand:
            break
        for task_id in decision.expand:
            mapping.expand(session, dag, run.run_id, task_id)
        rows = load_rows(session, run)
    clean &= _schedule(session, run, decision, now)
    state = finishing.outcome(dag, decision.states) if clean else None
    if state is not None and not finishing.finish(
        session, dag, run, state, now, reason=_reason(state, decision)
    ):
        state = None
    return Examined(decision.next_due, state)


def _examine_downstream(
    session: Session, dag: SerializedDAG, run: RunRef, now: datetime, ended: Collection[str]
) -> Examined | None:
    """The fast path of an event pass, or None (before writing anything) when the run
    needs a full look."""
    known = [dag.task_dict[task_id] for task_id in ended if task_id in dag.task_dict]
    candidates = {down for task in known for down in task.downstream_task_ids}
    needed = set(ended) | candidates
    needed.update(up for down in candidates for up in dag.task_dict[down].upstream_task_ids)
    if len(needed) > MAX_TARGETED_TASKS or any(_needs_full_look(dag, t) for t in candidates):
        return None
    rows = load_rows(session, run, needed)
    if any(row.task_id in candidates and row.state in FINISHED_TI_STATES for row in rows):
        return None  # e.g. skipped by a branch: what is below them must be settled
    decision = decide(dag, rows, now, only=candidates)
    if decision.settle or decision.expand:
        return None
    if not _schedule(session, run, decision, now):
        return Examined(decision.next_due, None)
    if decision.new_try or decision.resume or _has_unfinished(session, run):
        return Examined(decision.next_due, None)
    return None


def _needs_full_look(dag: SerializedDAG, task_id: str) -> bool:
    task = dag.task_dict[task_id]
    below_a_branch = not dag.skipping_task_ids.isdisjoint(task.upstream_task_ids)
    return task.is_mapped or task.depends_on_past or below_a_branch


_UNFINISHED = (
    select(literal(1))
    .where(
        TaskInstance.dag_id == bindparam("dag_id"),
        TaskInstance.run_id == bindparam("run_id"),
        or_(
            TaskInstance.state.is_(None),
            TaskInstance.state.in_([s for s in UNFINISHED_TI_STATES if s is not None]),
        ),
    )
    .limit(1)
)


def _has_unfinished(session: Session, run: RunRef) -> bool:
    params = {"dag_id": run.dag_id, "run_id": run.run_id}
    return session.connection().execute(_UNFINISHED, params).first() is not None


_ROWS = select(
    TaskInstance.task_id,
    TaskInstance.map_index,
    TaskInstance.state,
    TaskInstance.next_try_at,
).where(TaskInstance.dag_id == bindparam("dag_id"), TaskInstance.run_id == bindparam("run_id"))


_ROWS_OF_TASKS = _ROWS.where(TaskInstance.task_id.in_(bindparam("task_ids", expanding=True)))


def load_rows(
    session: Session, run: RunRef, task_ids: Collection[str] | None = None
) -> list[TIRow]:
    """The run's rows (of ``task_ids`` only, if given)."""
    params: dict[str, object] = {"dag_id": run.dag_id, "run_id": run.run_id}
    if task_ids is None:
        result = session.connection().execute(_ROWS, params)
    else:
        result = session.connection().execute(
            _ROWS_OF_TASKS, {**params, "task_ids": list(task_ids)}
        )
    return [TIRow(*row) for row in result]


def past_states(
    session: Session, dag: SerializedDAG, run: RunRef
) -> dict[TIKey, str | None] | None:
    """The previous run's states of the depends_on_past tasks and of the tasks right
    downstream of the wait_for_downstream ones (None: no previous run)."""
    tasks = {task.task_id for task in dag.tasks if task.depends_on_past}
    tasks.update(down for t in dag.tasks if t.wait_for_downstream for down in t.downstream_task_ids)
    if not tasks:
        return None
    previous = session.scalar(
        select(DagRun.run_id)
        .where(DagRun.dag_id == run.dag_id, DagRun.logical_date < run.logical_date)
        .order_by(DagRun.logical_date.desc())
        .limit(1)
    )
    if previous is None:
        return None
    rows = session.execute(
        select(TaskInstance.task_id, TaskInstance.map_index, TaskInstance.state).where(
            TaskInstance.dag_id == run.dag_id,
            TaskInstance.run_id == previous,
            TaskInstance.task_id.in_(sorted(tasks)),
        )
    )
    return {(task_id, index): state for task_id, index, state in rows}


def recorded_skips(session: Session, dag: SerializedDAG, run: RunRef) -> dict[str, set[str]]:
    """What each branch or short circuit of the run recorded as skipped (by its task id);
    read only for DAGs that have such tasks."""
    if not dag.skipping_task_ids:
        return {}
    rows = session.execute(
        select(XCom.task_id, XCom.value).where(
            XCom.dag_id == run.dag_id, XCom.run_id == run.run_id, XCom.key == SKIPPED_KEY
        )
    )
    skips: dict[str, set[str]] = {}
    for task_id, value in rows:
        skips.setdefault(task_id, set()).update(json.loads(value).get("skipped", ()))
    return skips


def _settle(session: Session, run: RunRef, decision: Decision, now: datetime) -> bool:
    """skipped / upstream_failed as decided; False if any row changed under us."""
    clean = True
    for state, keys in decision.settle.items():
        won = transition_many(
            session,
            run.dag_id,
            run.run_id,
            keys,
            expected=[None],
            new=state,
            start_date=now,
            end_date=now,
            duration=0.0,
        )
        clean &= len(won) == len(keys)
    return clean


def _schedule(session: Session, run: RunRef, decision: Decision, now: datetime) -> bool:
    """Ready instances to ``scheduled``; a new try increments try_number, a resumed
    (rescheduled) one keeps it."""
    batches: Sequence[tuple[list[TIKey], list[str | None], bool]] = (
        (decision.new_try, [None, TI.UP_FOR_RETRY], True),
        (decision.resume, [TI.UP_FOR_RESCHEDULE], False),
    )
    clean = True
    for keys, expected, increment in batches:
        won = transition_many(
            session,
            run.dag_id,
            run.run_id,
            keys,
            expected=expected,
            new=TI.SCHEDULED,
            increment_try=increment,
            scheduled_dttm=now,
        )
        clean &= len(won) == len(keys)
    return clean


def _reason(state: DagRunState, decision: Decision) -> str:
    if state == DagRunState.SUCCESS:
        return "every leaf task succeeded or was skipped"
    failed = sorted({task_id for (task_id, _), s in decision.states.items() if s == TI.FAILED})
    if failed:
        return "failed task(s): " + ", ".join(failed[:10]) + (" ..." if len(failed) > 10 else "")
    return "a leaf task did not succeed"
