"""DAGs as the list page and the API show them: flags, schedule, recent runs and tasks.

Everything for one page of the list comes from three queries (DAGs, their latest runs,
the task states of each DAG's latest run), whatever the number of DAGs on the page.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import abort
from sqlalchemy import Select, Subquery, and_, func, select
from sqlalchemy.orm import Session

from flowsched.db.tables import (
    AuditLog,
    DagModel,
    DagRun,
    ParseImportError,
    SerializedDagModel,
    SlaMiss,
    TaskInstance,
)
from flowsched.db.user import SCHEDULER_ACTOR

RECENT_RUNS = 8


@dataclass
class RecentRun:
    run_id: str
    state: str
    logical_date: datetime


@dataclass
class DagSummary:
    dag: DagModel
    recent_runs: list[RecentRun] = field(default_factory=list)
    task_counts: dict[str | None, int] = field(default_factory=dict)


@dataclass
class DagFilter:
    search: str = ""
    tags: tuple[str, ...] = ()
    paused: str = "all"  # all | active | paused

    def matches(self, dag: DagModel) -> bool:
        if self.search and not any(
            self.search.lower() in name.lower() for name in (dag.dag_id, dag.dag_display_name or "")
        ):
            return False
        if self.tags and not set(self.tags) & set(dag.tags or []):
            return False
        if self.paused == "paused":
            return dag.is_paused
        if self.paused == "active":
            return not dag.is_paused
        return True


@dataclass
class DagPage:
    summaries: list[DagSummary]
    total: int
    all_tags: list[str]


def list_dags(session: Session, flt: DagFilter, *, limit: int, offset: int) -> DagPage:
    """Active DAGs matching the filter, one page of them with their recent history.

    Tags are a JSON list, so the filter runs in Python over the active DAGs: a few thousand
    small rows, cheaper than a dialect-specific JSON query.
    """
    dags = session.scalars(
        select(DagModel).where(DagModel.is_active.is_(True)).order_by(DagModel.dag_id)
    ).all()
    all_tags = sorted({tag for dag in dags for tag in dag.tags or []})
    matching = [dag for dag in dags if flt.matches(dag)]
    summaries = [DagSummary(dag) for dag in matching[offset : offset + limit]]
    _attach_history(session, summaries)
    return DagPage(summaries=summaries, total=len(matching), all_tags=all_tags)


def _ranked_runs(dag_ids: list[str]) -> Subquery:
    newest_first = func.row_number().over(
        partition_by=DagRun.dag_id, order_by=DagRun.logical_date.desc()
    )
    return (
        select(
            DagRun.dag_id,
            DagRun.run_id,
            DagRun.state,
            DagRun.logical_date,
            newest_first.label("rank"),
        )
        .where(DagRun.dag_id.in_(dag_ids))
        .subquery()
    )


def _attach_history(session: Session, summaries: list[DagSummary]) -> None:
    by_id = {summary.dag.dag_id: summary for summary in summaries}
    if not by_id:
        return
    ranked = _ranked_runs(list(by_id))
    recent = select(ranked).where(ranked.c.rank <= RECENT_RUNS).order_by(ranked.c.rank.desc())
    for row in session.execute(recent):
        by_id[row.dag_id].recent_runs.append(RecentRun(row.run_id, row.state, row.logical_date))
    for dag_id, state, count in session.execute(_latest_run_task_counts(ranked)):
        by_id[dag_id].task_counts[state] = count


def _latest_run_task_counts(ranked: Subquery) -> Select[str, str | None, int]:
    join = and_(TaskInstance.dag_id == ranked.c.dag_id, TaskInstance.run_id == ranked.c.run_id)
    return (
        select(ranked.c.dag_id, TaskInstance.state, func.count())
        .select_from(ranked)
        .join(TaskInstance, join)
        .where(ranked.c.rank == 1)
        .group_by(ranked.c.dag_id, TaskInstance.state)
    )


def import_errors(session: Session) -> list[ParseImportError]:
    return list(session.scalars(select(ParseImportError).order_by(ParseImportError.fileloc)))


def get_dag_or_404(session: Session, dag_id: str) -> DagModel:
    dag = session.get(DagModel, dag_id)
    if dag is None:
        abort(404, f"DAG {dag_id!r} does not exist")
    return dag


def get_structure_or_404(session: Session, dag_id: str) -> dict[str, Any]:
    """The serialized DAG (architecture doc): tasks, edges, params, schedule..."""
    data = session.scalar(
        select(SerializedDagModel.data).where(SerializedDagModel.dag_id == dag_id)
    )
    if data is None:
        abort(404, f"DAG {dag_id!r} has not been parsed yet")
    return data


def dag_as_json(dag: DagModel) -> dict[str, Any]:
    return {
        "dag_id": dag.dag_id,
        "dag_display_name": dag.dag_display_name or dag.dag_id,
        "description": dag.description,
        "is_paused": dag.is_paused,
        "is_active": dag.is_active,
        "fileloc": dag.fileloc,
        "owners": dag.owners,
        "tags": dag.tags or [],
        "timezone": dag.timezone,
        "schedule": dag.schedule_summary,
        "schedule_description": dag.schedule_description,
        "max_active_runs": dag.max_active_runs,
        "max_active_tasks": dag.max_active_tasks,
        "max_consecutive_failed_dag_runs": dag.max_consecutive_failed_dag_runs,
        "owner_links": dag.owner_links or {},
        "last_parsed_time": dag.last_parsed_time,
        "next_dagrun": dag.next_dagrun,
        "next_dagrun_data_interval_start": dag.next_dagrun_data_interval_start,
        "next_dagrun_data_interval_end": dag.next_dagrun_data_interval_end,
    }


@dataclass
class DagNotices:
    """What the DAG's page says above its tabs."""

    parse_warnings: list[str]
    auto_paused: str | None  # why the scheduler paused it, while it stays paused


def dag_notices(session: Session, dag: DagModel, structure: dict[str, Any]) -> DagNotices:
    return DagNotices(list(structure.get("parse_warnings") or []), _auto_pause_reason(session, dag))


def _auto_pause_reason(session: Session, dag: DagModel) -> str | None:
    """The scheduler's reason, if the latest pause or unpause of a paused DAG was its own."""
    if not dag.is_paused or not dag.max_consecutive_failed_dag_runs:
        return None
    latest = session.execute(
        select(AuditLog.user, AuditLog.extra)
        .where(AuditLog.dag_id == dag.dag_id, AuditLog.event.in_(["pause", "unpause"]))
        .order_by(AuditLog.dttm.desc(), AuditLog.id.desc())
        .limit(1)
    ).first()
    if latest is None or latest.user != SCHEDULER_ACTOR:
        return None
    return str(json.loads(latest.extra or "{}").get("reason", "too many failed runs"))


def sla_misses(session: Session, dag_id: str, limit: int = 200) -> list[SlaMiss]:
    """The DAG's latest SLA misses, newest first."""
    return list(
        session.scalars(
            select(SlaMiss)
            .where(SlaMiss.dag_id == dag_id)
            .order_by(SlaMiss.detected_at.desc(), SlaMiss.task_id)
            .limit(limit)
        )
    )
