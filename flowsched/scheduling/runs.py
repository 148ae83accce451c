"""Creating runs and keeping each DAG's "next run" columns true.

``DagModel.next_dagrun_create_after`` is only an index of when to look: at creation time
the timetable is asked again with the current time, so a DAG without catchup that was
paused for a week gets the latest interval, not a stale one. The unique (dag_id,
logical_date) constraint keeps a run single whoever creates it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from flowsched.db.run_rules import BACKFILL, SCHEDULED, new_run, run_exists
from flowsched.db.states import DagRunState, transition_run
from flowsched.db.tables import DagModel, DagRun, TaskInstance
from flowsched.scheduling import claims
from flowsched.scheduling.dagstore import DagStore
from flowsched.serialized import SerializedDAG
from flowsched.timetables import DagRunInfo, DataInterval

ACTIVE = (DagRunState.QUEUED, DagRunState.RUNNING)


def _last_automated_interval(session: Session, dag_id: str) -> DataInterval | None:
    row = session.execute(
        select(DagRun.data_interval_start, DagRun.data_interval_end)
        .where(DagRun.dag_id == dag_id, DagRun.run_type == SCHEDULED)
        .order_by(DagRun.logical_date.desc())
        .limit(1)
    ).first()
    if row is None or row[0] is None or row[1] is None:
        return None
    return DataInterval(row[0], row[1])


def _next_info(sdag: SerializedDAG, last: DataInterval | None, now: datetime) -> DagRunInfo | None:
    return sdag.timetable.next_dagrun_info(
        last_automated_data_interval=last,
        start_date=sdag.start_date,
        end_date=sdag.end_date,
        catchup=sdag.catchup,
        now=now,
    )


def _active_counts(session: Session, dag_ids: Sequence[str]) -> dict[str, int]:
    """Queued and running scheduled/manual runs per DAG (backfills do not hold creation back)."""
    if not dag_ids:
        return {}
    rows = session.execute(
        select(DagRun.dag_id, func.count())
        .where(
            DagRun.dag_id.in_(dag_ids),
            DagRun.state.in_(ACTIVE),
            DagRun.run_type != BACKFILL,
        )
        .group_by(DagRun.dag_id)
    )
    return dict(rows.all())


def _store_next(session: Session, dag_id: str, info: DagRunInfo | None, may_create: bool) -> None:
    """Write the next run's columns; no wake-up time while the DAG is at max_active_runs."""
    values: dict[str, Any] = {
        "next_dagrun": info.logical_date if info else None,
        "next_dagrun_data_interval_start": info.data_interval.start if info else None,
        "next_dagrun_data_interval_end": info.data_interval.end if info else None,
        "next_dagrun_create_after": info.run_after if info and may_create else None,
    }
    session.execute(update(DagModel).where(DagModel.dag_id == dag_id).values(**values))


def refresh_next_dagrun(session: Session, sdag: SerializedDAG, now: datetime) -> None:
    """Recompute a DAG's next run, e.g. after it was parsed anew or one of its runs ended."""
    active = _active_counts(session, [sdag.dag_id]).get(sdag.dag_id, 0)
    info = _next_info(sdag, _last_automated_interval(session, sdag.dag_id), now)
    _store_next(session, sdag.dag_id, info, active < _max_active_runs(sdag))


def _max_active_runs(sdag: SerializedDAG) -> int:
    """A continuous DAG has one active run at a time (Airflow requires max_active_runs=1):
    each of its runs covers the time since the previous one ended."""
    return 1 if sdag.timetable.kind == "continuous" else sdag.max_active_runs


def create_due_runs(session: Session, store: DagStore, now: datetime) -> list[DagRun]:
    """Queue every scheduled run that is due, up to each DAG's max_active_runs."""
    due = claims.due_dags(session, now)
    active = _active_counts(session, [dag.dag_id for dag in due])
    created: list[DagRun] = []
    for dag in due:
        sdag = store.get(session, dag.dag_id)
        if sdag is None:
            _store_next(session, dag.dag_id, None, False)
            continue
        created += _create_for_dag(session, sdag, active.get(dag.dag_id, 0), now)
    return created


def _create_for_dag(
    session: Session, sdag: SerializedDAG, active: int, now: datetime
) -> list[DagRun]:
    created = []
    limit = _max_active_runs(sdag)
    last = _last_automated_interval(session, sdag.dag_id)
    info = _next_info(sdag, last, now)
    while info is not None and info.run_after <= now and active < limit:
        if run_exists(session, sdag.dag_id, logical_date=info.logical_date) is None:
            run = new_run(
                sdag.dag_id,
                SCHEDULED,
                info.data_interval,
                run_after=info.run_after,
                moved_by_dst=info.moved_by_dst,
                triggered_by="scheduler",
            )
            session.add(run)
            created.append(run)
            active += 1
        following = _next_info(sdag, info.data_interval, now)
        if following is not None and following.logical_date <= info.logical_date:
            break  # a schedule that does not move on (continuous) gets one run per look
        info = following
    session.flush()
    _store_next(session, sdag.dag_id, info, active < limit)
    return created


def start_queued_runs(session: Session, store: DagStore, now: datetime) -> list[DagRun]:
    """Move queued runs to running within max_active_runs, creating their task instances."""
    queued = claims.queued_runs(session)
    if not queued:
        return []
    ours = claims.lock_dags(session, {run.dag_id for run in queued})
    queued = [run for run in queued if run.dag_id in ours]
    if not queued:
        return []
    running = dict(
        session.execute(
            select(DagRun.dag_id, func.count())
            .where(
                DagRun.dag_id.in_({run.dag_id for run in queued}),
                DagRun.state == DagRunState.RUNNING,
            )
            .group_by(DagRun.dag_id)
        ).all()
    )
    started = []
    for run in queued:
        sdag = store.get(session, run.dag_id)
        if sdag is None or running.get(run.dag_id, 0) >= sdag.max_active_runs:
            continue
        if start_run(session, sdag, run, now):
            running[run.dag_id] = running.get(run.dag_id, 0) + 1
            started.append(run)
    return started


def start_run(session: Session, sdag: SerializedDAG, run: DagRun, now: datetime) -> bool:
    """queued -> running (guarded) and one task instance per task that has none yet (a
    cleared run keeps its rows); False if someone else started it."""
    if not transition_run(
        session,
        dag_id=run.dag_id,
        run_id=run.run_id,
        expected=[DagRunState.QUEUED],
        new=DagRunState.RUNNING,
        start_date=now,
    ):
        return False
    run.state, run.start_date = DagRunState.RUNNING, now
    existing = set(
        session.scalars(
            select(TaskInstance.task_id)
            .where(TaskInstance.dag_id == run.dag_id, TaskInstance.run_id == run.run_id)
            .distinct()
        )
    )
    create_task_instances(
        session, sdag, run.run_id, [task_id for task_id in sdag.task_ids if task_id not in existing]
    )
    return True


def create_task_instances(
    session: Session, sdag: SerializedDAG, run_id: str, task_ids: Sequence[str]
) -> None:
    """One row per task (map_index -1; a mapped task expands once its inputs are known)."""
    if not task_ids:
        return
    rows = [task_instance_values(sdag, run_id, task_id) for task_id in task_ids]
    session.execute(insert(TaskInstance), rows)


def task_instance_values(
    sdag: SerializedDAG, run_id: str, task_id: str, map_index: int = -1
) -> dict[str, Any]:
    task = sdag.task_dict[task_id]
    return {
        "dag_id": sdag.dag_id,
        "run_id": run_id,
        "task_id": task_id,
        "map_index": map_index,
        "try_number": 0,
        "state": None,
        "max_tries": task.retries,
        "operator": task.operator,
        "pool": task.pool,
        "pool_slots": task.pool_slots,
        "queue": task.queue,
        "priority_weight": task.weight,
    }
