"""`flowsched connections`: adding by URI or by fields, and never leaking a password."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner, Result

from flowsched.cli import cli
from flowsched.db.tables import Connection

pytestmark = pytest.mark.usefixtures("migrated_db")


def flowsched(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def test_add_by_uri_stores_every_part() -> None:
    result = flowsched(
        "connections", "add", "warehouse",
        "--conn-uri", "postgres://etl:p%40ss@db.local:5432/sales?sslmode=require",
    )  # fmt: skip

    assert result.exit_code == 0
    stored = Connection.get_connection_from_secrets("warehouse")
    assert (stored.conn_type, stored.host, stored.port, stored.schema) == (
        "postgres",
        "db.local",
        5432,
        "sales",
    )
    assert (stored.login, stored.password) == ("etl", "p@ss")
    assert stored.extra_dejson == {"sslmode": "require"}


def test_add_by_fields_with_extra_json() -> None:
    result = flowsched(
        "connections", "add", "api",
        "--conn-type", "http", "--conn-host", "api.example.com",
        "--conn-password", "hunter22", "--conn-extra", '{"timeout": 10}',
        "--conn-description", "partner API",
    )  # fmt: skip

    assert result.exit_code == 0
    stored = Connection.get_connection_from_secrets("api")
    assert stored.extra_dejson == {"timeout": 10}
    assert stored.description == "partner API"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--conn-uri", "http://h", "--conn-host", "h"], "either --conn-uri or the --conn-*"),
        (["--conn-host", "h"], "give --conn-uri, or --conn-type"),
        (["--conn-uri", "no-scheme-here"], "is not a URI"),
        (["--conn-uri", "http://h:port"], "--conn-uri:"),
        (["--conn-type", "http", "--conn-extra", "{bad"], "extra is not valid JSON"),
        (["--conn-type", "http", "--conn-extra", "[1]"], "extra must be a JSON object"),
    ],
)
def test_add_mistakes_are_one_error_line(args: list[str], message: str) -> None:
    result = flowsched("connections", "add", "c", *args)

    assert result.exit_code == 1
    assert message in result.stderr
    assert len(result.stderr.splitlines()) == 1


def test_add_refuses_an_existing_id() -> None:
    flowsched("connections", "add", "c", "--conn-uri", "http://a")

    result = flowsched("connections", "add", "c", "--conn-uri", "http://b")

    assert result.exit_code == 1
    assert result.stderr == "Error: connection 'c' already exists\n"


def test_list_masks_passwords_and_secret_extras() -> None:
    flowsched(
        "connections", "add", "api", "--conn-type", "http", "--conn-login", "bot",
        "--conn-password", "hunter22", "--conn-extra", '{"api_key": "k-123", "timeout": 5}',
    )  # fmt: skip

    table = flowsched("connections", "list")
    rows = json.loads(flowsched("connections", "list", "-o", "json").stdout)

    assert "hunter22" not in table.stdout and "k-123" not in table.stdout
    assert rows[0]["password"] == "***"
    assert json.loads(rows[0]["extra"]) == {"api_key": "***", "timeout": 5}


def test_get_masks_the_password_unless_asked() -> None:
    flowsched("connections", "add", "db", "--conn-uri", "postgres://u:hunter22@h/d")

    masked = json.loads(flowsched("connections", "get", "db", "-o", "json").stdout)
    shown = json.loads(
        flowsched("connections", "get", "db", "--show-password", "-o", "json").stdout
    )
    table = flowsched("connections", "get", "db")

    assert masked["password"] == "***"
    assert shown["password"] == "hunter22"
    assert "hunter22" not in table.stdout and "postgres" in table.stdout


def test_get_sees_connections_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOWSCHED_CONN_CACHE", "redis://cache.local:6379/0")

    record = json.loads(flowsched("connections", "get", "cache", "-o", "json").stdout)

    assert (record["conn_type"], record["host"], record["port"]) == ("redis", "cache.local", 6379)


def test_get_and_delete_of_an_unknown_id_fail_with_one_line() -> None:
    for command in ("get", "delete"):
        result = flowsched("connections", command, "nope")

        assert result.exit_code == 1
        assert result.stderr.startswith("Error: no connection named 'nope'")
        assert len(result.stderr.splitlines()) == 1


def test_delete_removes_the_connection() -> None:
    flowsched("connections", "add", "c", "--conn-uri", "http://a")

    assert flowsched("connections", "delete", "c").exit_code == 0
    assert json.loads(flowsched("connections", "list", "-o", "json").stdout) == []
