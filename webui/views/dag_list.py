"""The home page: every DAG with its schedule, recent runs and import errors."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from flowsched.db import session_scope
from flowsched.operations.dags import set_paused
from webui.auth import actor
from webui.queries.dag_summaries import DagFilter, import_errors, list_dags
from webui.redirects import back_to
from webui.views.paging import int_arg

bp = Blueprint("dags", __name__)

PAGE_SIZE = 50


@bp.route("/")
def index() -> str:
    flt = DagFilter(
        search=request.args.get("q", "").strip(),
        tags=tuple(request.args.getlist("tag")),
        paused=request.args.get("paused", "all"),
    )
    offset = int_arg("offset", 0, high=1_000_000)
    with session_scope(readonly=True) as session:
        page = list_dags(session, flt, limit=PAGE_SIZE, offset=offset)
        return render_template(
            "dags.html",
            page=page,
            flt=flt,
            offset=offset,
            page_size=PAGE_SIZE,
            errors=import_errors(session),
        )


@bp.route("/dags/<dag_id>/pause", methods=["POST"])
def pause(dag_id: str) -> Response:
    paused = request.form.get("is_paused") == "true"
    with session_scope() as session:
        set_paused(session, dag_id, paused, actor=actor())
    flash(f"{dag_id} is {'paused' if paused else 'unpaused'}.", "info")
    return redirect(back_to(url_for("dags.index")))
