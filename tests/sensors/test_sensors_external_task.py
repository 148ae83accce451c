"""ExternalTaskSensor: waits on another DAG's run, tasks or task group at a logical date."""

from __future__ import annotations

import datetime

import pendulum
import pytest

from flowsched import DAG
from flowsched.authoring.context import make_context
from flowsched.db import session_scope
from flowsched.db.tables import DagRun, TaskInstance
from flowsched.exceptions import FlowschedException, TaskDeferred, TaskSkipped
from flowsched.parsing.scan import parse_dags_folder
from flowsched.parsing.serialize import serialize_dag
from flowsched.sensors.external_task import ExternalTaskMarker, ExternalTaskSensor
from flowsched.triggers.external_task import WorkflowTrigger

DAY = pendulum.datetime(2024, 3, 10)


@pytest.fixture(autouse=True)
def _database(migrated_db):
    return migrated_db


def upstream_run(logical_date, run_state, **task_states):
    """A run of DAG ``upstream`` at ``logical_date`` with its task instances' states."""
    run_id = f"scheduled__{logical_date.isoformat()}"
    with session_scope() as session:
        session.add(
            DagRun(
                dag_id="upstream",
                run_id=run_id,
                run_type="scheduled",
                logical_date=logical_date,
                state=run_state,
                conf={},
            )
        )
        for task_id, state in task_states.items():
            session.add(
                TaskInstance(dag_id="upstream", run_id=run_id, task_id=task_id, state=state)
            )


def sensor(**kwargs):
    with DAG("downstream", start_date=DAY):
        return ExternalTaskSensor(task_id="wait", external_dag_id="upstream", **kwargs)


def poke(task, logical_date=DAY):
    context = make_context(dag=task.dag, task=task, run_id="r", logical_date=logical_date)
    task.render_template_fields(context)
    return task.poke(context)


def test_waits_for_the_tasks_of_the_run_at_the_same_logical_date():
    upstream_run(DAY, "running", extract="success", load="running")
    upstream_run(DAY.add(days=1), "success", extract="success", load="success")
    assert poke(sensor(external_task_id="extract")) is True
    assert poke(sensor(external_task_ids=["extract", "load"])) is False
    assert poke(sensor(external_task_ids=["extract", "load"]), DAY.add(days=1)) is True


def test_waits_for_the_whole_run_shifted_by_execution_delta_or_a_function():
    upstream_run(DAY.subtract(hours=1), "success")
    assert poke(sensor()) is False
    assert poke(sensor(execution_delta=datetime.timedelta(hours=1))) is True

    def an_hour_before(logical_date, ds):
        assert ds == "2024-03-10"  # context keys it names are passed too
        return [logical_date.subtract(hours=1)]

    assert poke(sensor(execution_date_fn=an_hour_before)) is True


def test_failed_states_fail_or_skip_and_skipped_states_skip():
    upstream_run(DAY, "failed", extract="failed", load="skipped")
    with pytest.raises(FlowschedException, match=r"external tasks \['extract'\].*failed"):
        poke(sensor(external_task_id="extract", failed_states=["failed"]))
    with pytest.raises(TaskSkipped, match="soft_fail"):
        poke(sensor(external_task_id="extract", failed_states=["failed"], soft_fail=True))
    with pytest.raises(TaskSkipped, match="states-to-skip-on"):
        poke(sensor(external_task_id="load", skipped_states=["skipped"]))
    assert poke(sensor(external_task_id="extract")) is False  # by default it waits on


UPSTREAM_WITH_GROUPS = """
import pendulum
from flowsched import DAG, TaskGroup
from flowsched.operators.empty import EmptyOperator

with DAG("upstream", start_date=pendulum.datetime(2024, 1, 1)):
    with TaskGroup("load"):
        with TaskGroup("inner"):
            EmptyOperator(task_id="one")
        EmptyOperator(task_id="two")
    EmptyOperator(task_id="other")
"""


def test_a_task_group_is_done_when_all_its_instances_are(dags_folder):
    (dags_folder / "upstream.py").write_text(UPSTREAM_WITH_GROUPS)
    parse_dags_folder(dags_folder)
    upstream_run(DAY, "running", **{"load.inner.one": "success", "load.two": "running"})
    group_sensor = sensor(external_task_group_id="load", check_existence=True)
    assert poke(group_sensor) is False
    with session_scope() as session:
        key = ("upstream", f"scheduled__{DAY.isoformat()}", "load.two", -1)
        session.get(TaskInstance, key).state = "success"
    assert poke(group_sensor) is True
    with pytest.raises(FlowschedException, match=r"external task group 'nope'.*does not exist"):
        poke(sensor(external_task_group_id="nope", check_existence=True))


def test_arguments_are_checked_when_the_dag_is_defined():
    with pytest.raises(ValueError, match="Only one of `external_task_id` or `external_task_ids`"):
        sensor(external_task_id="a", external_task_ids=["b"])
    with pytest.raises(ValueError, match="Valid values for `allowed_states`"):
        sensor(allowed_states=["upstream_failed"])  # not a run state
    with pytest.raises(FlowschedException, match="Duplicate values"):
        sensor(external_task_id="a", allowed_states=["success"], failed_states=["success"])


def test_deferrable_waits_on_a_workflow_trigger_and_ends_by_its_event():
    upstream_run(DAY, "running", extract="success")
    task = sensor(external_task_id="extract", deferrable=True, poll_interval=7)
    context = make_context(dag=task.dag, task=task, run_id="r", logical_date=DAY)
    with pytest.raises(TaskDeferred) as deferred:
        task.execute(context)
    trigger = deferred.value.trigger
    assert isinstance(trigger, WorkflowTrigger)
    assert trigger.next_check(DAY) == DAY.add(seconds=7)
    event = trigger.poll()
    assert event is not None and event.payload == {"status": "success"}
    assert task.execute_complete(context, event.payload) is None
    with pytest.raises(TaskSkipped):
        task.execute_complete(context, {"status": "skipped"})


def test_marker_keeps_its_target_in_the_serialized_dag():
    with DAG("parent", start_date=DAY) as parent:
        ExternalTaskMarker(task_id="mark", external_dag_id="child", external_task_id="wait")
    (task,) = serialize_dag(parent)["tasks"]
    assert task["extra"] == {
        "external_dag_id": "child",
        "external_task_id": "wait",
        "execution_date": "{{ logical_date.isoformat() }}",
        "recursion_depth": 10,
    }
    assert task["extra_links"] == ["External DAG"]
    with pytest.raises(ValueError, match="recursion_depth should be a positive integer"):
        with DAG("bad", start_date=DAY):
            ExternalTaskMarker(
                task_id="m", external_dag_id="c", external_task_id="t", recursion_depth=0
            )
