"""The audit log, written by the operations themselves: one row per change, in the
change's own transaction, so the row exists if and only if the change does."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.orm import Session

from flowsched.db.tables import AuditLog


def record(
    session: Session,
    actor: str,
    event: str,
    *,
    dag_id: str | None = None,
    run_id: str | None = None,
    task_id: str | None = None,
    extra: dict[str, Any] | None = None,
) -> None:
    """``actor`` is who asked: a web user's name, ``cli:<os user>``, or a task."""
    session.add(
        AuditLog(
            user=actor,
            event=event,
            dag_id=dag_id,
            run_id=run_id,
            task_id=task_id,
            extra=json.dumps(extra, default=str, sort_keys=True) if extra else None,
        )
    )
