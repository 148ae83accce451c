"""How far another DAG got at given logical dates: what ExternalTaskSensor and its
trigger count (Airflow's ``airflow.utils.sensor_helper``)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select, tuple_
from sqlalchemy.orm import Session

from flowsched.db.tables import DagRun, SerializedDagModel, TaskInstance


@dataclass(frozen=True)
class ExternalTarget:
    """What is waited for: tasks of a DAG, a task group of it, or (neither) its runs."""

    dag_id: str
    task_ids: Collection[str] | None = None
    task_group_id: str | None = None

    def count(self, dates: Sequence[datetime], states: Collection[str]) -> float:
        """``count_in_states`` now, in a short read-only session of its own."""
        from flowsched.db import session_scope

        with session_scope(readonly=True) as session:
            return count_in_states(
                session,
                dates=dates,
                external_dag_id=self.dag_id,
                external_task_ids=self.task_ids,
                external_task_group_id=self.task_group_id,
                states=states,
            )


def count_in_states(
    session: Session,
    *,
    dates: Sequence[datetime],
    external_dag_id: str,
    external_task_ids: Collection[str] | None,
    external_task_group_id: str | None,
    states: Collection[str],
) -> float:
    """For tasks: how many of the runs at ``dates`` have every task in ``states`` (a
    fraction while some are not); for a task group, the same over the group's task
    instances; for the DAG itself: how many of those runs are in ``states``."""
    if not dates:
        return 0
    if external_task_ids:
        count = session.scalar(
            _count_tis(dates, external_dag_id, states).where(
                TaskInstance.task_id.in_(list(external_task_ids))
            )
        )
        return (count or 0) / len(external_task_ids)
    if external_task_group_id:
        members = group_task_instances(session, dates, external_dag_id, external_task_group_id)
        if not members:
            return 0
        count = session.scalar(
            _count_tis(dates, external_dag_id, states).where(
                tuple_(TaskInstance.task_id, TaskInstance.map_index).in_(members)
            )
        )
        return (count or 0) / len(members)
    return (
        session.scalar(
            select(func.count()).where(
                DagRun.dag_id == external_dag_id,
                DagRun.state.in_(list(states)),
                DagRun.logical_date.in_(list(dates)),
            )
        )
        or 0
    )


def _count_tis(dates: Sequence[datetime], dag_id: str, states: Collection[str]) -> Select[int]:
    return (
        select(func.count())
        .select_from(TaskInstance)
        .join(
            DagRun,
            (DagRun.dag_id == TaskInstance.dag_id) & (DagRun.run_id == TaskInstance.run_id),
        )
        .where(
            TaskInstance.dag_id == dag_id,
            TaskInstance.state.in_(list(states)),
            DagRun.logical_date.in_(list(dates)),
        )
    )


def group_task_instances(
    session: Session, dates: Sequence[datetime], dag_id: str, group_id: str
) -> list[tuple[str, int]]:
    """(task_id, map_index) of the group's task instances in the runs at ``dates``; a
    group that does not exist gives itself as a task that never finishes, as in Airflow
    (the sensor then waits until its timeout)."""
    task_ids = group_task_ids(session, dag_id, group_id)
    if task_ids is None:
        return [(group_id, -1)]
    rows = session.execute(
        select(TaskInstance.task_id, TaskInstance.map_index)
        .join(
            DagRun,
            (DagRun.dag_id == TaskInstance.dag_id) & (DagRun.run_id == TaskInstance.run_id),
        )
        .where(
            TaskInstance.dag_id == dag_id,
            TaskInstance.task_id.in_(task_ids),
            DagRun.logical_date.in_(list(dates)),
        )
    )
    return [(task_id, map_index) for task_id, map_index in rows]


def group_task_ids(session: Session, dag_id: str, group_id: str) -> list[str] | None:
    """Every task inside the group (nested groups included), from the serialized DAG;
    None if the DAG or the group is unknown."""
    data = serialized_dag_data(session, dag_id)
    if data is None or group_id not in data.get("task_groups", {}):
        return None
    groups = data["task_groups"]

    def inside(group: str | None) -> bool:
        while group is not None:
            if group == group_id:
                return True
            group = groups.get(group, {}).get("parent")
        return False

    return [task["task_id"] for task in data["tasks"] if inside(task["task_group"])]


def serialized_dag_data(session: Session, dag_id: str) -> dict[str, Any] | None:
    row = session.get(SerializedDagModel, dag_id)
    return None if row is None else row.data
