"""/api/v1/connections: list, create, change, delete. Passwords are never sent back."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, jsonify
from sqlalchemy import select

from flowsched.db import session_scope
from flowsched.db.tables import Connection
from flowsched.operations import connections as connection_ops
from webui.api.v1.common import bp, json_body
from webui.api.v1.schemas import connection_json
from webui.auth import actor


@bp.get("/connections")
def list_connections_api() -> Response:
    with session_scope(readonly=True) as session:
        rows = session.scalars(select(Connection).order_by(Connection.conn_id))
        items = [connection_json(connection) for connection in rows]
    return jsonify({"connections": items, "total_entries": len(items)})


@bp.post("/connections")
def create_connection_api() -> Response:
    """Body: ``connection_id``, ``conn_type`` and the other fields, as in Airflow."""
    body = json_body()
    conn_id = body.pop("connection_id", None)
    if not isinstance(conn_id, str):
        abort(400, "connection_id must be a string")
    with session_scope() as session:
        connection = connection_ops.create_connection(
            session, conn_id, actor=actor(), **_fields(body)
        )
        return jsonify(connection_json(connection))


@bp.patch("/connections/<conn_id>")
def update_connection_api(conn_id: str) -> Response:
    with session_scope() as session:
        connection = connection_ops.update_connection(
            session, conn_id, actor=actor(), **_fields(json_body())
        )
        return jsonify(connection_json(connection))


@bp.delete("/connections/<conn_id>")
def delete_connection_api(conn_id: str) -> tuple[str, int]:
    with session_scope() as session:
        connection_ops.delete_connection(session, conn_id, actor=actor())
    return "", 204


def _fields(body: dict[str, Any]) -> dict[str, Any]:
    """The body's fields; values other than port are strings (or null to clear)."""
    for name, value in body.items():
        if name != "port" and value is not None and not isinstance(value, str):
            abort(400, f"{name} must be a string")
    return body
