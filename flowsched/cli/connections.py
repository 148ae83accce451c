"""``flowsched connections``: where external systems are and how to log in to them.

Passwords are never printed unless asked for with ``get --show-password``; values under
sensitive keys of ``extra`` (password, token, api_key ...) are masked the same way, since
people paste these listings into tickets and chats.
"""

from __future__ import annotations

import json
from typing import Any

import click
from sqlalchemy import select

from flowsched.cli.errors import fail
from flowsched.cli.lookups import operate
from flowsched.cli.output import output_option, render
from flowsched.db import require_current_schema, session_scope
from flowsched.db.connection import ENV_PREFIX, ConnectionNotFound
from flowsched.db.tables import Connection
from flowsched.masking import MASK, is_sensitive
from flowsched.operations import connections as connection_ops

# --conn-* option -> Connection column
COLUMNS = {
    "conn_type": "conn_type",
    "conn_host": "host",
    "conn_port": "port",
    "conn_schema": "schema",
    "conn_login": "login",
    "conn_password": "password",
    "conn_extra": "extra",
}
URI_FIELDS = ["conn_type", "host", "port", "schema", "login", "password", "extra"]
FIELDS = ["conn_id", "conn_type", "host", "port", "schema", "login", "password", "extra"]


@click.group()
def connections() -> None:
    """Add, get, list and delete connections."""


def _no_such_connection(conn_id: str) -> str:
    return f"no connection named {conn_id!r} (run `flowsched connections list`)"


@connections.command("add")
@click.argument("conn_id")
@click.option("--conn-uri", help="All in one: type://login:password@host:port/schema?key=value")
@click.option("--conn-type", help="e.g. postgres, http, aws (when not giving --conn-uri).")
@click.option("--conn-host")
@click.option("--conn-port", type=int)
@click.option("--conn-schema")
@click.option("--conn-login")
@click.option("--conn-password")
@click.option("--conn-extra", help="A JSON object, e.g. '{\"timeout\": 10}'.")
@click.option("--conn-description", help="What the connection is for.")
def add_connection(
    conn_id: str, conn_uri: str | None, conn_description: str | None, **fields: Any
) -> None:
    """Add a connection, from a URI (--conn-uri) or field by field (--conn-type, ...)."""
    require_current_schema()
    given = {name: value for name, value in fields.items() if value is not None}
    if conn_uri and given:
        fail("give either --conn-uri or the --conn-* fields, not both")
    if conn_uri:
        connection = _from_uri(conn_id, conn_uri)
    elif "conn_type" in given:
        connection = _from_fields(given)
    else:
        fail("give --conn-uri, or --conn-type with the other --conn-* fields")
    operate(connection_ops.create_connection, conn_id, description=conn_description, **connection)
    click.echo(f"Connection {conn_id!r} added.")


def _from_uri(conn_id: str, uri: str) -> dict[str, Any]:
    try:
        parsed = Connection.from_uri(conn_id, uri)
    except ValueError as exc:  # no scheme, or a port that is not a number
        fail(f"--conn-uri: {exc}")
    return {name: getattr(parsed, name) for name in URI_FIELDS}


def _from_fields(given: dict[str, Any]) -> dict[str, Any]:
    return {COLUMNS[name]: value for name, value in given.items()}


@connections.command("get")
@click.argument("conn_id")
@click.option("--show-password", is_flag=True, help="Print the password and secret extras.")
@output_option
def get_connection(conn_id: str, show_password: bool, output: str) -> None:
    """Show one connection as a task sees it (FLOWSCHED_CONN_<ID> wins over the DB)."""
    require_current_schema()
    try:
        connection = Connection.get_connection_from_secrets(conn_id)
    except ConnectionNotFound:
        fail(_no_such_connection(conn_id))
    except ValueError as exc:  # an environment URI that does not parse
        fail(f"{ENV_PREFIX}{conn_id.upper()}: {exc}")
    record = _record(connection, show_password)
    record["description"] = connection.description
    if output == "json":
        click.echo(json.dumps(record, indent=2))
        return
    render([{"field": k, "value": v} for k, v in record.items()], ["field", "value"], output)


@connections.command("list")
@output_option
def list_connections(output: str) -> None:
    """Every connection in the database, passwords masked."""
    require_current_schema()
    with session_scope(readonly=True) as session:
        rows = [
            _record(connection, show_password=False)
            for connection in session.scalars(select(Connection).order_by(Connection.conn_id))
        ]
    render(rows, FIELDS, output)


@connections.command("delete")
@click.argument("conn_id")
def delete_connection(conn_id: str) -> None:
    """Delete a connection from the database."""
    operate(connection_ops.delete_connection, conn_id)
    click.echo(f"Connection {conn_id!r} deleted.")


def _record(connection: Connection, show_password: bool) -> dict[str, Any]:
    record = {name: getattr(connection, name) for name in FIELDS}
    if not show_password:
        record["password"] = MASK if connection.password else None
    record["extra"] = _extra(connection, show_password)
    return record


def _extra(connection: Connection, show_password: bool) -> str | None:
    """The extra JSON text, with the values of sensitive keys masked unless asked for."""
    if not connection.extra or show_password:
        return connection.extra
    try:
        extra = connection.extra_dejson
    except ValueError:  # stored by other means as something that is not JSON
        return connection.extra
    return json.dumps({key: MASK if is_sensitive(key) else value for key, value in extra.items()})
