"""/api/v1/dags: list, get, pause/unpause, and a DAG's tasks."""

from __future__ import annotations

from flask import Response, abort, jsonify, request

from flowsched.db import session_scope
from flowsched.operations.dags import delete_dag, set_paused
from webui.api.v1.common import bool_field, bp, json_body, paging
from webui.auth import actor
from webui.queries.dag_summaries import (
    DagFilter,
    dag_as_json,
    get_dag_or_404,
    get_structure_or_404,
    list_dags,
)
from webui.queries.structure import tasks_in_order


def _paused_filter() -> str:
    value = request.args.get("paused")
    if value is None:
        return "all"
    if value not in ("true", "false"):
        abort(400, "paused must be true or false")
    return "paused" if value == "true" else "active"


@bp.get("/dags")
def list_dags_api() -> Response:
    limit, offset = paging()
    flt = DagFilter(
        search=request.args.get("dag_id_pattern", ""),
        tags=tuple(request.args.getlist("tags")),
        paused=_paused_filter(),
    )
    with session_scope(readonly=True) as session:
        page = list_dags(session, flt, limit=limit, offset=offset)
        dags = [dag_as_json(summary.dag) for summary in page.summaries]
    return jsonify({"dags": dags, "total_entries": page.total})


@bp.get("/dags/<dag_id>")
def get_dag_api(dag_id: str) -> Response:
    with session_scope(readonly=True) as session:
        return jsonify(dag_as_json(get_dag_or_404(session, dag_id)))


@bp.patch("/dags/<dag_id>")
def patch_dag_api(dag_id: str) -> Response:
    body = json_body()
    if set(body) != {"is_paused"}:
        abort(400, 'only is_paused can be changed, e.g. {"is_paused": false}')
    paused = bool_field(body, "is_paused")
    with session_scope() as session:
        set_paused(session, dag_id, paused, actor=actor())
        return jsonify(dag_as_json(get_dag_or_404(session, dag_id)))


@bp.delete("/dags/<dag_id>")
def delete_dag_api(dag_id: str) -> tuple[str, int]:
    """The DAG's rows go; its file stays, so it comes back, without history, when parsed."""
    with session_scope() as session:
        delete_dag(session, dag_id, actor=actor())
    return "", 204


@bp.get("/dags/<dag_id>/tasks")
def list_tasks_api(dag_id: str) -> Response:
    """The serialized tasks, upstream first (architecture doc: serialized DAG)."""
    with session_scope(readonly=True) as session:
        tasks = tasks_in_order(get_structure_or_404(session, dag_id))
    return jsonify({"tasks": tasks, "total_entries": len(tasks)})
