"""/api/v1 task instances of a run: list, get, mark, clear, and the logs of each try."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, jsonify, request

from flowsched.db import session_scope
from flowsched.operations import task_instances
from flowsched.operations.markers import follow_external_task_markers
from flowsched.operations.task_instances import TaskSelection
from flowsched.task_logs import LogPathError
from webui.api.v1.common import bool_field, bp, json_body
from webui.api.v1.schemas import ti_json
from webui.auth import actor
from webui.logs import tail_try
from webui.queries.tries import get_run_or_404, get_ti_or_404, run_task_instances

RUN = "/dags/<dag_id>/dagRuns/<run_id>"


@bp.get(f"{RUN}/taskInstances")
def list_tis_api(dag_id: str, run_id: str) -> Response:
    with session_scope(readonly=True) as session:
        get_run_or_404(session, dag_id, run_id)
        tis = [ti_json(ti) for ti in run_task_instances(session, dag_id, run_id)]
    return jsonify({"task_instances": tis, "total_entries": len(tis)})


@bp.get(f"{RUN}/taskInstances/<task_id>")
@bp.get(f"{RUN}/taskInstances/<task_id>/<int:map_index>")
def get_ti_api(dag_id: str, run_id: str, task_id: str, map_index: int = -1) -> Response:
    with session_scope(readonly=True) as session:
        return jsonify(ti_json(get_ti_or_404(session, dag_id, run_id, task_id, map_index)))


@bp.patch(f"{RUN}/taskInstances/<task_id>")
def mark_ti_api(dag_id: str, run_id: str, task_id: str) -> Response:
    """Body ``{"new_state": "success" | "failed", "map_index": n}`` (all indexes if absent)."""
    body = json_body()
    map_index = body.get("map_index")
    if map_index is not None and (type(map_index) is not int):
        abort(400, "map_index must be an integer")
    with session_scope() as session:
        changed = task_instances.mark_task_instances(
            session, dag_id, run_id, task_id, str(body.get("new_state")), actor=actor(),
            map_indexes=None if map_index is None else [map_index],
        )  # fmt: skip
    return jsonify({"changed": changed})


@bp.post("/dags/<dag_id>/clearTaskInstances")
def clear_api(dag_id: str) -> Response:
    """Body: ``dag_run_id``, optional ``task_ids``, ``include_downstream``,
    ``include_upstream``, ``only_failed``, ``dry_run`` (list what would be cleared, change
    nothing)."""
    body = json_body()
    run_id = body.get("dag_run_id")
    if not isinstance(run_id, str):
        abort(400, "dag_run_id is required")
    selection = TaskSelection(
        dag_id,
        [run_id],
        _task_ids(body),
        downstream=bool_field(body, "include_downstream"),
        upstream=bool_field(body, "include_upstream"),
    )
    dry_run = bool_field(body, "dry_run")
    with session_scope() as session:
        result = task_instances.clear_task_instances(
            session, [selection], actor=actor(), only_failed=bool_field(body, "only_failed"),
            dry_run=dry_run, follow=follow_external_task_markers(),
        )  # fmt: skip
        if dry_run:
            return jsonify(
                {"task_instances": [ti_json(ti) for ti in result.selected], "dry_run": True}
            )
        return jsonify(
            {
                "task_instances": [ti_json(ti) for ti in result.cleared],
                "left_running": [ti_json(ti) for ti in result.left_running],
                "dry_run": False,
            }
        )


def _task_ids(body: dict[str, Any]) -> list[str] | None:
    task_ids = body.get("task_ids")
    if task_ids is None:
        return None
    if not isinstance(task_ids, list) or not all(isinstance(t, str) for t in task_ids):
        abort(400, "task_ids must be a list of task ids")
    return task_ids


@bp.get(f"{RUN}/taskInstances/<task_id>/logs/<int:try_number>")
def log_api(dag_id: str, run_id: str, task_id: str, try_number: int) -> Response:
    """From byte ``offset`` (default 0). ``exists`` is false until the try writes its log;
    ``done`` once the try is over and everything was read."""
    map_index = request.args.get("map_index", -1, type=int)
    offset = max(request.args.get("offset", 0, type=int), 0)
    with session_scope(readonly=True) as session:
        ti = get_ti_or_404(session, dag_id, run_id, task_id, map_index)
        if not 1 <= try_number <= max(ti.try_number, 1):
            abort(404, f"try {try_number} has not happened (tries so far: {ti.try_number})")
        try:
            tail = tail_try(ti, try_number, offset)
        except LogPathError:
            abort(404, "no such log")
    return jsonify(
        {
            "content": tail.chunk.text,
            "offset": tail.chunk.next_offset,
            "exists": tail.chunk.exists,
            "done": tail.done,
        }
    )
