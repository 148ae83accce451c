"""Clearing and marking task instances: what a clear resets, what it leaves alone, and
clearing in several DAGs in one transaction (what ExternalTaskMarker needs)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from flowsched.db import session_scope
from flowsched.db.tables import AuditLog, DagRun, TaskInstance
from flowsched.operations.errors import Invalid, NotFound
from flowsched.operations.task_instances import (
    TaskSelection,
    clear_task_instances,
    mark_task_instances,
)
from tests.webui.seed import ETL_TASKS, FAILED_RUN, RUNNING_RUN, START, add_dag, add_run


def instances(run_id: str) -> dict[str, tuple]:
    with session_scope(readonly=True) as session:
        rows = session.scalars(select(TaskInstance).where(TaskInstance.run_id == run_id))
        return {
            f"{ti.task_id}[{ti.map_index}]" if ti.map_index >= 0 else ti.task_id: (
                ti.state, ti.try_number, ti.max_tries, ti.end_date,
            )
            for ti in rows
        }  # fmt: skip


def run_state(run_id: str) -> str:
    with session_scope(readonly=True) as session:
        return session.scalar(select(DagRun.state).where(DagRun.run_id == run_id))


def test_clear_resets_state_keeps_tries_and_reopens_the_run(etl, scheduler_ear):
    selection = TaskSelection("etl", [FAILED_RUN], ["transform"], downstream=True)
    with session_scope() as session:
        result = clear_task_instances(session, [selection], actor="ana")
        assert [ti.task_id for ti in result.cleared] == ["load", *["report"] * 3, "transform"]
    assert scheduler_ear.drain()
    after = instances(FAILED_RUN)
    assert after["extract"][0] == "success"  # upstream of the selection: untouched
    # state None, try_number kept (the next try will be 2), full retries again, no end
    assert after["transform"] == (None, 1, 1 + 1, None)
    assert after["report[2]"] == (None, 0, 0 + 1, None)
    assert run_state(FAILED_RUN) == "queued"
    with session_scope(readonly=True) as session:
        entry = session.execute(select(AuditLog.user, AuditLog.event, AuditLog.run_id,
                                       AuditLog.task_id, AuditLog.extra)).one()  # fmt: skip
    assert tuple(entry[:4]) == (
        "ana",
        "clear",
        FAILED_RUN,
        None,
    )
    assert json.loads(entry.extra)["task_instances"][0] == "load"


def test_clear_leaves_queued_and_running_tries_alone(etl):
    with session_scope() as session:
        result = clear_task_instances(session, [TaskSelection("etl", [RUNNING_RUN])], actor="a")
    assert [ti.task_id for ti in result.left_running] == ["transform"]
    assert instances(RUNNING_RUN)["transform"][0] == "running"
    assert instances(RUNNING_RUN)["extract"][0] is None
    assert run_state(RUNNING_RUN) == "running"  # a run still going is not requeued


def test_only_failed_and_upstream(etl):
    only_failed = TaskSelection("etl", [FAILED_RUN], ["load"], upstream=True)
    with session_scope() as session:
        result = clear_task_instances(session, [only_failed], actor="a", only_failed=True)
    assert sorted(ti.task_id for ti in result.cleared) == ["load", "transform"]
    assert instances(FAILED_RUN)["extract"][0] == "success"


def test_a_dry_run_lists_and_changes_nothing(etl, scheduler_ear):
    with session_scope() as session:
        result = clear_task_instances(
            session, [TaskSelection("etl", [FAILED_RUN])], actor="a", dry_run=True
        )
    assert len(result.selected) == 6 and not result.cleared
    assert instances(FAILED_RUN)["transform"][0] == "failed"
    assert not scheduler_ear.drain()


def test_selections_in_other_dags_clear_in_the_same_transaction(etl):
    """An ExternalTaskMarker's caller passes the other DAG's run and task along."""
    add_dag("child", ETL_TASKS)
    add_run("child", "child_run", "success", {"extract": "success", "transform": "success",
            "load": "success", "report": ["success"]}, logical_date=START)  # fmt: skip
    selections = [
        TaskSelection("etl", [FAILED_RUN], ["load"]),
        TaskSelection("child", ["child_run"], ["transform"], downstream=True),
    ]
    with session_scope() as session:
        result = clear_task_instances(session, selections, actor="a")
    assert sorted((ti.dag_id, ti.task_id) for ti in result.cleared) == [
        ("child", "load"), ("child", "report"), ("child", "transform"), ("etl", "load"),
    ]  # fmt: skip
    assert run_state("child_run") == "queued"
    # one refused selection refuses them all: nothing is half cleared
    bad = [*selections, TaskSelection("child", ["no_such_run"])]
    with pytest.raises(NotFound, match="has no run 'no_such_run'"), session_scope() as s:
        clear_task_instances(s, bad, actor="a")


def test_follow_finds_more_to_clear_across_dags(etl):
    """``follow`` is where ExternalTaskMarker plugs in: given what is being cleared, it
    names more; each selection is visited once, so a cycle of markers ends."""
    add_dag("child", ETL_TASKS)
    add_run("child", "child_run", "failed", {"extract": "failed"}, logical_date=START)
    seen = []

    def follow(session, dag, run, task_ids):
        seen.append(dag.dag_id)
        other = "child" if dag.dag_id == "etl" else "etl"
        run_id = "child_run" if other == "child" else FAILED_RUN
        return [TaskSelection(other, [run_id], ["extract"])]

    with session_scope() as session:
        result = clear_task_instances(
            session, [TaskSelection("etl", [FAILED_RUN], ["extract"])], actor="a", follow=follow
        )
    assert sorted(ti.dag_id for ti in result.cleared) == ["child", "etl"]
    assert seen == ["etl", "child"]


def test_unknown_tasks_are_refused(etl):
    with pytest.raises(NotFound, match="DAG 'etl' has no task 'nope'"), session_scope() as s:
        clear_task_instances(s, [TaskSelection("etl", [FAILED_RUN], ["nope"])], actor="a")


def test_mark_sets_instances_and_reopens_the_run(etl):
    with session_scope() as session:
        changed = mark_task_instances(
            session, "etl", FAILED_RUN, "report", "success", actor="ana", map_indexes=[1]
        )
    assert changed == 1
    assert instances(FAILED_RUN)["report[1]"][0] == "success"
    assert instances(FAILED_RUN)["report[0]"][0] == "upstream_failed"
    assert run_state(FAILED_RUN) == "running"
    with pytest.raises(Invalid, match="success or failed only"), session_scope() as session:
        mark_task_instances(session, "etl", FAILED_RUN, "report", "running", actor="ana")


def test_nothing_to_mark_is_not_found(etl):
    with pytest.raises(NotFound, match="no instance of task 'load'"), session_scope() as s:
        mark_task_instances(s, "etl", FAILED_RUN, "load", "success", actor="a", map_indexes=[7])
