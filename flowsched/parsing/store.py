"""What the parser reads from and writes to the database.

A scan writes everything in one transaction, so the scheduler and the UI never see half a
scan: a DAG's row, its serialized structure, its file's bookkeeping and the file's import
error change together. Writes are bulk statements keyed by primary key (no ORM objects
loaded), because a cold scan of a big folder writes thousands of rows.

``is_paused`` is set only when a DAG is first seen, and the ``next_dagrun*`` columns are
never touched here: both belong to people and to the scheduler.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.orm import Session

from flowsched.config import conf
from flowsched.db import session_scope
from flowsched.db.tables import DagFile, DagModel, ParseImportError, SerializedDagModel, utcnow
from flowsched.parsing.changes import ChangedFile, KnownFile, ScanPlan
from flowsched.parsing.dagbag import FileResult, ImportFailure, ParsedDag
from flowsched.parsing.ownership import duplicate_message, lost_dag_ids
from flowsched.timetables import timetable_from_serialized

# Serializes concurrent scans on PostgreSQL (SQLite's BEGIN IMMEDIATE already does).
_SCAN_LOCK_KEY = 0x666C6F77


@dataclass(frozen=True)
class DagRow:
    fileloc: str
    is_active: bool


@dataclass
class Snapshot:
    """What the last scans left in the database, read without loading any big column."""

    files: dict[str, KnownFile]
    dags: dict[str, DagRow]
    errors: dict[str, str]  # fileloc -> message

    def active_owners(self) -> dict[str, str]:
        return {dag_id: row.fileloc for dag_id, row in self.dags.items() if row.is_active}


@dataclass
class ScanWrite:
    """Everything one scan decided, ready to be written."""

    plan: ScanPlan
    results: dict[str, FileResult]  # fileloc -> result, for the files in plan.changed
    claims: dict[str, list[str]]  # fileloc -> dag_ids it defines
    owners: dict[str, str]  # dag_id -> owning fileloc


def read_snapshot() -> Snapshot:
    with session_scope(readonly=True) as session:
        files = {
            fileloc: KnownFile(mtime, content_hash, tuple(dag_ids or ()))
            for fileloc, mtime, content_hash, dag_ids in session.execute(
                select(DagFile.fileloc, DagFile.mtime, DagFile.content_hash, DagFile.dag_ids)
            )
        }
        dags = {
            dag_id: DagRow(fileloc, is_active)
            for dag_id, fileloc, is_active in session.execute(
                select(DagModel.dag_id, DagModel.fileloc, DagModel.is_active)
            )
        }
        rows = session.execute(select(ParseImportError.fileloc, ParseImportError.message))
        errors = {fileloc: message for fileloc, message in rows}
    return Snapshot(files, dags, errors)


def count_import_errors(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(ParseImportError)) or 0


def write_scan(scan: ScanWrite) -> tuple[int, int]:
    """Write one scan; returns (DAGs deactivated, files with an import error)."""
    now = utcnow()
    with session_scope() as session:
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SCAN_LOCK_KEY})
        _write_files(session, scan, now)
        _write_import_errors(session, scan, now)
        _write_dags(session, _owned_dags(scan), now)
        removed = _deactivate_unowned(session, scan.owners)
        return removed, count_import_errors(session)


def _write_files(session: Session, scan: ScanWrite, now: datetime) -> None:
    existing = set(session.scalars(select(DagFile.fileloc)))
    rows = [_file_values(file, scan, now) for file in scan.plan.changed]
    _upsert(session, DagFile, rows, existing, key="fileloc")
    touched = [{"fileloc": f, "mtime": m} for f, m in scan.plan.touched.items() if f in existing]
    if touched:
        session.execute(update(DagFile), touched)
    if scan.plan.gone:
        session.execute(delete(DagFile).where(DagFile.fileloc.in_(scan.plan.gone)))


def _file_values(file: ChangedFile, scan: ScanWrite, now: datetime) -> dict[str, Any]:
    return {
        "fileloc": file.fileloc,
        "mtime": file.mtime,
        "content_hash": file.content_hash,
        "source_code": file.source.decode("utf-8", errors="replace"),
        "dag_ids": scan.claims.get(file.fileloc, []),
        "last_parsed": now,
        "parse_duration": scan.results[file.fileloc].duration,
    }


def _write_import_errors(session: Session, scan: ScanWrite, now: datetime) -> None:
    refreshed = [file.fileloc for file in scan.plan.changed] + scan.plan.gone
    session.execute(delete(ParseImportError).where(ParseImportError.fileloc.in_(refreshed)))
    rows = []
    for file in scan.plan.changed:
        failure = _failure_of(file.fileloc, scan)
        if failure is not None:
            rows.append(
                {
                    "fileloc": file.fileloc,
                    "message": failure.message,
                    "stacktrace": failure.traceback,
                    "timestamp": now,
                }
            )
    if rows:
        session.execute(insert(ParseImportError), rows)


def _failure_of(fileloc: str, scan: ScanWrite) -> ImportFailure | None:
    result = scan.results[fileloc]
    if result.failure is not None:
        return result.failure
    lost = lost_dag_ids(fileloc, scan.claims.get(fileloc, []), scan.owners)
    return ImportFailure(duplicate_message(fileloc, lost, scan.owners)) if lost else None


def _owned_dags(scan: ScanWrite) -> list[tuple[str, ParsedDag]]:
    """The freshly parsed DAGs that won their dag_id, with their file."""
    return [
        (fileloc, dag)
        for fileloc, result in scan.results.items()
        for dag in result.dags
        if scan.owners.get(dag.dag_id) == fileloc
    ]


def _write_dags(session: Session, owned: list[tuple[str, ParsedDag]], now: datetime) -> None:
    if not owned:
        return
    existing = set(session.scalars(select(DagModel.dag_id)))
    paused = conf.core.dags_are_paused_at_creation
    rows = [_dag_values(fileloc, dag, now) for fileloc, dag in owned]
    for row, (_, dag) in zip(rows, owned, strict=True):
        if row["dag_id"] not in existing:
            chosen = dag.data.get("is_paused_upon_creation")
            row["is_paused"] = paused if chosen is None else chosen
    _upsert(session, DagModel, rows, existing, key="dag_id")
    _write_serialized(session, owned, now)


def _dag_values(fileloc: str, dag: ParsedDag, now: datetime) -> dict[str, Any]:
    data = dag.data
    timetable = timetable_from_serialized(data["schedule"], data["timezone"])
    return {
        "dag_id": dag.dag_id,
        "fileloc": fileloc,
        "is_active": True,
        "description": data.get("description"),
        "owners": _owners(data),
        "tags": list(data.get("tags") or []),
        "timezone": data["timezone"],
        "schedule_summary": timetable.summary,
        "schedule_description": timetable.description,
        "max_active_runs": data["max_active_runs"],
        "max_active_tasks": data["max_active_tasks"],
        "dag_display_name": data.get("dag_display_name"),
        "owner_links": data.get("owner_links") or None,
        "fail_stop": data.get("fail_stop", False),
        "max_consecutive_failed_dag_runs": data.get("max_consecutive_failed_dag_runs", 0),
        "last_parsed_time": now,
    }


def _owners(data: dict[str, Any]) -> str:
    """The task owners, as Airflow lists them; the DAG's owner when it has no task."""
    owners = dict.fromkeys(task["owner"] for task in data["tasks"] if task.get("owner"))
    return ", ".join(owners) if owners else data.get("owner") or ""


def _write_serialized(session: Session, owned: list[tuple[str, ParsedDag]], now: datetime) -> None:
    stored = {
        dag_id: (fileloc, dag_hash)
        for dag_id, fileloc, dag_hash in session.execute(
            select(
                SerializedDagModel.dag_id, SerializedDagModel.fileloc, SerializedDagModel.dag_hash
            )
        )
    }
    rows = [
        {
            "dag_id": dag.dag_id,
            "fileloc": fileloc,
            "data": dag.data,
            "dag_hash": dag.dag_hash,
            "last_updated": now,
        }
        for fileloc, dag in owned
        if stored.get(dag.dag_id) != (fileloc, dag.dag_hash)
    ]
    _upsert(session, SerializedDagModel, rows, set(stored), key="dag_id")


def _upsert(
    session: Session, model: type, rows: list[dict[str, Any]], existing: set[str], key: str
) -> None:
    new_rows = [row for row in rows if row[key] not in existing]
    old_rows = [row for row in rows if row[key] in existing]
    if new_rows:
        session.execute(insert(model), new_rows)
    if old_rows:
        session.execute(update(model), old_rows)


def _deactivate_unowned(session: Session, owners: dict[str, str]) -> int:
    """DAGs that no file defines any more: inactive, their runs and history kept."""
    active = session.scalars(select(DagModel.dag_id).where(DagModel.is_active))
    orphans = [dag_id for dag_id in active if dag_id not in owners]
    if orphans:
        session.execute(
            update(DagModel).where(DagModel.dag_id.in_(orphans)).values(is_active=False)
        )
    return len(orphans)
