"""Variables: key/value settings kept out of DAG code (docs/how-to/variables-connections.md)."""

from __future__ import annotations

import json
import os
from datetime import datetime
from typing import Any

from sqlalchemy import String, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from flowsched.db.base import Base, UtcDateTime, utcnow
from flowsched.masking import register_secret_if_sensitive

ENV_PREFIX = "FLOWSCHED_VAR_"
_MISSING = object()


class Variable(Base):
    """A variable row, and the ``Variable.get``/``Variable.set`` API DAG files use.

    Environment variables ``FLOWSCHED_VAR_<KEY>`` win over the database, as in Airflow,
    so a deployment can pin a value without touching the DB.
    """

    __tablename__ = "variable"

    key: Mapped[str] = mapped_column(String(250), primary_key=True)
    val: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)

    @classmethod
    def get(cls, key: str, default_var: Any = _MISSING, deserialize_json: bool = False) -> Any:
        raw = cls._lookup(key)
        if raw is None:
            if default_var is _MISSING:
                raise KeyError(f"Variable {key} does not exist")
            return default_var
        register_secret_if_sensitive(key, raw)
        return json.loads(raw) if deserialize_json else raw

    @classmethod
    def set(
        cls, key: str, value: Any, description: str | None = None, serialize_json: bool = False
    ) -> None:
        from flowsched.db import session_scope

        text = json.dumps(value) if serialize_json else str(value)
        with session_scope() as session:
            row = session.get(cls, key)
            if row is None:
                session.add(cls(key=key, val=text, description=description))
            else:
                row.val = text
                if description is not None:
                    row.description = description

    @classmethod
    def delete(cls, key: str) -> bool:
        from flowsched.db import session_scope

        with session_scope() as session:
            row = session.get(cls, key)
            if row is None:
                return False
            session.delete(row)
            return True

    @classmethod
    def _lookup(cls, key: str) -> str | None:
        env_value = os.environ.get(ENV_PREFIX + key.upper())
        if env_value is not None:
            return env_value
        from flowsched.db import session_scope

        with session_scope(readonly=True) as session:
            return session.scalar(select(cls.val).where(cls.key == key))
