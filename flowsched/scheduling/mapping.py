"""Dynamic task mapping: turn a mapped task's placeholder row into one row per element.

A mapped task starts as one instance at map_index -1. When its trigger rule is met, its
XCom inputs exist, so the number of elements is known: the placeholder is replaced by
instances 0..n-1 (Airflow's ``expand``), or skipped when there is nothing to map over.
Inputs are read exactly as the runner reads them (a mapped upstream gives the list of its
instances' values), so the scheduler and the runner always agree on n.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from flowsched.db.states import TaskInstanceState as TI
from flowsched.db.states import transition_ti
from flowsched.db.tables import TaskInstance, XCom, utcnow
from flowsched.scheduling.runs import task_instance_values
from flowsched.serialized import SerializedDAG, SerializedTask, XComRef
from flowsched.task_logs import log_path, try_log_file

log = logging.getLogger(__name__)


class UnmappableInput(Exception):
    """An upstream XCom a task maps over is missing or is not a list."""


def expand(session: Session, dag: SerializedDAG, run_id: str, task_id: str) -> int:
    """Replace the placeholder of ``task_id``; the number of instances (0: it was skipped,
    -1: the inputs could not be mapped and the task failed)."""
    task = dag.task_dict[task_id]
    try:
        length = _length(session, dag, run_id, task)
    except UnmappableInput as exc:
        _fail_placeholder(session, dag.dag_id, run_id, task_id, str(exc))
        return -1
    placeholder = _placeholder(dag.dag_id, run_id, task_id)
    if length == 0:
        transition_ti(session, **placeholder, expected=[None], new=TI.SKIPPED, end_date=utcnow())
        return 0
    session.execute(
        delete(TaskInstance)
        .where(*_where(placeholder))
        .execution_options(synchronize_session=False)
    )
    rows = [task_instance_values(dag, run_id, task_id, index) for index in range(length)]
    session.execute(insert(TaskInstance), rows)
    return length


def _placeholder(dag_id: str, run_id: str, task_id: str) -> dict[str, Any]:
    return {"dag_id": dag_id, "run_id": run_id, "task_id": task_id, "map_index": -1}


def _where(key: dict[str, Any]) -> list[Any]:
    return [getattr(TaskInstance, column) == value for column, value in key.items()] + [
        TaskInstance.state.is_(None)
    ]


def _length(session: Session, dag: SerializedDAG, run_id: str, task: SerializedTask) -> int:
    assert task.mapped is not None
    pulled = {
        name: _pull(session, dag, run_id, task.task_id, ref)
        for name, ref in task.mapped.xcom.items()
    }
    return task.mapped.map_length(pulled)


def _pull(
    session: Session, dag: SerializedDAG, run_id: str, task_id: str, ref: XComRef
) -> list[Any]:
    rows = session.execute(
        select(XCom.map_index, XCom.value)
        .where(
            XCom.dag_id == dag.dag_id,
            XCom.run_id == run_id,
            XCom.task_id == ref.task_id,
            XCom.key == ref.key,
        )
        .order_by(XCom.map_index)
    ).all()
    upstream = dag.task_dict.get(ref.task_id)
    if upstream is not None and upstream.is_mapped:
        return [json.loads(value) for index, value in rows if index >= 0]
    value = next((json.loads(value) for index, value in rows if index == -1), None)
    if not isinstance(value, list | tuple):
        what = "pushed no value" if value is None else f"pushed a {type(value).__name__}"
        raise UnmappableInput(
            f"Task {task_id!r} maps over the XCom {ref.key!r} of {ref.task_id!r}, which "
            f"{what}; it must be a list"
        )
    return list(value)


def _fail_placeholder(
    session: Session, dag_id: str, run_id: str, task_id: str, message: str
) -> None:
    """Fail the task as its first try, with the reason in that try's log."""
    log.error("%s.%s in run %s: %s", dag_id, task_id, run_id, message)
    now = utcnow()
    key = _placeholder(dag_id, run_id, task_id)
    won = transition_ti(
        session, **key, expected=[None], new=TI.FAILED, start_date=now, end_date=now, duration=0.0
    )
    if won:
        # try_number is transition_ti's guard argument, so the try is counted separately
        session.execute(
            update(TaskInstance)
            .where(*(getattr(TaskInstance, column) == value for column, value in key.items()))
            .values(try_number=1)
            .execution_options(synchronize_session=False)
        )
        _write_reason(log_path(dag_id, run_id, task_id, -1, 1), message)


def _write_reason(path: Path, message: str) -> None:
    stamp = datetime.now(UTC).isoformat(timespec="milliseconds")
    try:
        with try_log_file(path) as sink:
            sink.write_line(f"[{stamp}] scheduler: {message}")
    except OSError as exc:
        log.warning("could not write %s: %s", path, exc)
