"""What the parser writes: DAGs, their serialized structure, file bookkeeping, import errors."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from flowsched.db.base import ID_LENGTH, Base, UtcDateTime, utcnow


class DagModel(Base):
    """One row per DAG id: the flags people change and what the scheduler needs next."""

    __tablename__ = "dag"

    dag_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    fileloc: Mapped[str] = mapped_column(Text)
    is_paused: Mapped[bool] = mapped_column(Boolean, default=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    description: Mapped[str | None] = mapped_column(Text)
    owners: Mapped[str | None] = mapped_column(String(500))
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    timezone: Mapped[str] = mapped_column(String(100), default="UTC")
    schedule_summary: Mapped[str | None] = mapped_column(String(200))
    schedule_description: Mapped[str | None] = mapped_column(Text)
    max_active_runs: Mapped[int] = mapped_column(Integer, default=16)
    max_active_tasks: Mapped[int] = mapped_column(Integer, default=16)
    dag_display_name: Mapped[str | None] = mapped_column(String(2000))
    owner_links: Mapped[dict[str, str] | None] = mapped_column(JSON)
    # read when a task fails (fail_stop) or a run fails (auto-pause), without the JSON
    fail_stop: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    max_consecutive_failed_dag_runs: Mapped[int] = mapped_column(
        Integer, default=0, server_default="0"
    )
    last_parsed_time: Mapped[datetime | None] = mapped_column(UtcDateTime)
    next_dagrun: Mapped[datetime | None] = mapped_column(UtcDateTime)
    next_dagrun_data_interval_start: Mapped[datetime | None] = mapped_column(UtcDateTime)
    next_dagrun_data_interval_end: Mapped[datetime | None] = mapped_column(UtcDateTime)
    next_dagrun_create_after: Mapped[datetime | None] = mapped_column(UtcDateTime)

    __table_args__ = (Index("ix_dag_due", "is_paused", "is_active", "next_dagrun_create_after"),)


class SerializedDagModel(Base):
    """The DAG structure as JSON, so the scheduler and the UI never import user code."""

    __tablename__ = "serialized_dag"

    dag_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("dag.dag_id", ondelete="CASCADE"), primary_key=True
    )
    fileloc: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    dag_hash: Mapped[str] = mapped_column(String(64))
    last_updated: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class DagFile(Base):
    """One row per file in the dags folder: lets a re-scan skip files that did not change."""

    __tablename__ = "dag_file"

    fileloc: Mapped[str] = mapped_column(String(1000), primary_key=True)
    mtime: Mapped[float] = mapped_column(Float)
    content_hash: Mapped[str] = mapped_column(String(64))
    source_code: Mapped[str] = mapped_column(Text)
    dag_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    last_parsed: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    parse_duration: Mapped[float | None] = mapped_column(Float)


class ParseImportError(Base):
    """A DAG file that failed to load, shown in the UI and by `dags list-import-errors`."""

    __tablename__ = "import_error"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    fileloc: Mapped[str] = mapped_column(String(1000), unique=True)
    message: Mapped[str] = mapped_column(Text)
    stacktrace: Mapped[str] = mapped_column(Text, default="")
    timestamp: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
