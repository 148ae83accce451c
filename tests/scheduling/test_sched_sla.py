"""SLA misses: a scheduled run's task not done by its interval's end plus ``sla`` is
recorded once and alerted through the ``[alerts]`` webhooks."""

from __future__ import annotations

import textwrap
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select, update

from flowsched.db import run_rules, session_scope
from flowsched.db.tables import DagModel, SlaMiss, TaskInstance
from flowsched.parsing.scan import parse_dags_folder
from flowsched.scheduling import runs
from flowsched.scheduling.dagstore import DagStore
from flowsched.scheduling.sla import record_sla_misses
from flowsched.timetables import DataInterval
from tests.e2e.alert_servers import WebhookServer

DAG_FILE = """
    import os
    from datetime import timedelta
    import pendulum
    from flowsched import DAG
    from flowsched.operators.empty import EmptyOperator

    def tell(dag, task_list, blocking_task_list, slas, blocking_tis):
        with open(os.environ.get("SLA_REPORT", os.devnull), "a") as report:
            report.write(f"{dag.dag_id}: {task_list} ({len(slas)} rows)\\n")

    with DAG("nightly", schedule="@daily", start_date=pendulum.datetime(2024, 1, 1),
             sla_miss_callback=tell):
        for task_id in ("on_time", "late", "still_running"):
            EmptyOperator(task_id=task_id, sla=timedelta(hours=1))
        EmptyOperator(task_id="no_sla")
"""
DAY = datetime(2024, 1, 1, tzinfo=UTC)
INTERVAL_END = datetime(2024, 1, 2, tzinfo=UTC)  # deadline of the sla=1h tasks: 01:00


def add_run(run_type: str, logical_date: datetime) -> str:
    interval = DataInterval(logical_date, logical_date.replace(day=logical_date.day + 1))
    run = run_rules.new_run("nightly", run_type, interval, run_after=interval.end)
    with session_scope() as session:
        session.add(run)
    with session_scope() as session:
        runs.start_queued_runs(session, DagStore(), interval.end)
    return run.run_id


def set_state(run_id: str, task_id: str, state: str, ended: datetime | None = None) -> None:
    with session_scope() as session:
        session.execute(
            update(TaskInstance)
            .where(TaskInstance.run_id == run_id, TaskInstance.task_id == task_id)
            .values(state=state, end_date=ended)
        )


@pytest.fixture
def nightly(migrated_db: Path, dags_folder: Path) -> str:
    (dags_folder / "nightly.py").write_text(textwrap.dedent(DAG_FILE))
    parse_dags_folder()
    with session_scope() as session:
        session.execute(update(DagModel).values(is_paused=False))
    run_id = add_run(run_rules.SCHEDULED, DAY)
    set_state(run_id, "on_time", "success", INTERVAL_END.replace(minute=30))
    set_state(run_id, "late", "success", INTERVAL_END.replace(hour=3))
    set_state(run_id, "still_running", "running")
    set_state(run_id, "no_sla", "running")
    manual = add_run(run_rules.MANUAL, DAY.replace(day=5))  # manual runs have no SLA
    set_state(manual, "still_running", "running")
    return run_id


def check(now: datetime) -> list[str]:
    with session_scope() as session:
        misses = record_sla_misses(session, DagStore(), now, since=now)
    return sorted(miss.task_id for miss in misses)


def test_late_tasks_are_recorded_once_and_alerted(nightly: str, monkeypatch) -> None:
    with WebhookServer() as hook:
        monkeypatch.setenv("FLOWSCHED__ALERTS__WEBHOOK_URLS", hook.url)
        assert check(INTERVAL_END.replace(minute=59)) == []  # before the deadline
        assert check(INTERVAL_END.replace(hour=4)) == ["late", "still_running"]
        assert check(INTERVAL_END.replace(hour=5)) == []  # recorded once
        deadline = time.monotonic() + 20
        while len(hook.posts) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
    assert sorted(post["task_id"] for post in hook.posts) == ["late", "still_running"]
    assert all(post["kind"] == "sla_miss" for post in hook.posts)
    with session_scope(readonly=True) as session:
        rows = session.execute(select(SlaMiss.task_id, SlaMiss.state_at_deadline)).all()
    assert sorted(rows) == [("late", "running"), ("still_running", "running")]


def test_the_sla_miss_callback_runs_in_a_child_with_the_runs_misses(
    nightly: str, monkeypatch, tmp_path
) -> None:
    report = tmp_path / "report.txt"
    monkeypatch.setenv("SLA_REPORT", str(report))  # the callback's child inherits it
    check(INTERVAL_END.replace(hour=4))
    deadline = time.monotonic() + 30
    while not report.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(0.5)  # a second, unwanted call would have written by now
    assert report.read_text() == (
        "nightly: late on 2024-01-01T00:00:00+00:00\n"
        "still_running on 2024-01-01T00:00:00+00:00 (2 rows)\n"
    )
