"""Triggering, backfilling, marking and deleting runs, called as any caller would: with a
session and the name of who asks."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, update

from flowsched.db import session_scope
from flowsched.db.tables import AuditLog, DagModel, DagRun, TaskInstance
from flowsched.operations.errors import Conflict, Invalid, NotFound
from flowsched.operations.runs import backfill, delete_run, mark_run, trigger_run
from tests.webui.seed import FAILED_RUN, RUNNING_RUN

WHEN = datetime(2025, 2, 1, 6, tzinfo=UTC)


def test_trigger_queues_a_manual_run_and_audits_who_asked(etl, scheduler_ear):
    with session_scope() as session:
        run = trigger_run(session, "etl", actor="ana", conf={"x": 3}, logical_date=WHEN)
        assert run.run_id == "manual__2025-02-01T06:00:00+00:00"
        assert not scheduler_ear.drain(), "the scheduler is nudged only once the run is committed"
    assert scheduler_ear.drain()
    with session_scope(readonly=True) as session:
        stored = session.scalar(select(DagRun).where(DagRun.run_type == "manual"))
        assert (stored.state, stored.conf, stored.triggered_by) == ("queued", {"x": 3}, "ana")
        assert stored.data_interval_end == WHEN  # a cron DAG's manual run ends at its date
        entry = session.scalar(select(AuditLog))
        assert (entry.user, entry.event, entry.run_id) == ("ana", "trigger", stored.run_id)
        assert json.loads(entry.extra) == {"conf": {"x": 3}}


def test_a_refused_trigger_changes_nothing_and_wakes_nobody(etl, scheduler_ear):
    with pytest.raises(Conflict), session_scope() as session:
        trigger_run(session, "etl", actor="ana", run_id=FAILED_RUN)
    assert not scheduler_ear.drain()
    with session_scope(readonly=True) as session:
        assert session.scalar(select(AuditLog)) is None


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"run_id": "../../../../x"}, Invalid, "run id '../../../../x' is not allowed"),
        ({"run_id": "a/b"}, Invalid, "no '/' and no '..'"),
        ({"run_id": "x" * 251}, Invalid, "1 to 250 letters"),
        ({"conf": [1]}, Invalid, "conf must be a JSON object"),
        ({"conf": {"x": "no"}}, Invalid, "conf does not fit the params of DAG 'etl'"),
        ({"conf": {"x": 1, "big": "y" * 70_000}}, Invalid, "over the limit of 65536 bytes"),
        ({"logical_date": datetime(2025, 1, 1)}, Invalid, "needs a time zone"),
        ({"logical_date": datetime(2025, 1, 1, tzinfo=UTC)}, Conflict, "already has a run"),
    ],
)
def test_trigger_refuses_bad_input(etl, kwargs, error, message):
    with pytest.raises(error, match="^.*" + message.replace("(", r"\(")), session_scope() as s:
        trigger_run(s, "etl", actor="ana", **kwargs)


def test_the_conf_limit_is_the_configured_one(etl, monkeypatch):
    monkeypatch.setenv("FLOWSCHED__CORE__MAX_CONF_BYTES", "10")
    with pytest.raises(Invalid, match=r"conf is 11 bytes, over the limit of 10 bytes"):
        with session_scope() as session:
            trigger_run(session, "etl", actor="ana", conf={"x": 10000})


def test_unknown_and_inactive_dags_get_no_run(etl):
    with pytest.raises(NotFound, match="no DAG named 'nope'"), session_scope() as session:
        trigger_run(session, "nope", actor="ana")
    with session_scope() as session:
        session.execute(update(DagModel).values(is_active=False))
    with pytest.raises(Conflict, match="DAG 'etl' is inactive"), session_scope() as session:
        trigger_run(session, "etl", actor="ana")


def test_an_operator_triggers_with_a_plain_session_and_its_own_name(etl):
    """What TriggerDagRunOperator does: no web request, no CLI, its own run type and id."""
    with session_scope() as session:
        trigger_run(session, "etl", actor="etl.trigger_next", run_id="triggered__1", conf={})
    with session_scope(readonly=True) as session:
        run = session.scalar(select(DagRun).where(DagRun.run_id == "triggered__1"))
        assert (run.run_type, run.triggered_by) == ("manual", "etl.trigger_next")


def test_backfill_creates_the_missing_runs_and_leaves_existing_ones(etl):
    first, last = datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 1, 1, 3, tzinfo=UTC)
    with session_scope() as session:
        plan = backfill(session, "etl", first, last, actor="ana")
    assert [(p.run_id, p.exists) for p in plan] == [
        ("backfill__2025-01-01T00:00:00+00:00", True),
        ("backfill__2025-01-01T01:00:00+00:00", True),
        ("backfill__2025-01-01T02:00:00+00:00", False),
        ("backfill__2025-01-01T03:00:00+00:00", False),
    ]
    with session_scope(readonly=True) as session:
        kinds = session.scalars(select(DagRun.run_type).order_by(DagRun.logical_date)).all()
        events = session.scalars(select(AuditLog.event)).all()
    assert kinds == ["scheduled", "scheduled", "backfill", "backfill"]
    assert events == ["backfill", "backfill"]


def test_backfill_refuses_a_reversed_range(etl):
    with pytest.raises(Invalid, match="end date is before"), session_scope() as session:
        backfill(session, "etl", WHEN, datetime(2025, 1, 1, tzinfo=UTC), actor="ana")


def test_marking_a_run_failed_fails_running_tasks_and_skips_the_rest(etl):
    with session_scope() as session:
        changed = mark_run(session, "etl", RUNNING_RUN, "failed", actor="ana")
    assert changed == 3
    with session_scope(readonly=True) as session:
        states = dict(
            session.execute(
                select(TaskInstance.task_id, TaskInstance.state).where(
                    TaskInstance.run_id == RUNNING_RUN
                )
            ).all()
        )
        run_state = session.scalar(select(DagRun.state).where(DagRun.run_id == RUNNING_RUN))
    assert states == {"extract": "success", "transform": "failed", "load": "skipped",
                      "report": "skipped"}  # fmt: skip
    assert run_state == "failed"


def test_delete_run_takes_its_task_instances_along(etl):
    with session_scope() as session:
        delete_run(session, "etl", FAILED_RUN, actor="ana")
    with session_scope(readonly=True) as session:
        assert session.scalars(select(DagRun.run_id)).all() == [RUNNING_RUN]
        assert set(session.scalars(select(TaskInstance.run_id))) == {RUNNING_RUN}
    with pytest.raises(NotFound, match="has no run"), session_scope() as session:
        delete_run(session, "etl", FAILED_RUN, actor="ana")
