"""The audit log: every change made through the UI or the API, with who made it."""

from __future__ import annotations

import json
from typing import Any

from flask import g
from sqlalchemy.orm import Session

from flowsched.db.tables import AuditLog


def record(
    session: Session,
    event: str,
    *,
    dag_id: str | None = None,
    run_id: str | None = None,
    task_id: str | None = None,
    extra: dict[str, Any] | None = None,
) -> None:
    """Add the entry in the caller's transaction, so it exists if and only if the change does."""
    session.add(
        AuditLog(
            user=username(),
            event=event,
            dag_id=dag_id,
            run_id=run_id,
            task_id=task_id,
            extra=json.dumps(extra, default=str, sort_keys=True) if extra else None,
        )
    )


def username() -> str:
    return g.user.username
