"""/api/v1/dags/<dag_id>/dagRuns: list, trigger, get, mark, delete."""

from __future__ import annotations

from datetime import datetime

from flask import Response, abort, jsonify, request
from sqlalchemy import func, select

from flowsched.db import session_scope
from flowsched.db.tables import DagRun
from flowsched.operations import runs
from webui.api.v1.common import bp, json_body, paging
from webui.api.v1.schemas import run_json
from webui.auth import actor
from webui.queries.dag_summaries import get_dag_or_404
from webui.queries.tries import get_run_or_404


@bp.get("/dags/<dag_id>/dagRuns")
def list_runs_api(dag_id: str) -> Response:
    """Newest first; ``state`` may repeat to ask for several states."""
    limit, offset = paging()
    conditions = [DagRun.dag_id == dag_id]
    states = request.args.getlist("state")
    if states:
        conditions.append(DagRun.state.in_(states))
    with session_scope(readonly=True) as session:
        get_dag_or_404(session, dag_id)
        total = session.scalar(select(func.count()).select_from(DagRun).where(*conditions))
        runs = session.scalars(
            select(DagRun)
            .where(*conditions)
            .order_by(DagRun.logical_date.desc())
            .limit(limit)
            .offset(offset)
        )
        return jsonify({"dag_runs": [run_json(r) for r in runs], "total_entries": total})


@bp.post("/dags/<dag_id>/dagRuns")
def trigger_api(dag_id: str) -> Response:
    """Body: ``conf`` (object), optional ``logical_date`` (ISO-8601), ``dag_run_id``, ``note``."""
    body = json_body()
    logical_date = _parse_date(body.get("logical_date"))
    with session_scope() as session:
        run = runs.trigger_run(
            session,
            dag_id,
            actor=actor(),
            conf=body.get("conf", {}),
            logical_date=logical_date,
            run_id=_optional_string(body, "dag_run_id"),
            note=_optional_string(body, "note"),
        )
        return jsonify(run_json(run))


def _optional_string(body: dict[str, object], name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        abort(400, f"{name} must be a string")
    return value


def _parse_date(value: object) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        abort(400, f"logical_date {value!r} is not ISO-8601")


@bp.get("/dags/<dag_id>/dagRuns/<run_id>")
def get_run_api(dag_id: str, run_id: str) -> Response:
    with session_scope(readonly=True) as session:
        return jsonify(run_json(get_run_or_404(session, dag_id, run_id)))


@bp.patch("/dags/<dag_id>/dagRuns/<run_id>")
def mark_run_api(dag_id: str, run_id: str) -> Response:
    """Body ``{"state": "success" | "failed"}``: mark the run and its unfinished tasks."""
    state = json_body().get("state")
    with session_scope() as session:
        runs.mark_run(session, dag_id, run_id, str(state), actor=actor())
    with session_scope(readonly=True) as session:
        return jsonify(run_json(get_run_or_404(session, dag_id, run_id)))


@bp.delete("/dags/<dag_id>/dagRuns/<run_id>")
def delete_run_api(dag_id: str, run_id: str) -> tuple[str, int]:
    with session_scope() as session:
        runs.delete_run(session, dag_id, run_id, actor=actor())
    return "", 204
