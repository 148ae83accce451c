"""The links a task page offers to other DAGs' runs (Airflow's operator extra links).

A task's serialized ``extra_links`` names them; each is built from what the try recorded
(its rendered template fields and XComs), never from the DAG file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from flowsched.db.tables import DagModel, DagRun, TaskInstance, XCom


@dataclass(frozen=True)
class RunLink:
    """ "Triggered DAG" -> ``dag_id``'s run ``run_id`` (None: the DAG itself)."""

    name: str
    dag_id: str
    run_id: str | None


def extra_links(
    session: Session, ti: TaskInstance, run: DagRun, task: dict[str, Any]
) -> list[RunLink]:
    links = []
    for name in task.get("extra_links", ()):
        link = _BUILDERS[name](session, ti, run) if name in _BUILDERS else None
        if link is not None:
            links.append(link)
    return links


def _triggered_run(session: Session, ti: TaskInstance, run: DagRun) -> RunLink | None:
    """The run a TriggerDagRunOperator triggered: the DAG id it rendered, the run id it pushed."""
    dag_id = (ti.rendered_fields or {}).get("trigger_dag_id")
    pushed = session.scalar(
        select(XCom.value).where(
            XCom.dag_id == ti.dag_id,
            XCom.run_id == ti.run_id,
            XCom.task_id == ti.task_id,
            XCom.map_index == ti.map_index,
            XCom.key == "trigger_run_id",
        )
    )
    if not dag_id or pushed is None:
        return None
    return RunLink("Triggered DAG", dag_id, json.loads(pushed))


def _external_run(session: Session, ti: TaskInstance, run: DagRun) -> RunLink | None:
    """The other DAG of an ExternalTaskSensor or ExternalTaskMarker, at this run's logical
    date (its run there, if it has one), as Airflow's "External DAG" link."""
    dag_id = (ti.rendered_fields or {}).get("external_dag_id")
    if not dag_id or session.get(DagModel, dag_id) is None:
        return None
    return RunLink("External DAG", dag_id, _run_at(session, dag_id, run.logical_date))


def _run_at(session: Session, dag_id: str, logical_date: datetime) -> str | None:
    return session.scalar(
        select(DagRun.run_id).where(DagRun.dag_id == dag_id, DagRun.logical_date == logical_date)
    )


_BUILDERS = {"Triggered DAG": _triggered_run, "External DAG": _external_run}
