"""The grid: the latest runs of a DAG by its tasks, each cell a task instance state.

Two index-friendly queries whatever the size: the page of runs (``dag_id, logical_date``
unique index) and the task instances of those runs (primary key prefix ``dag_id,
run_id``), reading only the columns a cell needs. Mapped tasks fold into one cell.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from flowsched.db.states import FINISHED_RUN_STATES
from flowsched.db.tables import DagRun, TaskInstance
from webui.queries.structure import tasks_in_order

# The state a mapped cell shows: the most urgent among its instances.
STATE_URGENCY = (
    "failed",
    "upstream_failed",
    "up_for_retry",
    "running",
    "queued",
    "up_for_reschedule",
    "scheduled",
    None,
    "removed",
    "skipped",
    "success",
)


@dataclass
class GridRun:
    run_id: str
    state: str
    run_type: str
    logical_date: datetime
    start_date: datetime | None
    end_date: datetime | None

    @property
    def duration(self) -> float | None:
        if self.start_date and self.end_date:
            return (self.end_date - self.start_date).total_seconds()
        return None


@dataclass
class GridCell:
    state: str | None
    try_number: int
    counts: dict[str | None, int] = field(default_factory=dict)  # only for mapped tasks

    @property
    def mapped(self) -> bool:
        return bool(self.counts)


@dataclass
class Grid:
    runs: list[GridRun]  # oldest first, as the eye reads time left to right
    tasks: list[dict[str, Any]]
    cells: dict[tuple[str, str], GridCell]
    offset: int
    limit: int
    has_older: bool

    @property
    def is_live(self) -> bool:
        """Whether anything on screen may still change (the page keeps polling)."""
        return any(run.state not in FINISHED_RUN_STATES for run in self.runs)

    def cell(self, task_id: str, run_id: str) -> GridCell | None:
        return self.cells.get((task_id, run_id))


def load_grid(
    session: Session, dag_id: str, structure: dict[str, Any], *, limit: int, offset: int
) -> Grid:
    runs = _load_runs(session, dag_id, limit=limit + 1, offset=offset)
    has_older = len(runs) > limit
    runs = runs[:limit]
    runs.reverse()
    cells = _load_cells(session, dag_id, [run.run_id for run in runs])
    return Grid(runs, tasks_in_order(structure), cells, offset, limit, has_older)


def _load_runs(session: Session, dag_id: str, *, limit: int, offset: int) -> list[GridRun]:
    rows = session.execute(
        select(
            DagRun.run_id,
            DagRun.state,
            DagRun.run_type,
            DagRun.logical_date,
            DagRun.start_date,
            DagRun.end_date,
        )
        .where(DagRun.dag_id == dag_id)
        .order_by(DagRun.logical_date.desc())
        .limit(limit)
        .offset(offset)
    )
    return [GridRun(*row) for row in rows]


def _load_cells(
    session: Session, dag_id: str, run_ids: list[str]
) -> dict[tuple[str, str], GridCell]:
    if not run_ids:
        return {}
    rows = session.execute(
        select(
            TaskInstance.task_id,
            TaskInstance.run_id,
            TaskInstance.map_index,
            TaskInstance.state,
            TaskInstance.try_number,
        ).where(TaskInstance.dag_id == dag_id, TaskInstance.run_id.in_(run_ids))
    )
    plain: dict[tuple[str, str], GridCell] = {}
    mapped: dict[tuple[str, str], Counter[str | None]] = {}
    for task_id, run_id, map_index, state, try_number in rows:
        if map_index < 0:
            plain[(task_id, run_id)] = GridCell(state, try_number)
        else:
            mapped.setdefault((task_id, run_id), Counter())[state] += 1
    for key, counts in mapped.items():
        plain[key] = GridCell(most_urgent(counts), 0, dict(counts))
    return plain


def run_cells(session: Session, dag_id: str, run_id: str) -> dict[str, GridCell]:
    """One run's cells by task id (the graph view colours its nodes with them)."""
    return {task_id: cell for (task_id, _), cell in _load_cells(session, dag_id, [run_id]).items()}


def most_urgent(counts: Counter[str | None]) -> str | None:
    return min(counts, key=lambda s: STATE_URGENCY.index(s) if s in STATE_URGENCY else 0)


def grid_as_json(grid: Grid) -> dict[str, Any]:
    """What the grid page's poller needs to recolour cells and spot new runs."""
    return {
        "runs": [
            {
                "run_id": run.run_id,
                "state": run.state,
                "logical_date": run.logical_date,
                "duration": run.duration,
            }
            for run in grid.runs
        ],
        "cells": [
            {
                "task_id": task_id,
                "run_id": run_id,
                "state": cell.state,
                "try_number": cell.try_number,
                "counts": {(k or "none"): v for k, v in cell.counts.items()},
            }
            for (task_id, run_id), cell in grid.cells.items()
        ],
        "offset": grid.offset,
        "limit": grid.limit,
        "has_older": grid.has_older,
        "live": grid.is_live,
    }
