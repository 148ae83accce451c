"""Pools: named limits on how many task slots run at once."""

from __future__ import annotations

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from flowsched.db.base import Base

DEFAULT_POOL = "default_pool"


class Pool(Base):
    __tablename__ = "slot_pool"

    pool: Mapped[str] = mapped_column(String(256), primary_key=True)
    slots: Mapped[int] = mapped_column(Integer)
    description: Mapped[str | None] = mapped_column(Text)
