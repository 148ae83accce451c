"""Forms that change a DAG's runs: trigger, clear (with a preview), mark, delete.

Each parses the form and calls ``flowsched.operations``; an operation's refusal becomes an
error page with its status (the app's handler), or the trigger form again with the message.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.wrappers import Response

from flowsched import json_text
from flowsched.db import session_scope
from flowsched.operations import dags, runs, task_instances
from flowsched.operations.errors import Invalid, NotFound, OperationError
from flowsched.operations.markers import follow_external_task_markers
from flowsched.operations.task_instances import TaskSelection
from webui.auth import actor
from webui.queries.dag_summaries import get_dag_or_404, get_structure_or_404
from webui.queries.tries import get_run_or_404
from webui.redirects import back_to

bp = Blueprint("dag_actions", __name__, url_prefix="/dags/<dag_id>")


def default_conf(structure: dict[str, Any]) -> str:
    """The trigger form starts from the params' defaults, as Airflow's does."""
    params = structure.get("params") or {}
    return json.dumps({name: p.get("default") for name, p in params.items()}, indent=2)


def _trigger_page(dag_id: str, conf_text: str, error: OperationError | None) -> ResponseReturnValue:
    with session_scope(readonly=True) as session:
        page = render_template(
            "dag/trigger.html",
            dag=get_dag_or_404(session, dag_id),
            structure=get_structure_or_404(session, dag_id),
            conf_text=conf_text,
            logical_date=request.form.get("logical_date", ""),
            run_id=request.form.get("run_id", ""),
            error=error.message if error else None,
        )
    return page, error.status if error else 200


@bp.route("/trigger", methods=["GET", "POST"])
def trigger(dag_id: str) -> ResponseReturnValue:
    if request.method == "GET":
        with session_scope(readonly=True) as session:
            conf_text = default_conf(get_structure_or_404(session, dag_id))
        return _trigger_page(dag_id, conf_text, None)
    conf_text = request.form.get("conf", "").strip() or "{}"
    try:
        with session_scope() as session:
            run_id = runs.trigger_run(
                session,
                dag_id,
                actor=actor(),
                conf=_parse_conf(conf_text),
                logical_date=_parse_date(request.form.get("logical_date", "")),
                run_id=request.form.get("run_id", "").strip() or None,
            ).run_id
    except NotFound:
        raise
    except OperationError as exc:
        return _trigger_page(dag_id, conf_text, exc)
    flash(f"Triggered {dag_id}: run {run_id}.", "success")
    return redirect(url_for("dag.grid", dag_id=dag_id))


def _parse_conf(text: str) -> Any:
    try:
        return json_text.loads(text)
    except json.JSONDecodeError as exc:
        raise Invalid(f"conf is not valid JSON: {exc}") from None


def _parse_date(text: str) -> datetime | None:
    if not text.strip():
        return None
    try:
        return datetime.fromisoformat(text.strip())
    except ValueError:
        raise Invalid(f"{text!r} is not an ISO-8601 date and time") from None


@bp.route("/runs/<run_id>/clear", methods=["POST"])
def clear(dag_id: str, run_id: str) -> ResponseReturnValue:
    """First POST shows what would be cleared; the confirmed POST clears it."""
    task_id = request.form.get("task_id") or None
    flags = {name: request.form.get(name) == "on" for name in ("downstream", "upstream")}
    only_failed = request.form.get("only_failed") == "on"
    selection = TaskSelection(
        dag_id,
        [run_id],
        [task_id] if task_id else None,
        downstream=flags["downstream"],
        upstream=flags["upstream"],
    )
    confirmed = request.form.get("confirmed") == "yes"
    with session_scope() as session:
        result = task_instances.clear_task_instances(
            session,
            [selection],
            actor=actor(),
            only_failed=only_failed,
            dry_run=not confirmed,
            follow=follow_external_task_markers(),
        )
        if not confirmed:
            return render_template(
                "dag/clear_confirm.html",
                dag=get_dag_or_404(session, dag_id),
                run=get_run_or_404(session, dag_id, run_id),
                tis=result.selected,
                task_id=task_id,
                only_failed=only_failed,
                next_url=request.form.get("next", ""),
                **flags,
            )
    message = f"Cleared {len(result.cleared)} task instance(s)."
    if result.left_running:
        message += f" {len(result.left_running)} queued or running left alone."
    flash(message, "success")
    return redirect(back_to(url_for("dag.grid", dag_id=dag_id)))


@bp.route("/runs/<run_id>/mark", methods=["POST"])
def mark(dag_id: str, run_id: str) -> Response:
    """Mark the whole run, or one task (every map index, or the one given)."""
    state = request.form.get("state", "")
    task_id = request.form.get("task_id") or None
    map_index = request.form.get("map_index", "")
    with session_scope() as session:
        if task_id is None:
            changed = runs.mark_run(session, dag_id, run_id, state, actor=actor())
        else:
            changed = task_instances.mark_task_instances(
                session, dag_id, run_id, task_id, state, actor=actor(),
                map_indexes=[int(map_index)] if map_index.lstrip("-").isdigit() else None,
            )  # fmt: skip
    flash(f"Marked {task_id or 'run ' + run_id} {state} ({changed} task instance(s)).", "success")
    return redirect(back_to(url_for("dag.grid", dag_id=dag_id)))


@bp.route("/delete", methods=["POST"])
def delete_dag(dag_id: str) -> Response:
    with session_scope() as session:
        count = dags.delete_dag(session, dag_id, actor=actor())
    flash(f"Deleted DAG {dag_id} and {count} run(s).", "success")
    return redirect(url_for("dags.index"))


@bp.route("/runs/<run_id>/delete", methods=["POST"])
def delete(dag_id: str, run_id: str) -> Response:
    with session_scope() as session:
        runs.delete_run(session, dag_id, run_id, actor=actor())
    flash(f"Deleted run {run_id}.", "success")
    return redirect(url_for("dag.runs", dag_id=dag_id))
