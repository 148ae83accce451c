"""Every query by which the scheduler takes rows to work on, in one place.

With SQLite one scheduler runs, so these are plain SELECTs. For several schedulers on
PostgreSQL each query locks what it returns with ``FOR UPDATE SKIP LOCKED``, so two
schedulers never work on the same DAG, run or task instance in the same moment; the locks
last until the pass commits. SQLAlchemy leaves ``FOR UPDATE`` out on SQLite.

The hot queries are built once, with bound parameters, and reused every pass.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import NamedTuple, TypeVarTuple

from sqlalchemy import ColumnElement, Row, Select, and_, bindparam, or_, select, tuple_
from sqlalchemy.orm import Session

from flowsched.db.run_rules import BACKFILL, TEST
from flowsched.db.states import DagRunState, TaskInstanceState
from flowsched.db.tables import DagModel, DagRun, TaskInstance
from flowsched.db.taskinstance import TRY_KEY_COLUMNS
from flowsched.scheduling.readiness import Unmet

RunKey = tuple[str, str]  # (dag_id, run_id)
# A ready task instance: dag_id, run_id, task_id, map_index, pool, pool_slots, queue.
ScheduledRow = Row[str, str, str, int, str, int, str]
# A queued try: dag_id, run_id, task_id, map_index, try_number, queue.
QueuedRow = Row[str, str, str, int, int, str]
_Columns = TypeVarTuple("_Columns")


class RunRef(NamedTuple):
    """What examining a run needs of its row."""

    dag_id: str
    run_id: str
    logical_date: datetime
    start_date: datetime | None

    @classmethod
    def of(cls, run: DagRun) -> RunRef:
        return cls(run.dag_id, run.run_id, run.logical_date, run.start_date)


def _claim(query: Select[*_Columns], *of: type) -> Select[*_Columns]:
    return query.with_for_update(of=list(of), skip_locked=True)


def _schedulable() -> ColumnElement[bool]:
    """Runs of paused DAGs wait, except backfills, which the user asked for explicitly;
    a `dags test` run belongs to its command."""
    return and_(
        or_(DagModel.is_paused.is_(False), DagRun.run_type == BACKFILL), DagRun.run_type != TEST
    )


def due_dags(session: Session, now: datetime, limit: int = 500) -> Sequence[DagModel]:
    """Unpaused, active DAGs whose next scheduled run may be created now."""
    query = (
        select(DagModel)
        .where(
            DagModel.is_paused.is_(False),
            DagModel.is_active.is_(True),
            DagModel.next_dagrun_create_after <= now,
        )
        .order_by(DagModel.next_dagrun_create_after)
        .limit(limit)
    )
    return session.scalars(_claim(query, DagModel)).all()


def lock_dags(session: Session, dag_ids: Collection[str]) -> set[str]:
    """Lock the rows of these DAGs, skipping those another scheduler holds; the ids locked.

    A DAG's row is held while its active runs are counted and its queued runs started:
    a run that another scheduler started in its still open pass is invisible to a count,
    so only the holder of the DAG's row may start its runs (or ``max_active_runs`` would be
    exceeded by two schedulers each starting one)."""
    if not dag_ids:
        return set()
    query = select(DagModel.dag_id).where(DagModel.dag_id.in_(sorted(dag_ids)))
    return set(session.scalars(_claim(query, DagModel)))


def queued_runs(session: Session, limit: int = 200) -> Sequence[DagRun]:
    """Runs waiting to start, oldest logical date first."""
    query = (
        select(DagRun)
        .join(DagModel, DagModel.dag_id == DagRun.dag_id)
        .where(DagRun.state == DagRunState.QUEUED, _schedulable())
        .order_by(DagRun.logical_date)
        .limit(limit)
    )
    return session.scalars(_claim(query, DagRun)).all()


_RUNNING = _claim(
    select(DagRun.dag_id, DagRun.run_id, DagRun.logical_date, DagRun.start_date)
    .join(DagModel, DagModel.dag_id == DagRun.dag_id)
    .where(DagRun.state == DagRunState.RUNNING, _schedulable())
    .order_by(DagRun.logical_date),
    DagRun,
)
_RUNNING_SOME = _RUNNING.where(
    tuple_(DagRun.dag_id, DagRun.run_id).in_(bindparam("keys", expanding=True))
)


def running_runs(session: Session, keys: Sequence[RunKey] | None = None) -> list[RunRef]:
    """Running runs to examine: all of them, or the ones named by ``keys``."""
    if keys is None:
        return [RunRef(*row) for row in session.connection().execute(_RUNNING)]
    if not keys:
        return []
    rows = session.connection().execute(_RUNNING_SOME, {"keys": list(keys)})
    return [RunRef(*row) for row in rows]


def run_unmet(session: Session, dag_id: str, run_id: str) -> list[Unmet]:
    """Why ``running_runs`` leaves this run out (nothing: it examines it), judged by the
    same conditions, so that an explanation never disagrees with the scheduler."""
    found = session.execute(
        select(DagRun.state, DagRun.run_type, DagModel.is_paused, _schedulable())
        .join(DagModel, DagModel.dag_id == DagRun.dag_id)
        .where(DagRun.dag_id == dag_id, DagRun.run_id == run_id)
    ).first()
    if found is None:
        return [Unmet("Dagrun Running", f"Task instance's dagrun {run_id!r} does not exist.")]
    state, run_type, paused, schedulable = found
    unmet = []
    if state != DagRunState.RUNNING:
        unmet.append(Unmet("Dagrun Running", "Task instance's dagrun was not in the 'running' "
                           f"state but in the state '{state}'."))  # fmt: skip
    if not schedulable and run_type == TEST:
        unmet.append(Unmet("Dagrun Id", "The run belongs to `dags test`, which runs it itself."))
    elif not schedulable and paused:
        unmet.append(Unmet("Dag Not Paused", f"Task's DAG '{dag_id}' is paused."))
    return unmet


_SCHEDULED_COLUMNS = (
    TaskInstance.dag_id,
    TaskInstance.run_id,
    TaskInstance.task_id,
    TaskInstance.map_index,
    TaskInstance.pool,
    TaskInstance.pool_slots,
    TaskInstance.queue,
)
_SCHEDULED_BASE = (
    select(*_SCHEDULED_COLUMNS)
    .join(
        DagRun,
        and_(DagRun.dag_id == TaskInstance.dag_id, DagRun.run_id == TaskInstance.run_id),
    )
    .where(TaskInstance.state == TaskInstanceState.SCHEDULED)
    .order_by(TaskInstance.priority_weight.desc(), DagRun.logical_date, TaskInstance.map_index)
    .limit(bindparam("limit"))
)
_SCHEDULED = _claim(
    _SCHEDULED_BASE.join(DagModel, DagModel.dag_id == TaskInstance.dag_id).where(
        DagRun.state == DagRunState.RUNNING, _schedulable()
    ),
    TaskInstance,
)
_SCHEDULED_IN_RUN = _claim(
    _SCHEDULED_BASE.where(
        TaskInstance.dag_id == bindparam("dag_id"), TaskInstance.run_id == bindparam("run_id")
    ),
    TaskInstance,
)


def scheduled_tis(
    session: Session, limit: int, only_run: RunKey | None = None
) -> Sequence[ScheduledRow]:
    """Task instances waiting for a slot, highest priority first, then oldest run."""
    if only_run is None:
        return session.connection().execute(_SCHEDULED, {"limit": limit}).all()
    params = {"limit": limit, "dag_id": only_run[0], "run_id": only_run[1]}
    return session.connection().execute(_SCHEDULED_IN_RUN, params).all()


def stale_running_tis(session: Session, heartbeat_before: datetime) -> Sequence[TaskInstance]:
    """Running task instances whose worker stopped beating: zombies."""
    query = select(TaskInstance).where(
        TaskInstance.state == TaskInstanceState.RUNNING,
        or_(
            TaskInstance.last_heartbeat_at < heartbeat_before,
            and_(
                TaskInstance.last_heartbeat_at.is_(None),
                TaskInstance.start_date < heartbeat_before,
            ),
        ),
    )
    return session.scalars(_claim(query, TaskInstance)).all()


def running_tis_on(session: Session, hostname: str) -> Sequence[TaskInstance]:
    """Running task instances claimed by a supervisor on ``hostname`` (to see whether the
    supervisor is still alive)."""
    query = select(TaskInstance).where(
        TaskInstance.state == TaskInstanceState.RUNNING, TaskInstance.hostname == hostname
    )
    return session.scalars(_claim(query, TaskInstance)).all()


def queued_tis(session: Session) -> Sequence[QueuedRow]:
    """Task instances queued to an executor; at start-up, the tries a dead scheduler had sent."""
    query = select(*TRY_KEY_COLUMNS, TaskInstance.queue).where(
        TaskInstance.state == TaskInstanceState.QUEUED
    )
    return session.execute(_claim(query, TaskInstance)).all()
