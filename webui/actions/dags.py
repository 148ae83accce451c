"""DAG-level changes: pause and unpause."""

from __future__ import annotations

from sqlalchemy.orm import Session

from flowsched.db.tables import DagModel
from webui import audit


def set_paused(session: Session, dag: DagModel, paused: bool) -> None:
    if dag.is_paused == paused:
        return
    dag.is_paused = paused
    audit.record(session, "pause" if paused else "unpause", dag_id=dag.dag_id)
