"""SLA misses: a task instance of a scheduled run not done by its run's end plus ``sla``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from flowsched.db.base import ID_LENGTH, Base, UtcDateTime, utcnow


class SlaMiss(Base):
    """One row per missed task instance (the primary key keeps a miss recorded once)."""

    __tablename__ = "sla_miss"

    dag_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    run_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    task_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    map_index: Mapped[int] = mapped_column(Integer, primary_key=True, default=-1)
    logical_date: Mapped[datetime] = mapped_column(UtcDateTime)
    sla: Mapped[float] = mapped_column(Float)  # seconds after the data interval's end
    deadline: Mapped[datetime] = mapped_column(UtcDateTime)
    state_at_deadline: Mapped[str | None] = mapped_column(String(20))
    detected_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    notification_sent: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (Index("ix_sla_miss_detected_at", "detected_at"),)
