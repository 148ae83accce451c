"""Queueing scheduled task instances within the limits, best priority first.

Readiness is decided per run; slots are shared by all runs, so they are handed out here,
across runs, from one query of what is in flight: ``core.parallelism`` (and the
executor's free slots), pools (``pool_slots`` each; ``default_pool`` holds
``core.default_pool_slots`` unless a row says otherwise), each DAG's
``max_active_tasks`` and each task's ``max_active_tis_per_dag`` /
``max_active_tis_per_dagrun``. An instance that does not fit stays ``scheduled`` for a
later pass.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from flowsched.db.bulk import transition_many
from flowsched.db.states import RUNNING_TI_STATES, TaskInstanceState
from flowsched.db.tables import DEFAULT_POOL, Pool, TaskInstance
from flowsched.scheduling import claims
from flowsched.scheduling.claims import RunKey
from flowsched.scheduling.dagstore import DagStore
from flowsched.scheduling.readiness import Unmet
from flowsched.scheduling.settings import SchedulerSettings
from flowsched.serialized import SerializedTask
from flowsched.tries import TaskKey

log = logging.getLogger(__name__)
_warned_pools: set[str] = set()


class Dispatch(NamedTuple):
    """A try to hand to the executor once the pass has committed."""

    key: TaskKey
    fileloc: str
    queue: str


@dataclass
class Slots:
    free: int
    pools: dict[str, int]
    per_dag: Counter[str] = field(default_factory=Counter)

    def fits(self, pool: str, pool_slots: int, dag_id: str, max_active_tasks: int) -> bool:
        if pool not in self.pools and pool not in _warned_pools:
            log.warning("pool %r does not exist: its tasks wait until it is created", pool)
            _warned_pools.add(pool)
        return self.unmet(pool, pool_slots, dag_id, max_active_tasks) is None

    def unmet(self, pool: str, pool_slots: int, dag_id: str, max_active_tasks: int) -> Unmet | None:
        """Why an instance does not fit in its pool or its DAG's share now (None: it fits)."""
        if pool not in self.pools:
            missing = f"Tasks using non-existent pool '{pool}' will not be scheduled"
            return Unmet("Pool Slots Available", missing)
        if self.pools[pool] < pool_slots:
            return Unmet("Pool Slots Available", f"Not scheduling since there are "
                         f"{self.pools[pool]} open slots in pool {pool} and require "
                         f"{pool_slots} pool slots")  # fmt: skip
        if self.per_dag[dag_id] >= max_active_tasks:
            return Unmet("Task Instance Slots Available", f"The maximum number of running "
                         f"tasks ({max_active_tasks}) for this task's DAG '{dag_id}' has been "
                         "reached.")  # fmt: skip
        return None

    def take(self, pool: str, pool_slots: int, dag_id: str) -> None:
        self.free -= 1
        self.pools[pool] -= pool_slots
        self.per_dag[dag_id] += 1


@dataclass
class TaskLimits:
    """Each task's own limits: instances in flight across all runs of its DAG
    (``max_active_tis_per_dag``) and within one run (``max_active_tis_per_dagrun``),
    counted from the database the first time a pass meets a task that has a limit."""

    session: Session
    in_runs: dict[tuple[str, str], Counter[str]] = field(default_factory=dict)

    def fits(self, task: SerializedTask, dag_id: str, run_id: str) -> bool:
        return self.unmet(task, dag_id, run_id) is None

    def unmet(self, task: SerializedTask, dag_id: str, run_id: str) -> Unmet | None:
        """Why one more instance of ``task`` may not start now (None: it may)."""
        if task.max_active_tis_per_dag is None and task.max_active_tis_per_dagrun is None:
            return None
        in_runs = self._in_runs(dag_id, task.task_id)
        per_dag, per_run = task.max_active_tis_per_dag, task.max_active_tis_per_dagrun
        if per_dag is not None and in_runs.total() >= per_dag:
            return Unmet("Task Concurrency", f"The max task concurrency has been reached: "
                         f"max_active_tis_per_dag={per_dag} instances of this task are "
                         "queued or running.")  # fmt: skip
        if per_run is not None and in_runs[run_id] >= per_run:
            return Unmet("Task Concurrency", f"The max task concurrency has been reached: "
                         f"max_active_tis_per_dagrun={per_run} instances of this task are "
                         "queued or running in this run.")  # fmt: skip
        return None

    def take(self, task: SerializedTask, dag_id: str, run_id: str) -> None:
        if (dag_id, task.task_id) in self.in_runs:
            self.in_runs[(dag_id, task.task_id)][run_id] += 1

    def _in_runs(self, dag_id: str, task_id: str) -> Counter[str]:
        key = (dag_id, task_id)
        if key not in self.in_runs:
            rows = self.session.connection().execute(
                _TASK_IN_FLIGHT, {"dag_id": dag_id, "task_id": task_id}
            )
            self.in_runs[key] = Counter(dict(rows.all()))
        return self.in_runs[key]


_TASK_IN_FLIGHT = (
    select(TaskInstance.run_id, func.count())
    .where(
        TaskInstance.dag_id == bindparam("dag_id"),
        TaskInstance.task_id == bindparam("task_id"),
        TaskInstance.state.in_(RUNNING_TI_STATES),
    )
    .group_by(TaskInstance.run_id)
)
_IN_FLIGHT = (
    select(
        TaskInstance.dag_id,
        TaskInstance.pool,
        func.count(),
        func.coalesce(func.sum(TaskInstance.pool_slots), 0),
    )
    .where(TaskInstance.state.in_(RUNNING_TI_STATES))
    .group_by(TaskInstance.dag_id, TaskInstance.pool)
)
_POOLS = select(Pool.pool, Pool.slots)


def open_slots(session: Session, executor_free: int, settings: SchedulerSettings) -> Slots:
    """What may start now, from one grouped count of the queued and running instances."""
    connection = session.connection()
    pools = dict(connection.execute(_POOLS).all())
    pools.setdefault(DEFAULT_POOL, settings.default_pool_slots)
    slots = Slots(free=0, pools=pools)
    total = 0
    for dag_id, pool, count, used in connection.execute(_IN_FLIGHT):
        total += count
        slots.per_dag[dag_id] += count
        if pool in slots.pools:
            slots.pools[pool] -= used
    slots.free = min(executor_free, settings.parallelism - total)
    return slots


# pg_advisory_xact_lock key of the dispatch step ("flowschd" as a 64-bit integer)
DISPATCH_LOCK = int.from_bytes(b"flowschd", "big")


def _one_scheduler_at_a_time(session: Session) -> None:
    """On PostgreSQL, wait until no other scheduler's pass is between counting free slots
    and committing what it queued (a transaction lock, released by that commit).

    Row locks keep two schedulers off the same task instance, not off the same slot: the
    instances another scheduler queued in its still open pass are invisible to a count,
    so both would fill the same free pool slots, parallelism and max_active_tasks. The
    wait is short: the holder only queues and commits (it waits for no row lock meanwhile,
    its claims skip locked rows), and SQLite runs one scheduler anyway."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(select(func.pg_advisory_xact_lock(DISPATCH_LOCK)))


def queue_scheduled(
    session: Session,
    store: DagStore,
    executor_free: int,
    executor_name: str,
    now: datetime,
    settings: SchedulerSettings,
    only_run: RunKey | None = None,
) -> list[Dispatch]:
    """Move the best scheduled instances that fit to ``queued``; the tries to send."""
    _one_scheduler_at_a_time(session)
    slots = open_slots(session, executor_free, settings)
    if slots.free <= 0:
        return []
    chosen: dict[RunKey, list[tuple[str, int]]] = defaultdict(list)
    filelocs: dict[str, str] = {}
    queues: dict[tuple[str, str, str, int], str] = {}
    limits = TaskLimits(session)
    for row in claims.scheduled_tis(session, max(4 * slots.free, 64), only_run):
        if slots.free <= 0:
            break
        dag = store.get(session, row.dag_id)
        task = dag.task_dict.get(row.task_id) if dag is not None else None
        if (
            dag is None
            or not slots.fits(row.pool, row.pool_slots, row.dag_id, dag.max_active_tasks)
            or (task is not None and not limits.fits(task, row.dag_id, row.run_id))
        ):
            continue
        slots.take(row.pool, row.pool_slots, row.dag_id)
        if task is not None:
            limits.take(task, row.dag_id, row.run_id)
        filelocs[row.dag_id] = dag.fileloc
        chosen[(row.dag_id, row.run_id)].append((row.task_id, row.map_index))
        queues[(row.dag_id, row.run_id, row.task_id, row.map_index)] = row.queue
    dispatches = []
    for (dag_id, run_id), keys in chosen.items():
        won = transition_many(
            session,
            dag_id,
            run_id,
            keys,
            expected=[TaskInstanceState.SCHEDULED],
            new=TaskInstanceState.QUEUED,
            queued_dttm=now,
            executor=executor_name,
        )
        dispatches += [
            Dispatch(
                TaskKey(dag_id, run_id, task_id, map_index, try_number),
                filelocs[dag_id],
                queues[(dag_id, run_id, task_id, map_index)],
            )
            for task_id, map_index, try_number in won
        ]
    return dispatches
