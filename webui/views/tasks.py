"""The task-try page: tries, log (tailed live through the API), rendered fields, XComs."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from sqlalchemy.orm import Session

from flowsched.db import session_scope
from flowsched.db.tables import TaskInstance
from webui.queries.dag_summaries import get_dag_or_404, get_structure_or_404
from webui.queries.links import extra_links
from webui.queries.structure import find_task
from webui.queries.tries import (
    TryRow,
    first_map_index,
    get_run_or_404,
    get_ti_or_404,
    map_indexes,
    tries_of,
    xcoms_of,
)
from webui.views.paging import int_arg

bp = Blueprint("tasks", __name__, url_prefix="/dags/<dag_id>/runs/<run_id>/tasks/<task_id>")


def _ti(session: Session, dag_id: str, run_id: str, task_id: str) -> TaskInstance:
    """The instance named by the URL; a mapped task's page opens on its first index."""
    if "map_index" in request.args:
        map_index = int_arg("map_index", -1, low=-1)
    else:
        map_index = first_map_index(session, dag_id, run_id, task_id)
    return get_ti_or_404(session, dag_id, run_id, task_id, map_index)


def _chosen_try(tries: list[TryRow]) -> TryRow | None:
    wanted = request.args.get("try", type=int)
    for row in tries:
        if row.try_number == wanted:
            return row
    return tries[-1] if tries else None


@bp.route("")
def task_try(dag_id: str, run_id: str, task_id: str) -> str:
    with session_scope(readonly=True) as session:
        dag = get_dag_or_404(session, dag_id)
        run = get_run_or_404(session, dag_id, run_id)
        ti = _ti(session, dag_id, run_id, task_id)
        tries = tries_of(session, ti)
        chosen = _chosen_try(tries)
        task = find_task(get_structure_or_404(session, dag_id), task_id) or {}
        return render_template(
            "task.html",
            dag=dag,
            run=run,
            ti=ti,
            task=task,
            links=extra_links(session, ti, run, task),
            tries=tries,
            chosen=chosen,
            map_indexes=map_indexes(session, ti),
            xcoms=xcoms_of(session, ti),
        )
