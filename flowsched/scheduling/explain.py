"""Why a task instance does not run now, for ``flowsched tasks failed-deps``.

Nothing here decides anything: each reason is the one the scheduler's own rules give
(``claims`` for the run, ``readiness`` for the instance, ``dispatch`` for the slots),
asked for an explanation instead of acting on it. Names follow Airflow's dependencies
("Trigger Rule", "Pool Slots Available", ...), so scripts reading Airflow's output work.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from flowsched.db.states import TaskInstanceState as TI
from flowsched.db.tables import TaskInstance
from flowsched.scheduling import claims, dispatch
from flowsched.scheduling.claims import RunRef
from flowsched.scheduling.examine import load_rows, past_states, recorded_skips
from flowsched.scheduling.readiness import Unmet, decide
from flowsched.scheduling.settings import SchedulerSettings
from flowsched.serialized import SerializedDAG

# The states from which the scheduler may still start a try (readiness or dispatch).
RUNNABLE_STATES = frozenset({None, TI.SCHEDULED, TI.UP_FOR_RETRY, TI.UP_FOR_RESCHEDULE})
NOT_CREATED = (
    "The scheduler has not created this task instance yet: it does when it examines the run."
)


def unmet_dependencies(
    session: Session,
    dag: SerializedDAG,
    run: RunRef,
    key: tuple[str, int],
    now: datetime,
    settings: SchedulerSettings,
) -> list[Unmet]:
    """Every dependency that keeps the instance ``key`` (task id, map index) of ``run``
    from starting now (empty: the scheduler would queue it)."""
    unmet = claims.run_unmet(session, run.dag_id, run.run_id)
    ti = session.get(TaskInstance, (run.dag_id, run.run_id, *key))
    if ti is None:
        return [*unmet, Unmet("Task Instance Exists", NOT_CREATED)]
    if ti.state not in RUNNABLE_STATES:
        state_reason = (f"Task is in the '{ti.state}' state which is not a valid state for "
                        "execution. The task must be cleared in order to be run.")  # fmt: skip
        return [Unmet("Task Instance State", state_reason), *unmet]
    if ti.state != TI.SCHEDULED:
        unmet += _readiness_unmet(session, dag, ti, run, now)
    return unmet + _slots_unmet(session, dag, ti, settings)


def _readiness_unmet(
    session: Session, dag: SerializedDAG, ti: TaskInstance, run: RunRef, now: datetime
) -> list[Unmet]:
    """What the run's readiness sweep says of ``ti``, run now on the run's current rows."""
    decision = decide(
        dag,
        load_rows(session, run),
        now,
        past_states(session, dag, run),
        branch_skips=recorded_skips(session, dag, run),
        explain=True,
    )
    found = (decision.unmet or {}).get((ti.task_id, ti.map_index))
    return [] if found is None else [found]


def _slots_unmet(
    session: Session, dag: SerializedDAG, ti: TaskInstance, settings: SchedulerSettings
) -> list[Unmet]:
    """What queueing would say: the limits counted from the instances queued or running."""
    slots = dispatch.open_slots(session, settings.parallelism, settings)
    unmet = []
    if slots.free <= 0:
        full = f"core.parallelism ({settings.parallelism}) task instances are queued or running."
        unmet.append(Unmet("Parallelism", full))
    found = slots.unmet(ti.pool, ti.pool_slots, ti.dag_id, dag.max_active_tasks)
    if found is not None:
        unmet.append(found)
    task = dag.task_dict.get(ti.task_id)
    if task is not None:
        found = dispatch.TaskLimits(session).unmet(task, ti.dag_id, ti.run_id)
        unmet += [] if found is None else [found]
    return unmet
