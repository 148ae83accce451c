"""XComs: small JSON values tasks hand to each other."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from flowsched.db.base import ID_LENGTH, Base, UtcDateTime, utcnow

RETURN_VALUE_KEY = "return_value"
SKIPPED_KEY = "skipmixin_key"
"""Airflow's key for what a branch or short circuit skipped: ``{"skipped": [task ids]}``,
kept so that a skipped task that is cleared is skipped again rather than run."""


class XCom(Base):
    __tablename__ = "xcom"

    dag_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    run_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    task_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    map_index: Mapped[int] = mapped_column(Integer, primary_key=True, default=-1)
    key: Mapped[str] = mapped_column(String(512), primary_key=True)
    value: Mapped[str] = mapped_column(Text)  # JSON text
    timestamp: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
