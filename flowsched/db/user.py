"""Web UI users and the audit log of who changed what."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from flowsched.db.base import ID_LENGTH, Base, UtcDateTime, utcnow

ROLES = ("admin", "viewer")


class User(Base):
    __tablename__ = "user"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(256), unique=True)
    password_hash: Mapped[str] = mapped_column(String(512))
    role: Mapped[str] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(512))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_login: Mapped[datetime | None] = mapped_column(UtcDateTime)


SCHEDULER_ACTOR = "scheduler"  # the audit log's "who" for what the scheduler decides itself


class AuditLog(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dttm: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    user: Mapped[str] = mapped_column(String(256))  # a username, "cli:<os user>" or "system"
    event: Mapped[str] = mapped_column(String(100))
    dag_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    run_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    task_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    extra: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_audit_log_dttm", "dttm"),)
