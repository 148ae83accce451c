"""`flowsched users`: create, list and delete the people who may use the web UI."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner, Result
from werkzeug.security import check_password_hash

from flowsched.cli import cli
from flowsched.db import session_scope
from flowsched.operations.users import find_user


def flowsched(*args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), input=stdin)


def test_create_stores_a_hash_not_the_password(migrated_db: Path) -> None:
    result = flowsched("users", "create", "-u", "ana", "-p", "s3cret", "-r", "admin")

    assert result.exit_code == 0, result.output
    assert "User ana created with role admin." in result.output
    with session_scope() as session:
        user = find_user(session, "ana")
        assert user.password_hash != "s3cret"
        assert check_password_hash(user.password_hash, "s3cret")


def test_create_asks_for_the_password_twice_when_not_given(migrated_db: Path) -> None:
    result = flowsched("users", "create", "-u", "bo", "-r", "viewer", stdin="pw\npw\n")

    assert result.exit_code == 0, result.output
    with session_scope() as session:
        assert find_user(session, "bo").role == "viewer"


def test_create_refuses_a_duplicate_and_an_unknown_role(migrated_db: Path) -> None:
    flowsched("users", "create", "-u", "ana", "-p", "x", "-r", "admin")

    duplicate = flowsched("users", "create", "-u", "ana", "-p", "x", "-r", "admin")
    unknown_role = flowsched("users", "create", "-u", "cy", "-p", "x", "-r", "owner")

    assert duplicate.exit_code == 1
    assert "user 'ana' already exists" in duplicate.output
    assert unknown_role.exit_code == 1
    assert "role must be one of admin, viewer, Admin, Op, User, Viewer" in unknown_role.output


def test_airflow_roles_map_onto_admin_and_viewer(migrated_db: Path) -> None:
    for username, role in [("op", "Op"), ("user", "User"), ("view", "Viewer")]:
        result = flowsched("users", "create", "--role", role, "--username", username,
                           "--password", "x", "--firstname", "A", "--lastname", "B",
                           "--email", f"{username}@example.com")  # fmt: skip
        assert result.exit_code == 0, result.output
    public = flowsched("users", "create", "-r", "Public", "-u", "anon", "-p", "x")

    with session_scope() as session:
        assert [find_user(session, name).role for name in ("op", "user", "view")] == [
            "admin", "admin", "viewer",
        ]  # fmt: skip
    assert public.exit_code == 1
    assert "no Public role" in public.output


def test_add_role_replaces_and_remove_role_leaves_a_reader(migrated_db: Path) -> None:
    flowsched("users", "create", "-u", "ana", "-p", "x", "-r", "Viewer")

    assert flowsched("users", "add-role", "-u", "ana", "-r", "Op").exit_code == 0
    assert (
        "now has role viewer"
        in flowsched("users", "remove-role", "-u", "ana", "-r", "Admin").output
    )
    refused = flowsched("users", "remove-role", "-u", "ana", "-r", "Viewer")

    assert refused.exit_code == 1
    assert "delete user 'ana' instead" in refused.output


def test_export_then_import_keeps_users_and_roles(migrated_db: Path, tmp_path: Path) -> None:
    flowsched("users", "create", "-u", "ana", "-p", "x", "-r", "admin", "-e", "ana@example.com")
    exported = tmp_path / "users.json"
    assert flowsched("users", "export", str(exported)).exit_code == 0
    flowsched("users", "delete", "-u", "ana")

    result = flowsched("users", "import", str(exported))

    assert json.loads(exported.read_text())[0]["roles"] == ["Admin"]
    assert "Created 1 user(s)" in result.output
    with session_scope() as session:
        assert (find_user(session, "ana").role, find_user(session, "ana").email) == (
            "admin", "ana@example.com",
        )  # fmt: skip


def test_list_as_json(migrated_db: Path) -> None:
    flowsched("users", "create", "-u", "ana", "-p", "x", "-r", "admin", "-e", "ana@example.com")

    rows = json.loads(flowsched("users", "list", "-o", "json").output)

    assert rows[0]["username"] == "ana"
    assert rows[0]["email"] == "ana@example.com"
    assert "password" not in json.dumps(rows)


def test_delete(migrated_db: Path) -> None:
    flowsched("users", "create", "-u", "ana", "-p", "x", "-r", "admin")

    assert flowsched("users", "delete", "-u", "ana").exit_code == 0
    missing = flowsched("users", "delete", "-u", "ana")

    assert missing.exit_code == 1
    assert "no user named 'ana'" in missing.output


def test_a_database_not_upgraded_is_one_clear_line(home: Path) -> None:
    result = flowsched("users", "list")

    assert result.exit_code != 0
    assert "flowsched db upgrade" in str(result.exception or result.output)
