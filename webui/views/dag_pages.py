"""One DAG's pages: grid (with its live JSON), graph, runs, Gantt, code and details."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, redirect, render_template, request, url_for
from markupsafe import Markup
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import PythonLexer
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from flowsched.config import conf
from flowsched.db import session_scope
from flowsched.db.tables import DagFile, DagRun, utcnow
from flowsched.timetables.describe import describe_schedule
from webui.gantt import build_gantt
from webui.layout import layout_dag
from webui.queries.dag_summaries import (
    dag_notices,
    get_dag_or_404,
    get_structure_or_404,
    sla_misses,
)
from webui.queries.grid import Grid, grid_as_json, load_grid, run_cells
from webui.queries.tries import get_run_or_404, run_task_instances
from webui.views.paging import int_arg

bp = Blueprint("dag", __name__, url_prefix="/dags/<dag_id>")

RUNS_PAGE_SIZE = 50


def _grid(session: Session, dag_id: str, structure: dict[str, Any]) -> Grid:
    limit = int_arg("limit", conf.webserver.grid_runs, low=1, high=365)
    offset = int_arg("offset", 0, high=1_000_000)
    return load_grid(session, dag_id, structure, limit=limit, offset=offset)


@bp.route("")
def home(dag_id: str) -> Response:
    return redirect(url_for("dag.grid", dag_id=dag_id))


@bp.route("/grid")
def grid(dag_id: str) -> str:
    with session_scope(readonly=True) as session:
        dag = get_dag_or_404(session, dag_id)
        structure = get_structure_or_404(session, dag_id)
        return render_template(
            "dag/grid.html",
            dag=dag,
            structure=structure,
            notices=dag_notices(session, dag, structure),
            grid=_grid(session, dag_id, structure),
        )


@bp.route("/grid.json")
def grid_json(dag_id: str) -> Response:
    with session_scope(readonly=True) as session:
        get_dag_or_404(session, dag_id)
        structure = get_structure_or_404(session, dag_id)
        return jsonify(grid_as_json(_grid(session, dag_id, structure)))


@bp.route("/grid/table")
def grid_table(dag_id: str) -> str:
    """The grid's table alone: the poller swaps it in when a new run appears."""
    with session_scope(readonly=True) as session:
        dag = get_dag_or_404(session, dag_id)
        structure = get_structure_or_404(session, dag_id)
        return render_template(
            "dag/_grid_table.html", dag=dag, grid=_grid(session, dag_id, structure)
        )


@bp.route("/graph")
def graph(dag_id: str) -> str:
    with session_scope(readonly=True) as session:
        dag = get_dag_or_404(session, dag_id)
        structure = get_structure_or_404(session, dag_id)
        runs = _recent_runs(session, dag_id, 25)
        chosen = _chosen_run(session, dag_id, runs)
        cells = run_cells(session, dag_id, chosen.run_id) if chosen else {}
        return render_template(
            "dag/graph.html",
            dag=dag,
            structure=structure,
            notices=dag_notices(session, dag, structure),
            layout=layout_dag(structure),
            display_names=_display_names(structure),
            runs=runs,
            chosen=chosen,
            cells=cells,
        )


def _display_names(structure: dict[str, Any]) -> dict[str, str]:
    """task_id -> task_display_name, for the tasks whose display name is not their id."""
    return {
        task["task_id"]: task["task_display_name"]
        for task in structure["tasks"]
        if task.get("task_display_name") not in (None, task["task_id"])
    }


def _recent_runs(session: Session, dag_id: str, limit: int) -> list[DagRun]:
    return list(
        session.scalars(
            select(DagRun)
            .where(DagRun.dag_id == dag_id)
            .order_by(DagRun.logical_date.desc())
            .limit(limit)
        )
    )


def _chosen_run(session: Session, dag_id: str, recent: list[DagRun]) -> DagRun | None:
    run_id = request.args.get("run_id")
    if run_id:
        return get_run_or_404(session, dag_id, run_id)
    return recent[0] if recent else None


@bp.route("/runs")
def runs(dag_id: str) -> str:
    offset = int_arg("offset", 0, high=10_000_000)
    with session_scope(readonly=True) as session:
        dag = get_dag_or_404(session, dag_id)
        total = session.scalar(select(func.count()).where(DagRun.dag_id == dag_id)) or 0
        page = session.scalars(
            select(DagRun)
            .where(DagRun.dag_id == dag_id)
            .order_by(DagRun.logical_date.desc())
            .limit(RUNS_PAGE_SIZE)
            .offset(offset)
        ).all()
        return render_template(
            "dag/runs.html",
            dag=dag,
            runs=page,
            total=total,
            offset=offset,
            page_size=RUNS_PAGE_SIZE,
        )


@bp.route("/runs/<run_id>/gantt")
def gantt(dag_id: str, run_id: str) -> str:
    with session_scope(readonly=True) as session:
        dag = get_dag_or_404(session, dag_id)
        run = get_run_or_404(session, dag_id, run_id)
        chart = build_gantt(run_task_instances(session, dag_id, run_id), utcnow())
        return render_template("dag/gantt.html", dag=dag, run=run, chart=chart)


@bp.route("/code")
def code(dag_id: str) -> str:
    with session_scope(readonly=True) as session:
        dag = get_dag_or_404(session, dag_id)
        source = session.scalar(select(DagFile.source_code).where(DagFile.fileloc == dag.fileloc))
        return render_template("dag/code.html", dag=dag, code_html=_highlighted(source))


def _highlighted(source: str | None) -> Markup | None:
    """Pygments escapes the source as it highlights it, so its HTML is safe to embed."""
    if source is None:
        return None
    return Markup(highlight(source, PythonLexer(), HtmlFormatter(linenos="table")))


@bp.route("/details")
def details(dag_id: str) -> str:
    with session_scope(readonly=True) as session:
        dag = get_dag_or_404(session, dag_id)
        structure = get_structure_or_404(session, dag_id)
        return render_template(
            "dag/details.html",
            dag=dag,
            structure=structure,
            notices=dag_notices(session, dag, structure),
            schedule_words=describe_schedule(structure["schedule"]),
        )


@bp.route("/sla-misses")
def sla_miss_list(dag_id: str) -> str:
    with session_scope(readonly=True) as session:
        dag = get_dag_or_404(session, dag_id)
        return render_template("dag/sla_misses.html", dag=dag, misses=sla_misses(session, dag_id))
