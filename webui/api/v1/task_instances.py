"""/api/v1 task instances of a run: list, get, mark, clear, and the logs of each try."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, jsonify, request

from flowsched.db import session_scope
from flowsched.scheduling.wakeup import nudge_scheduler
from flowsched.task_logs import LogPathError
from webui.actions.tasks import clear_tis, mark_tis, select_tis
from webui.api.v1.common import bool_field, bp, json_body, run_action
from webui.api.v1.schemas import ti_json
from webui.logs import tail_try
from webui.queries.dags import get_structure_or_404
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
    with session_scope() as session:
        run = get_run_or_404(session, dag_id, run_id)
        structure = get_structure_or_404(session, dag_id)
        tis = run_action(
            lambda: select_tis(
                session, run, structure, task_ids=[task_id], downstream=False, only_failed=False
            )
        )
        if "map_index" in body:
            tis = [ti for ti in tis if ti.map_index == body["map_index"]]
        if not tis:
            abort(404, f"no task instance {task_id!r} in run {run_id!r}")
        changed = run_action(lambda: mark_tis(session, run, tis, str(body.get("new_state"))))
    return jsonify({"changed": changed})


@bp.post("/dags/<dag_id>/clearTaskInstances")
def clear_api(dag_id: str) -> Response:
    """Body: ``dag_run_id``, optional ``task_ids``, ``include_downstream``, ``only_failed``,
    ``dry_run`` (list what would be cleared, change nothing)."""
    body = json_body()
    run_id = body.get("dag_run_id")
    if not isinstance(run_id, str):
        abort(400, "dag_run_id is required")
    task_ids = _task_ids(body)
    with session_scope() as session:
        run = get_run_or_404(session, dag_id, run_id)
        structure = get_structure_or_404(session, dag_id)
        tis = run_action(
            lambda: select_tis(
                session,
                run,
                structure,
                task_ids=task_ids,
                downstream=bool_field(body, "include_downstream"),
                only_failed=bool_field(body, "only_failed"),
            )
        )
        if bool_field(body, "dry_run"):
            return jsonify({"task_instances": [ti_json(ti) for ti in tis], "dry_run": True})
        result = clear_tis(session, run, structure, tis)
        answer = {
            "task_instances": [ti_json(ti) for ti in result.cleared],
            "left_running": [ti_json(ti) for ti in result.skipped_running],
            "dry_run": False,
        }
    nudge_scheduler()
    return jsonify(answer)


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
