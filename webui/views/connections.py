"""Connections: list, create, edit, delete. A password never goes back to the browser:
the edit form leaves it empty, and an empty field keeps the stored one."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response

from flowsched.db import session_scope
from flowsched.db.tables import Connection
from webui import audit
from webui.auth import require_admin

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
        connection = _get_or_404(session, conn_id)
        form = {name: getattr(connection, name) for name in FIELDS}
        return render_template("connection_form.html", connection=connection, form=form, error=None)


@bp.route("", methods=["POST"])
def create() -> Any:
    conn_id = request.form.get("conn_id", "").strip()
    try:
        values = _form_values()
    except ValueError as exc:
        return _invalid(None, str(exc))
    if not conn_id:
        return _invalid(None, "The connection id cannot be empty.")
    with session_scope() as session:
        if session.get(Connection, conn_id) is not None:
            return _invalid(None, f"A connection {conn_id!r} already exists.")
        password = request.form.get("password") or None
        session.add(Connection(conn_id=conn_id, password=password, **values))
        audit.record(session, "connection_create", extra={"conn_id": conn_id})
    flash(f"Connection {conn_id} created.", "success")
    return redirect(url_for("connections.index"))


@bp.route("/<conn_id>", methods=["POST"])
def update(conn_id: str) -> Any:
    with session_scope() as session:
        connection = _get_or_404(session, conn_id)
        try:
            values = _form_values()
        except ValueError as exc:
            return _invalid(connection, str(exc))
        for name, value in values.items():
            setattr(connection, name, value)
        if request.form.get("clear_password") == "on":
            connection.password = None
        elif request.form.get("password"):
            connection.password = request.form["password"]
        audit.record(session, "connection_update", extra={"conn_id": conn_id})
    flash(f"Connection {conn_id} saved.", "success")
    return redirect(url_for("connections.index"))


@bp.route("/<conn_id>/delete", methods=["POST"])
def delete(conn_id: str) -> Response:
    with session_scope() as session:
        session.delete(_get_or_404(session, conn_id))
        audit.record(session, "connection_delete", extra={"conn_id": conn_id})
    flash(f"Connection {conn_id} deleted.", "success")
    return redirect(url_for("connections.index"))


def _form_values() -> dict[str, Any]:
    """The submitted fields; raises ValueError with a message people can act on."""
    values: dict[str, Any] = {name: request.form.get(name, "").strip() or None for name in FIELDS}
    values["conn_type"] = values["conn_type"] or "generic"
    if values["port"] is not None:
        if not values["port"].isdigit() or not 0 < int(values["port"]) < 65536:
            raise ValueError("The port must be a number from 1 to 65535.")
        values["port"] = int(values["port"])
    if values["extra"] is not None:
        try:
            if not isinstance(json.loads(values["extra"]), dict):
                raise ValueError
        except ValueError:
            raise ValueError('Extra must be a JSON object, e.g. {"timeout": 10}.') from None
    return values


def _invalid(connection: Connection | None, error: str) -> tuple[str, int]:
    form = {name: request.form.get(name, "") for name in (*FIELDS, "conn_id")}
    page = render_template("connection_form.html", connection=connection, form=form, error=error)
    return page, 400


def _get_or_404(session: Any, conn_id: str) -> Connection:
    connection = session.get(Connection, conn_id)
    if connection is None:
        abort(404, f"no connection {conn_id!r}")
    return connection
