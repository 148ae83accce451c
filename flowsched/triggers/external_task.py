"""Triggers that wait on other DAGs: WorkflowTrigger (tasks, a task group or a whole DAG
reaching states) and DagStateTrigger (runs reaching states)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from flowsched.triggers.base import BaseTrigger, TriggerEvent
from flowsched.utils.sensor_helper import ExternalTarget


class _Polling(BaseTrigger):
    poll_seconds: float

    def next_check(self, now: datetime) -> datetime:
        return now + timedelta(seconds=self.poll_seconds)


class WorkflowTrigger(_Polling):
    """Fires ``{"status": "failed" | "skipped" | "success"}``: failed as soon as anything
    is in ``failed_states``, skipped likewise, success once everything is allowed."""

    def __init__(
        self,
        external_dag_id: str,
        execution_dates: list[datetime],
        external_task_ids: Iterable[str] | None = None,
        external_task_group_id: str | None = None,
        failed_states: Iterable[str] | None = None,
        skipped_states: Iterable[str] | None = None,
        allowed_states: Iterable[str] | None = None,
        poke_interval: float = 2.0,
        soft_fail: bool = False,
        **kwargs: Any,
    ) -> None:
        self.external_dag_id = external_dag_id
        self.execution_dates = list(execution_dates)
        self.external_task_ids = list(external_task_ids) if external_task_ids else None
        self.external_task_group_id = external_task_group_id
        self.failed_states = list(failed_states or [])
        self.skipped_states = list(skipped_states or [])
        self.allowed_states = list(allowed_states or ["success"])
        self.poke_interval = self.poll_seconds = poke_interval
        self.soft_fail = soft_fail

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            "flowsched.triggers.external_task.WorkflowTrigger",
            {
                "external_dag_id": self.external_dag_id,
                "execution_dates": self.execution_dates,
                "external_task_ids": self.external_task_ids,
                "external_task_group_id": self.external_task_group_id,
                "failed_states": self.failed_states,
                "skipped_states": self.skipped_states,
                "allowed_states": self.allowed_states,
                "poke_interval": self.poke_interval,
                "soft_fail": self.soft_fail,
            },
        )

    def poll(self) -> TriggerEvent | None:
        if self.failed_states and self._count(self.failed_states) > 0:
            return TriggerEvent({"status": "failed"})
        if self.skipped_states and self._count(self.skipped_states) > 0:
            return TriggerEvent({"status": "skipped"})
        if self._count(self.allowed_states) == len(self.execution_dates):
            return TriggerEvent({"status": "success"})
        return None

    def _count(self, states: list[str]) -> float:
        target = ExternalTarget(
            self.external_dag_id, self.external_task_ids, self.external_task_group_id
        )
        return target.count(self.execution_dates, states)


class DagStateTrigger(_Polling):
    """Fires once the runs of ``dag_id`` at ``execution_dates`` are all in ``states``; the
    payload is ``(classpath, {"dag_id", "states", "execution_dates", "poll_interval"})``,
    as in Airflow."""

    def __init__(
        self,
        dag_id: str,
        states: list[str],
        execution_dates: list[datetime],
        poll_interval: float = 5.0,
    ) -> None:
        self.dag_id = dag_id
        self.states = [str(state) for state in states]
        self.execution_dates = list(execution_dates)
        self.poll_interval = self.poll_seconds = poll_interval

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            "flowsched.triggers.external_task.DagStateTrigger",
            {
                "dag_id": self.dag_id,
                "states": self.states,
                "execution_dates": self.execution_dates,
                "poll_interval": self.poll_interval,
            },
        )

    def poll(self) -> TriggerEvent | None:
        from flowsched.db import session_scope
        from flowsched.db.tables import DagRun

        with session_scope(readonly=True) as session:
            count = session.scalar(
                select(func.count()).where(
                    DagRun.dag_id == self.dag_id,
                    DagRun.state.in_(self.states),
                    DagRun.logical_date.in_(self.execution_dates),
                )
            )
        if count == len(self.execution_dates):
            return TriggerEvent(self.serialize())
        return None
