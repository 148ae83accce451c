"""Variables, pools, connections and users: each change is refused with one error type
or made with its audit row, whoever calls it."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from flowsched.db import session_scope
from flowsched.db.tables import AuditLog, Connection, Pool, Variable
from flowsched.operations import connections, pools, users, variables
from flowsched.operations.errors import Conflict, Invalid, NotFound


def audit() -> list[tuple[str, str, dict]]:
    with session_scope(readonly=True) as session:
        rows = session.execute(select(AuditLog.user, AuditLog.event, AuditLog.extra))
        return [(user, event, json.loads(extra)) for user, event, extra in rows]


def test_variables_create_update_set_delete(migrated_db):
    with session_scope() as session:
        variables.create_variable(session, "region", "eu", actor="ana")
        variables.update_variable(session, "region", actor="ana", description="where")
        variables.set_variable(session, "region", "us", actor="bo")  # keeps the description
    with session_scope(readonly=True) as session:
        stored = session.get(Variable, "region")
        assert (stored.val, stored.description) == ("us", "where")
    with pytest.raises(Conflict, match="variable 'region' already exists"):
        with session_scope() as session:
            variables.create_variable(session, "region", "x", actor="ana")
    with session_scope() as session:
        variables.delete_variable(session, "region", actor="ana")
    with pytest.raises(NotFound, match="no variable named 'region'"), session_scope() as s:
        variables.delete_variable(s, "region", actor="ana")
    assert [event for _, event, _ in audit()] == [
        "variable_create", "variable_update", "variable_update", "variable_delete",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [("  ", "v", "key cannot be empty"), ("k" * 251, "v", "at most 250"), ("k", 3, "a string")],
)
def test_variable_input_rules(migrated_db, key, value, message):
    with pytest.raises(Invalid, match=message), session_scope() as session:
        variables.create_variable(session, key, value, actor="ana")


def test_import_fail_mode_imports_nothing(migrated_db):
    with session_scope() as session:
        variables.create_variable(session, "b", "old", actor="ana")
    with pytest.raises(Conflict, match="nothing was imported"), session_scope() as session:
        variables.import_variables(session, {"a": [1], "b": "new"}, actor="ana", if_exists="fail")
    with session_scope() as session:
        written, skipped = variables.import_variables(
            session, {"a": [1], "b": "new"}, actor="ana", if_exists="skip"
        )
        assert (written, skipped) == (["a"], ["b"])
        assert session.get(Variable, "a").val == "[1]"


def test_pools_keep_the_default_and_refuse_bad_slots(migrated_db, scheduler_ear):
    with session_scope() as session:
        pools.set_pool(session, "gpu", 2, actor="ana", description="GPUs")
    assert scheduler_ear.drain(), "more slots may start queued tries: the scheduler is woken"
    with session_scope(readonly=True) as session:
        assert sorted(session.scalars(select(Pool.pool))) == ["default_pool", "gpu"]
    for slots in (-1, True, "3"):
        with pytest.raises(Invalid, match="whole number"), session_scope() as session:
            pools.set_pool(session, "gpu", slots, actor="ana")
    with pytest.raises(Invalid, match="default_pool cannot be deleted"), session_scope() as s:
        pools.delete_pool(s, "default_pool", actor="ana")
    with session_scope() as session:
        in_use = {pool.pool: pool.open_slots for pool in pools.pools_in_use(session)}
    assert in_use == {"default_pool": 128, "gpu": 2}


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"host": "h"}, "needs a type"),
        ({"conn_type": "http", "port": 70000}, "port must be a number from 1 to 65535"),
        ({"conn_type": "http", "extra": "[1]"}, "extra must be a JSON object"),
        ({"conn_type": "http", "colour": "red"}, "has no field colour"),
    ],
)
def test_connection_input_rules(migrated_db, fields, message):
    with pytest.raises(Invalid, match=message), session_scope() as session:
        connections.create_connection(session, "db", actor="ana", **fields)


def test_connection_update_changes_only_the_fields_given(migrated_db):
    with session_scope() as session:
        connections.create_connection(
            session, "db", actor="ana", conn_type="postgres", host="h", password="pw"
        )
        connections.update_connection(session, "db", actor="ana", host="h2")
    with session_scope(readonly=True) as session:
        stored = session.get(Connection, "db")
        assert (stored.host, stored.password) == ("h2", "pw")
    assert [event for _, event, _ in audit()] == ["connection_create", "connection_update"]


def test_users_are_audited_without_their_password(migrated_db):
    with session_scope() as session:
        users.create_user(session, "ana", "s3cret", "admin", actor="cli:root")
    with pytest.raises(Conflict, match="user 'ana' already exists"), session_scope() as s:
        users.create_user(s, "ana", "x", "viewer", actor="cli:root")
    with pytest.raises(Invalid, match="role must be one of"), session_scope() as s:
        users.create_user(s, "bo", "x", "owner", actor="cli:root")
    with session_scope() as session:
        users.delete_user(session, "ana", actor="cli:root")
    assert audit() == [
        ("cli:root", "user_create", {"role": "admin", "username": "ana"}),
        ("cli:root", "user_delete", {"username": "ana"}),
    ]
    assert "s3cret" not in json.dumps(audit())
