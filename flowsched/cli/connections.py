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

from flowsched.cli.airflow_names import add_unsupported
from flowsched.cli.errors import fail
from flowsched.cli.files import parse_json, read_text, write_text
from flowsched.cli.lookups import cli_user, operate, reading
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
    with reading() as session:
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


EXPORTED = ["conn_type", "description", "host", "login", "password", "schema", "port", "extra"]


@connections.command("export")
@click.argument("file")
@click.option("--file-format", type=click.Choice(["json", "yaml"]),
              help="Default: from FILE's extension (.yaml/.yml), else json.")  # fmt: skip
def export_connections(file: str, file_format: str | None) -> None:
    """Write every connection to FILE ("-": stdout) in Airflow's format, passwords included
    (as Airflow): {"conn_id": {"conn_type": ..., "host": ..., "password": ...}}."""
    with reading() as session:
        data = {
            row.conn_id: {name: getattr(row, name) for name in EXPORTED}
            for row in session.scalars(select(Connection).order_by(Connection.conn_id))
        }
    if (file_format or _format_of(file)) == "yaml":
        import yaml

        text = yaml.safe_dump(data, sort_keys=False)
    else:
        text = json.dumps(data, indent=2) + "\n"
    write_text(file, text, f"{len(data)} connection(s)")


@connections.command("import")
@click.argument("file")
@click.option("--overwrite", is_flag=True, help="Replace connections that exist (default: skip).")
def import_connections(file: str, overwrite: bool) -> None:
    """Add the connections in FILE (Airflow's `connections export` format, json or yaml)."""
    require_current_schema()
    text = read_text(file)
    if _format_of(file) == "yaml":
        import yaml

        data = yaml.safe_load(text)
    else:
        data = parse_json(text, file)
    if not isinstance(data, dict):
        fail(f"{file}: expected an object of conn_id: {{conn_type, host, ...}}")
    added = skipped = 0
    with session_scope() as session:
        for conn_id, fields in data.items():
            if not isinstance(fields, dict):
                fail(f"{file}: connection {conn_id!r} is not an object of fields")
            fields = {name: fields.get(name) for name in EXPORTED if name in fields}
            if isinstance(fields.get("extra"), dict):
                fields["extra"] = json.dumps(fields["extra"])
            if session.get(Connection, conn_id) is None:
                connection_ops.create_connection(session, conn_id, actor=cli_user(), **fields)
            elif overwrite:
                connection_ops.update_connection(session, conn_id, actor=cli_user(), **fields)
            else:
                skipped += 1
                continue
            added += 1
    suffix = f" ({skipped} existing skipped; --overwrite replaces them)" if skipped else ""
    click.echo(f"Imported {added} connection(s){suffix}.")


def _format_of(file: str) -> str:
    return "yaml" if file.endswith((".yaml", ".yml")) else "json"


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


add_unsupported(
    connections,
    {
        "create-default-connections": "flowsched ships no default connections",
        "test": "flowsched's hooks have no connection test; use a task, e.g. `tasks test`",
    },
)
