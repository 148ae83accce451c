"""The input rules every operation applies, written once: run ids, conf, which DAGs.

The CLI, the web forms, the REST API and operators that trigger other DAGs all pass
through these, so an input refused by one is refused by all, with the same message.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from flowsched import json_text
from flowsched.config import conf
from flowsched.db.tables import DagModel, DagRun, SerializedDagModel
from flowsched.exceptions import ParamValidationError
from flowsched.operations.errors import Conflict, Invalid, NotFound
from flowsched.serialized import SerializedDAG

# Letters, digits and _ . : + - (what Airflow's own run ids use: manual__2025-01-01T00:00:00+00:00),
# no "/" or "\\": a run id names a folder of task logs, so it must not climb out of it.
RUN_ID_PATTERN = re.compile(r"[A-Za-z0-9_.:+-]{1,250}")


def check_run_id(run_id: str) -> str:
    """The run id, if it is one a log folder can safely be named after."""
    if not RUN_ID_PATTERN.fullmatch(run_id) or ".." in run_id:
        raise Invalid(
            f"run id {run_id[:80]!r} is not allowed: use 1 to 250 letters, digits and "
            "_ . : + - (no '/' and no '..')"
        )
    return run_id


def max_conf_bytes() -> int:
    return conf.core.max_conf_bytes


def check_conf(dag: SerializedDAG, run_conf: Any) -> dict[str, Any]:
    """A run's conf: a JSON object within ``[core] max_conf_bytes`` that fits the params."""
    if not isinstance(run_conf, dict):
        raise Invalid(f'conf must be a JSON object, e.g. {{"x": 1}}, not {_kind(run_conf)}')
    try:
        size = len(json.dumps(run_conf, separators=(",", ":")).encode())
    except (TypeError, ValueError) as exc:
        raise Invalid(f"conf is not JSON: {exc}") from None
    limit = max_conf_bytes()
    if size > limit:
        raise Invalid(
            f"conf is {size} bytes, over the limit of {limit} bytes ([core] max_conf_bytes)"
        )
    try:
        dag.resolve_params(run_conf)
    except ParamValidationError as exc:
        raise Invalid(f"conf does not fit the params of DAG {dag.dag_id!r}: {exc}") from None
    return run_conf


def _kind(value: object) -> str:
    return {list: "a list", str: "a string", type(None): "null"}.get(type(value), "a scalar")


def get_dag(session: Session, dag_id: str) -> DagModel:
    dag = session.get(DagModel, dag_id)
    if dag is None:
        raise NotFound(f"no DAG named {dag_id!r}")
    return dag


def get_active_dag(session: Session, dag_id: str) -> DagModel:
    """A DAG whose file is still there: runs are created only for those (as the UI did)."""
    dag = get_dag(session, dag_id)
    if not dag.is_active:
        raise Conflict(f"DAG {dag_id!r} is inactive (its file is gone); no run can be created")
    return dag


def get_structure(session: Session, dag_id: str) -> SerializedDAG:
    """The DAG as last parsed (tasks, edges, params, schedule); never user code."""
    get_dag(session, dag_id)
    data = session.scalar(
        select(SerializedDagModel.data).where(SerializedDagModel.dag_id == dag_id)
    )
    if data is None:
        raise NotFound(f"DAG {dag_id!r} has not been parsed yet (see its import errors)")
    return SerializedDAG.from_dict(data)


def get_run(session: Session, dag_id: str, run_id: str) -> DagRun:
    run = session.scalar(select(DagRun).where(DagRun.dag_id == dag_id, DagRun.run_id == run_id))
    if run is None:
        raise NotFound(f"DAG {dag_id!r} has no run {run_id!r}")
    return run


def json_object(text: str, what: str) -> Mapping[str, Any]:
    """``text`` parsed as a JSON object (form fields and CLI options hold JSON as text)."""
    try:
        value = json_text.loads(text)
    except json.JSONDecodeError as exc:
        raise Invalid(f"{what} is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise Invalid(f'{what} must be a JSON object, e.g. {{"x": 1}}, not {_kind(value)}')
    return value
