"""Why a task instance does not start: the scheduler's own rules, asked to explain, on a
real DAG file and a real database -- and what they say agrees with what they decide."""

from __future__ import annotations

import textwrap
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from flowsched.db import run_rules, session_scope
from flowsched.db.tables import DagModel, DagRun, Pool, TaskInstance, utcnow
from flowsched.parsing.scan import parse_dags_folder
from flowsched.scheduling import dispatch, runs
from flowsched.scheduling.claims import RunRef
from flowsched.scheduling.dagstore import DagStore
from flowsched.scheduling.explain import unmet_dependencies
from flowsched.scheduling.settings import SchedulerSettings
from flowsched.timetables import DataInterval

DAG_FILE = """
    import pendulum
    from flowsched import DAG
    from flowsched.operators.empty import EmptyOperator

    with DAG("deps", schedule=None, start_date=pendulum.datetime(2024, 1, 1),
             max_active_tasks=2):
        extract = EmptyOperator(task_id="extract", retries=2)
        load = EmptyOperator(task_id="load", pool="small")
        report = EmptyOperator(task_id="report", depends_on_past=True)
        tally = EmptyOperator(task_id="tally", max_active_tis_per_dag=1)
        extract >> load
"""


@pytest.fixture
def two_runs(migrated_db: Path, dags_folder: Path) -> None:
    """run0 (2020) and run1 (2021) of "deps", running, their instances created."""
    (dags_folder / "deps.py").write_text(textwrap.dedent(DAG_FILE))
    parse_dags_folder()
    now = utcnow()
    with session_scope() as session:
        session.execute(update(DagModel).values(is_paused=False))
        for n in range(2):
            session.add(run_rules.new_run(
                "deps", run_rules.MANUAL, DataInterval(now, now), run_after=now,
                logical_date=now.replace(year=2020 + n), run_id=f"run{n}",
            ))  # fmt: skip
    with session_scope() as session:
        runs.start_queued_runs(session, DagStore(), now)


def set_state(run_id: str, task_id: str, state: str | None, **values: object) -> None:
    with session_scope() as session:
        session.execute(
            update(TaskInstance)
            .where(TaskInstance.run_id == run_id, TaskInstance.task_id == task_id)
            .values(state=state, **values)
        )


def unmet(run_id: str, task_id: str) -> dict[str, str]:
    with session_scope(readonly=True) as session:
        dag = DagStore().get(session, "deps")
        assert dag is not None
        run = session.scalars(select(DagRun).where(DagRun.run_id == run_id)).one()
        found = unmet_dependencies(
            session, dag, RunRef.of(run), (task_id, -1), utcnow(), SchedulerSettings.from_conf()
        )
    return dict(found)


def queued_now() -> set[tuple[str, str]]:
    """What one dispatch step of the scheduler queues now (run_id, task_id)."""
    with session_scope() as session:
        queued = dispatch.queue_scheduled(
            session, DagStore(), 100, "local", utcnow(), SchedulerSettings.from_conf()
        )
    return {(item.key.run_id, item.key.task_id) for item in queued}


def test_a_ready_root_has_all_its_dependencies_met_and_is_queued(two_runs):
    assert unmet("run0", "extract") == {}
    set_state("run0", "extract", "scheduled")
    assert unmet("run0", "extract") == {}
    assert ("run0", "extract") in queued_now()


def test_the_trigger_rule_names_the_upstream_states(two_runs):
    set_state("run0", "extract", "running")

    reason = unmet("run0", "load")["Trigger Rule"]

    assert reason.startswith("Task's trigger rule 'all_success' is not met yet")
    assert "extract=running" in reason


def test_a_failed_upstream_means_the_rule_can_no_longer_be_met(two_runs):
    set_state("run0", "extract", "failed")

    reason = unmet("run0", "load")["Trigger Rule"]

    assert "can no longer be met: the task will be upstream_failed" in reason


def test_depends_on_past_waits_for_the_previous_runs_instance(two_runs):
    set_state("run0", "report", "failed")

    assert (
        "previous task instance is in the state 'failed'"
        in (unmet("run1", "report")["Previous Dagrun State"])
    )
    set_state("run0", "report", "success")
    assert unmet("run1", "report") == {}


def test_a_retry_waits_for_its_delay(two_runs):
    due = utcnow() + timedelta(minutes=5)
    set_state("run0", "extract", "up_for_retry", next_try_at=due)

    reason = unmet("run0", "extract")["Not In Retry Period"]

    assert f"will be retried at {due.isoformat()}" in reason


def test_finished_or_running_instances_are_not_runnable(two_runs):
    set_state("run0", "extract", "success")
    set_state("run1", "extract", "running")

    assert (
        "'success' state which is not a valid state"
        in (unmet("run0", "extract")["Task Instance State"])
    )
    assert "'running' state" in unmet("run1", "extract")["Task Instance State"]


def test_pools_and_concurrency_limits_are_the_dispatch_steps_own(two_runs):
    set_state("run0", "extract", "success")
    assert unmet("run0", "load")["Pool Slots Available"] == (
        "Tasks using non-existent pool 'small' will not be scheduled"
    )
    with session_scope() as session:
        session.add(Pool(pool="small", slots=1))
    set_state("run1", "load", "running", pool="small")
    assert "there are 0 open slots in pool small" in unmet("run0", "load")["Pool Slots Available"]

    set_state("run1", "tally", "running")
    assert "max_active_tis_per_dag=1" in unmet("run0", "tally")["Task Concurrency"]
    assert (
        "The maximum number of running tasks (2) for this task's DAG 'deps'"
        in (unmet("run0", "report")["Task Instance Slots Available"])
    )
    set_state("run0", "report", "scheduled")
    assert ("run0", "report") not in queued_now()  # as explained: the DAG's share is full


def test_a_paused_dag_and_a_finished_run_are_named(two_runs):
    with session_scope() as session:
        session.execute(update(DagModel).values(is_paused=True))
        session.execute(update(DagRun).where(DagRun.run_id == "run0").values(state="success"))

    found = unmet("run0", "extract")

    assert found["Dag Not Paused"] == "Task's DAG 'deps' is paused."
    assert found["Dagrun Running"] == (
        "Task instance's dagrun was not in the 'running' state but in the state 'success'."
    )
