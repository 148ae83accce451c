"""Connections: where external systems are and how to log in to them."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from flowsched.db.tables import Connection
from flowsched.operations import audit
from flowsched.operations.errors import Conflict, Invalid, NotFound
from flowsched.operations.rules import json_object

FIELDS = ("conn_type", "description", "host", "schema", "login", "password", "port", "extra")
ID_LENGTH = 250


def get_connection(session: Session, conn_id: str) -> Connection:
    connection = session.get(Connection, conn_id)
    if connection is None:
        raise NotFound(f"no connection named {conn_id!r}")
    return connection


def create_connection(session: Session, conn_id: str, *, actor: str, **fields: Any) -> Connection:
    """A new connection (``conn_type`` required); an id that exists is refused."""
    if not 0 < len(conn_id.strip()) <= ID_LENGTH:
        raise Invalid(f"a connection id has 1 to {ID_LENGTH} characters")
    if session.get(Connection, conn_id) is not None:
        raise Conflict(f"connection {conn_id!r} already exists")
    if not fields.get("conn_type"):
        raise Invalid("a connection needs a type, e.g. postgres, http, aws")
    connection = Connection(conn_id=conn_id, **_checked(fields))
    session.add(connection)
    audit.record(session, actor, "connection_create", extra={"conn_id": conn_id})
    return connection


def update_connection(session: Session, conn_id: str, *, actor: str, **fields: Any) -> Connection:
    """Change the fields given (None clears one); the others keep their values."""
    connection = get_connection(session, conn_id)
    for name, value in _checked(fields).items():
        setattr(connection, name, value)
    audit.record(session, actor, "connection_update", extra={"conn_id": conn_id})
    return connection


def delete_connection(session: Session, conn_id: str, *, actor: str) -> None:
    session.delete(get_connection(session, conn_id))
    audit.record(session, actor, "connection_delete", extra={"conn_id": conn_id})


def _checked(fields: dict[str, Any]) -> dict[str, Any]:
    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise Invalid(f"a connection has no field {', '.join(sorted(unknown))}")
    port = fields.get("port")
    if port is not None and (
        isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536
    ):
        raise Invalid("the port must be a number from 1 to 65535")
    extra = fields.get("extra")
    if extra is not None:
        json_object(extra, "extra")
    return fields
