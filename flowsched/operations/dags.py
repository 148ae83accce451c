"""DAG-level changes: pause and unpause, delete a DAG's rows."""

from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from flowsched.db.tables import DagFile, DagModel, DagRun, Job, SerializedDagModel
from flowsched.operations import audit
from flowsched.operations.nudge import nudge_after_commit
from flowsched.operations.rules import get_dag
from flowsched.operations.runs import delete_runs


def set_paused(session: Session, dag_id: str, paused: bool, *, actor: str) -> bool:
    """Pause or unpause; False (and no audit row) if it already was. Unpausing nudges the
    scheduler, so a due run starts now rather than at its next idle poll."""
    dag = get_dag(session, dag_id)
    if dag.is_paused == paused:
        return False
    dag.is_paused = paused
    audit.record(session, actor, "pause" if paused else "unpause", dag_id=dag_id)
    if not paused:
        nudge_after_commit(session)
    return True


def count_runs(session: Session, dag_id: str) -> int:
    get_dag(session, dag_id)
    return session.scalar(select(func.count()).where(DagRun.dag_id == dag_id)) or 0


def delete_dag(session: Session, dag_id: str, *, actor: str) -> int:
    """Delete a DAG's rows: runs, task instances, tries, XComs and its stored structure;
    returns how many runs went.

    The DAG file is not touched: while it exists the DAG comes back, with no history, at
    the next scan (as in Airflow). Its file's parse is forgotten, so that scan reads it.
    """
    fileloc = get_dag(session, dag_id).fileloc
    count = count_runs(session, dag_id)
    delete_runs(session, dag_id, None)
    for table in (SerializedDagModel, DagModel):
        session.execute(delete(table).where(table.dag_id == dag_id))
    session.execute(delete(DagFile).where(DagFile.fileloc == fileloc))
    audit.record(session, actor, "delete_dag", dag_id=dag_id, extra={"runs": count})
    return count


def forget_parses(session: Session, *, actor: str) -> None:
    """Forget every file's stored parse, so the next scan reads and stores each DAG anew
    (as Airflow's ``dags reserialize``); the DAGs, their runs and history stay."""
    session.execute(delete(DagFile))
    audit.record(session, actor, "reserialize")


def parse_report(session: Session) -> list[tuple[DagFile, int]]:
    """Each parsed file (slowest first) with the number of tasks of its DAGs."""
    files = list(session.scalars(select(DagFile).order_by(DagFile.parse_duration.desc())))
    stored = {row.dag_id: row.data for row in session.scalars(select(SerializedDagModel))}
    return [
        (file, sum(len(stored.get(dag_id, {}).get("tasks", [])) for dag_id in file.dag_ids))
        for file in files
    ]


def list_jobs(session: Session, state: str | None, limit: int) -> list[Job]:
    query = select(Job).order_by(Job.start_date.desc()).limit(limit)
    if state:
        query = query.where(Job.state == state)
    return list(session.scalars(query))
