"""Forms that change a DAG's runs: trigger, clear (with a preview), mark, delete."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from flowsched.db import session_scope
from flowsched.db.tables import DagModel, DagRun
from flowsched.scheduling.wakeup import nudge_scheduler
from webui.actions import ActionError
from webui.actions.runs import delete_run, mark_run, trigger_run
from webui.actions.tasks import clear_tis, mark_tis, select_tis
from webui.queries.dags import get_dag_or_404, get_structure_or_404
from webui.queries.tries import get_run_or_404
from webui.redirects import back_to

bp = Blueprint("dag_actions", __name__, url_prefix="/dags/<dag_id>")


def default_conf(structure: dict[str, Any]) -> str:
    """The trigger form starts from the params' defaults, as Airflow's does."""
    params = structure.get("params") or {}
    return json.dumps({name: p.get("default") for name, p in params.items()}, indent=2)


def _trigger_page(dag: DagModel, structure: dict[str, Any], conf_text: str, error: str | None):
    page = render_template(
        "dag/trigger.html",
        dag=dag,
        structure=structure,
        conf_text=conf_text,
        logical_date=request.form.get("logical_date", ""),
        error=error,
    )
    return page, 400 if error else 200


@bp.route("/trigger", methods=["GET", "POST"])
def trigger(dag_id: str) -> Any:
    with session_scope() as session:
        dag = get_dag_or_404(session, dag_id)
        structure = get_structure_or_404(session, dag_id)
        if request.method == "GET":
            return _trigger_page(dag, structure, default_conf(structure), None)
        conf_text = request.form.get("conf", "").strip() or "{}"
        try:
            run = trigger_run(
                session,
                dag,
                structure,
                conf=_parse_conf(conf_text),
                logical_date=_parse_date(request.form.get("logical_date", "")),
            )
        except ActionError as exc:
            session.rollback()
            return _trigger_page(dag, structure, conf_text, str(exc))
        run_id = run.run_id
    nudge_scheduler()
    flash(f"Triggered {dag_id}: run {run_id}.", "success")
    return redirect(url_for("dag.grid", dag_id=dag_id))


def _parse_conf(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ActionError(f"conf is not valid JSON: {exc}") from None


def _parse_date(text: str) -> datetime | None:
    if not text.strip():
        return None
    try:
        return datetime.fromisoformat(text.strip())
    except ValueError:
        raise ActionError(f"{text!r} is not an ISO-8601 date and time") from None


@bp.route("/runs/<run_id>/clear", methods=["POST"])
def clear(dag_id: str, run_id: str) -> Any:
    """First POST shows what would be cleared; the confirmed POST clears it."""
    task_id = request.form.get("task_id") or None
    downstream = request.form.get("downstream") == "on"
    only_failed = request.form.get("only_failed") == "on"
    with session_scope() as session:
        run = get_run_or_404(session, dag_id, run_id)
        structure = get_structure_or_404(session, dag_id)
        tis = _or_abort(
            lambda: select_tis(
                session,
                run,
                structure,
                task_ids=[task_id] if task_id else None,
                downstream=downstream,
                only_failed=only_failed,
            )
        )
        if request.form.get("confirmed") != "yes":
            return render_template(
                "dag/clear_confirm.html",
                dag=get_dag_or_404(session, dag_id),
                run=run,
                tis=tis,
                task_id=task_id,
                downstream=downstream,
                only_failed=only_failed,
                next_url=request.form.get("next", ""),
            )
        result = clear_tis(session, run, structure, tis)
    nudge_scheduler()
    message = f"Cleared {len(result.cleared)} task instance(s)."
    if result.skipped_running:
        message += f" {len(result.skipped_running)} queued or running left alone."
    flash(message, "success")
    return redirect(back_to(url_for("dag.grid", dag_id=dag_id)))


@bp.route("/runs/<run_id>/mark", methods=["POST"])
def mark(dag_id: str, run_id: str) -> Response:
    """Mark the whole run, or one task (every map index, or the one given)."""
    state = request.form.get("state", "")
    task_id = request.form.get("task_id") or None
    with session_scope() as session:
        run = get_run_or_404(session, dag_id, run_id)
        if task_id is None:
            changed = _or_abort(lambda: mark_run(session, run, state))
        else:
            changed = _or_abort(lambda: _mark_task(session, run, task_id, state))
    flash(f"Marked {task_id or 'run ' + run_id} {state} ({changed} task instance(s)).", "success")
    return redirect(back_to(url_for("dag.grid", dag_id=dag_id)))


def _mark_task(session: Any, run: DagRun, task_id: str, state: str) -> int:
    structure = get_structure_or_404(session, run.dag_id)
    tis = select_tis(
        session, run, structure, task_ids=[task_id], downstream=False, only_failed=False
    )
    map_index = request.form.get("map_index")
    if map_index not in (None, ""):
        tis = [ti for ti in tis if str(ti.map_index) == map_index]
    return mark_tis(session, run, tis, state)


@bp.route("/runs/<run_id>/delete", methods=["POST"])
def delete(dag_id: str, run_id: str) -> Response:
    with session_scope() as session:
        delete_run(session, get_run_or_404(session, dag_id, run_id))
    flash(f"Deleted run {run_id}.", "success")
    return redirect(url_for("dag.runs", dag_id=dag_id))


def _or_abort(action: Any) -> Any:
    """Run an action; its ActionError becomes an error page with the same message."""
    try:
        return action()
    except ActionError as exc:
        abort(exc.status, str(exc))
