"""Connections: list, create, edit, delete. A password never goes back to the browser:
the edit form leaves it empty, and an empty field keeps the stored one."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from werkzeug.wrappers import Response

from flowsched.db import session_scope
from flowsched.db.tables import Connection
from flowsched.operations import connections as connection_ops
from flowsched.operations.errors import NotFound, OperationError
from webui.auth import actor, require_admin

bp = Blueprint("connections", __name__, url_prefix="/connections")

FIELDS = ("conn_type", "description", "host", "schema", "login", "port", "extra")


@bp.route("")
def index() -> str:
    with session_scope(readonly=True) as session:
        rows = session.scalars(select(Connection).order_by(Connection.conn_id)).all()
        return render_template("connections.html", connections=rows)


@bp.route("/new")
def new() -> str:
    require_admin()
    return render_template("connection_form.html", connection=None, form={}, error=None)


@bp.route("/<conn_id>/edit")
def edit(conn_id: str) -> str:
    require_admin()
    with session_scope(readonly=True) as session:
        connection = connection_ops.get_connection(session, conn_id)
        form = {name: getattr(connection, name) for name in FIELDS}
        return render_template("connection_form.html", connection=connection, form=form, error=None)


@bp.route("", methods=["POST"])
def create() -> ResponseReturnValue:
    conn_id = request.form.get("conn_id", "").strip()
    try:
        with session_scope() as session:
            connection_ops.create_connection(
                session, conn_id, actor=actor(), password=request.form.get("password") or None,
                **_form_values(),
            )  # fmt: skip
    except OperationError as exc:
        return _invalid(None, exc)
    flash(f"Connection {conn_id} created.", "success")
    return redirect(url_for("connections.index"))


@bp.route("/<conn_id>", methods=["POST"])
def update(conn_id: str) -> ResponseReturnValue:
    values = _form_values()
    if request.form.get("clear_password") == "on":
        values["password"] = None
    elif request.form.get("password"):
        values["password"] = request.form["password"]
    try:
        with session_scope() as session:
            connection_ops.update_connection(session, conn_id, actor=actor(), **values)
    except NotFound:
        raise
    except OperationError as exc:
        with session_scope(readonly=True) as session:
            return _invalid(connection_ops.get_connection(session, conn_id), exc)
    flash(f"Connection {conn_id} saved.", "success")
    return redirect(url_for("connections.index"))


@bp.route("/<conn_id>/delete", methods=["POST"])
def delete(conn_id: str) -> Response:
    with session_scope() as session:
        connection_ops.delete_connection(session, conn_id, actor=actor())
    flash(f"Connection {conn_id} deleted.", "success")
    return redirect(url_for("connections.index"))


def _form_values() -> dict[str, Any]:
    """The submitted fields (empty ones as None; a port that is not digits is given as
    text, so the operation refuses it with the one message for ports)."""
    values: dict[str, Any] = {name: request.form.get(name, "").strip() or None for name in FIELDS}
    values["conn_type"] = values["conn_type"] or "generic"
    if values["port"] is not None and values["port"].isdigit():
        values["port"] = int(values["port"])
    return values


def _invalid(connection: Connection | None, error: OperationError) -> tuple[str, int]:
    form = {name: request.form.get(name, "") for name in (*FIELDS, "conn_id")}
    page = render_template(
        "connection_form.html", connection=connection, form=form, error=error.message
    )
    return page, error.status
