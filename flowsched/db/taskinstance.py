"""Task instances (one per task, run and map index) and the history of their tries."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ColumnElement, Float, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from flowsched.db.base import ID_LENGTH, Base, UtcDateTime, utcnow
from flowsched.tries import TaskKey


class _TryColumns:
    """Columns a live task instance and a finished try have in common."""

    dag_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    run_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    task_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    map_index: Mapped[int] = mapped_column(Integer, default=-1)
    try_number: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[str | None] = mapped_column(String(20))
    start_date: Mapped[datetime | None] = mapped_column(UtcDateTime)
    end_date: Mapped[datetime | None] = mapped_column(UtcDateTime)
    duration: Mapped[float | None] = mapped_column(Float)
    hostname: Mapped[str | None] = mapped_column(String(1000))
    pid: Mapped[int | None] = mapped_column(Integer)
    executor: Mapped[str | None] = mapped_column(String(100))
    queued_dttm: Mapped[datetime | None] = mapped_column(UtcDateTime)

    @classmethod
    def of_try(cls, key: TaskKey) -> list[ColumnElement[bool]]:
        """WHERE conditions for ``key``: the task instance while it holds that try, or
        that try's history row."""
        return [
            cls.dag_id == key.dag_id,
            cls.run_id == key.run_id,
            cls.task_id == key.task_id,
            cls.map_index == key.map_index,
            cls.try_number == key.try_number,
        ]


class TaskInstance(_TryColumns, Base):
    __tablename__ = "task_instance"

    dag_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    run_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    task_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    map_index: Mapped[int] = mapped_column(Integer, primary_key=True, default=-1)
    max_tries: Mapped[int] = mapped_column(Integer, default=0)
    operator: Mapped[str | None] = mapped_column(String(1000))
    pool: Mapped[str] = mapped_column(String(256), default="default_pool")
    pool_slots: Mapped[int] = mapped_column(Integer, default=1)
    queue: Mapped[str] = mapped_column(String(256), default="default")
    priority_weight: Mapped[int] = mapped_column(Integer, default=1)
    scheduled_dttm: Mapped[datetime | None] = mapped_column(UtcDateTime)
    next_try_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_heartbeat_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    external_executor_id: Mapped[str | None] = mapped_column(String(250))
    rendered_fields: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # tries lost to the platform (worker, supervisor or scheduler gone) that were re-run
    # without using one of the task's retries; bounded by [core] max_platform_retries
    platform_retries: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # the process that claimed the current try and records its end (its pid is the try's)
    supervisor_pid: Mapped[int | None] = mapped_column(Integer)
    # A deferred try's trigger and where it resumes (runner/deferral.py); None otherwise.
    deferral: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)

    @property
    def key(self) -> TaskKey:
        """The current try's key (as Airflow's ``TaskInstance.key``)."""
        return TaskKey(self.dag_id, self.run_id, self.task_id, self.map_index, self.try_number)

    __table_args__ = (
        Index("ix_task_instance_state", "state", "dag_id", "run_id"),
        Index("ix_task_instance_pool_state", "pool", "state"),
    )


TRY_KEY_COLUMNS = (
    TaskInstance.dag_id,
    TaskInstance.run_id,
    TaskInstance.task_id,
    TaskInstance.map_index,
    TaskInstance.try_number,
)
"""A try's key columns in TaskKey's order: rows of ``select(*TRY_KEY_COLUMNS, ...)`` start
with the key (``TaskKey(*row[:5])``)."""


class TaskInstanceHistory(_TryColumns, Base):
    """One row per try that has started, kept when the task instance is cleared or retried."""

    __tablename__ = "task_instance_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    error: Mapped[str | None] = mapped_column(Text)
    log_error: Mapped[str | None] = mapped_column(Text)  # why its log file could not be written

    __table_args__ = (UniqueConstraint("dag_id", "run_id", "task_id", "map_index", "try_number"),)
