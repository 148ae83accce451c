"""`flowsched pools`: default_pool is always there, sized by config, and cannot be deleted."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner, Result

from flowsched.cli import cli
from flowsched.db import session_scope
from flowsched.db.tables import TaskInstance

pytestmark = pytest.mark.usefixtures("migrated_db")


def flowsched(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def pools() -> dict[str, dict]:
    rows = json.loads(flowsched("pools", "list", "-o", "json").stdout)
    return {row["pool"]: row for row in rows}


def test_default_pool_exists_with_the_configured_slots(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOWSCHED__CORE__DEFAULT_POOL_SLOTS", "7")

    assert pools()["default_pool"]["slots"] == 7


def test_set_creates_then_resizes_a_pool() -> None:
    created = flowsched("pools", "set", "gpu", "2", "--description", "the one GPU box")
    flowsched("pools", "set", "gpu", "4")

    assert created.stdout == "Pool 'gpu' set to 2 slots.\n"
    assert pools()["gpu"] == {
        "pool": "gpu",
        "slots": 4,
        "running": 0,
        "queued": 0,
        "open": 4,
        "description": "the one GPU box",
    }


def test_list_counts_slots_of_running_and_queued_tasks() -> None:
    flowsched("pools", "set", "db", "5")
    with session_scope() as session:
        for task_id, state, slots in [("a", "running", 2), ("b", "queued", 1), ("c", "success", 1)]:
            session.add(
                TaskInstance(
                    dag_id="d",
                    run_id="r",
                    task_id=task_id,
                    state=state,
                    pool="db",
                    pool_slots=slots,
                )
            )

    row = pools()["db"]

    assert (row["running"], row["queued"], row["open"]) == (2, 1, 2)


def test_negative_slots_are_refused() -> None:
    result = flowsched("pools", "set", "gpu", "--", "-1")

    assert result.exit_code == 2
    assert "-1 is not in the range x>=0" in result.stderr


def test_delete_removes_a_pool_but_never_default_pool() -> None:
    flowsched("pools", "set", "gpu", "2")

    deleted = flowsched("pools", "delete", "gpu")
    refused = flowsched("pools", "delete", "default_pool")
    unknown = flowsched("pools", "delete", "gpu")

    assert deleted.exit_code == 0
    assert set(pools()) == {"default_pool"}
    assert refused.exit_code == 1
    assert refused.stderr.startswith("Error: default_pool cannot be deleted")
    assert unknown.stderr == "Error: no pool named 'gpu'\n"
