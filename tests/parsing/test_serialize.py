"""The serialized DAG: what the scheduler and the UI read instead of the DAG file."""

from __future__ import annotations

import json
from datetime import timedelta

import pendulum
import pytest

from flowsched import DAG, Param, TaskGroup, task
from flowsched.exceptions import DagDefinitionError, ParamValidationError, TaskNotFound
from flowsched.operators.bash import BashOperator
from flowsched.operators.empty import EmptyOperator
from flowsched.parsing.serialize import serialize_dag
from flowsched.sensors.filesystem import FileSensor
from flowsched.serialized import SerializedDAG, dag_hash
from flowsched.utils.trigger_rule import TriggerRule


@pytest.fixture(autouse=True)
def _fresh_home(home):
    """Config comes from a fresh FLOWSCHED_HOME, never the developer's."""


def notify(context):
    pass


def build_etl() -> DAG:
    with DAG(
        "etl",
        schedule="0 6 * * *",
        start_date=pendulum.datetime(2025, 1, 1, tz="Europe/Amsterdam"),
        catchup=True,
        max_active_runs=2,
        dagrun_timeout=timedelta(hours=1),
        tags=["warehouse"],
        description="Hourly load",
        params={"days": Param(7, type="integer", minimum=1, description="window")},
        default_args={"owner": "data", "retries": 2, "retry_delay": timedelta(minutes=1)},
        on_failure_callback=notify,
    ) as etl:
        wait = FileSensor(
            task_id="wait", filepath="/in/*.csv", mode="reschedule", poke_interval=30, timeout=600
        )
        with TaskGroup("grp"):
            extract = BashOperator(task_id="extract", bash_command="echo", pool="db", pool_slots=2)
            load = BashOperator(
                task_id="load",
                bash_command="echo",
                trigger_rule=TriggerRule.NONE_FAILED,
                retry_exponential_backoff=True,
                max_retry_delay=timedelta(minutes=10),
                execution_timeout=timedelta(minutes=5),
                on_retry_callback=notify,
                email="ops@example.com, dev@example.com",
            )
            extract >> load

        @task
        def files():
            return ["a", "b"]

        @task
        def process(path, mode):
            return path

        mapped = process.partial(mode="fast").expand(path=files())
        echo = BashOperator.partial(task_id="echo").expand(bash_command=["echo 1", "echo 2"])
        wait >> extract
        load >> [mapped, echo]
    return etl


def round_trip(dag_obj: DAG) -> SerializedDAG:
    return SerializedDAG.from_dict(json.loads(json.dumps(serialize_dag(dag_obj))))


def test_dag_level_fields_survive_the_round_trip():
    serialized = round_trip(build_etl())
    assert serialized.dag_id == "etl"
    assert serialized.schedule == {"kind": "cron", "expr": "0 6 * * *"}
    assert serialized.timezone == "Europe/Amsterdam"
    assert serialized.start_date == pendulum.datetime(2024, 12, 31, 23, tz="UTC")
    assert (serialized.catchup, serialized.max_active_runs) == (True, 2)
    assert serialized.dagrun_timeout == timedelta(hours=1)
    assert (serialized.tags, serialized.description, serialized.owner) == (
        ["warehouse"],
        "Hourly load",
        "data",
    )
    assert serialized.has_on_failure_callback and not serialized.has_on_success_callback
    assert serialized.task_groups == {
        "grp": {
            "parent": None,
            "tooltip": "",
            "ui_color": "CornflowerBlue",
            "ui_fgcolor": "#000",
            "is_mapped": False,
        }
    }


def test_structure_survives_the_round_trip():
    serialized = round_trip(build_etl())
    assert serialized.task_ids == [
        "wait",
        "grp.extract",
        "grp.load",
        "files",
        "process",
        "echo",
    ]
    assert [t.task_id for t in serialized.roots] == ["wait", "files"]
    assert [t.task_id for t in serialized.leaves] == ["process", "echo"]
    load = serialized.get_task("grp.load")
    assert load.upstream_task_ids == {"grp.extract"}
    assert load.downstream_task_ids == {"process", "echo"}
    assert load.task_group == "grp"
    assert serialized.get_flat_relative_ids("wait") == {
        "grp.extract",
        "grp.load",
        "process",
        "echo",
    }
    with pytest.raises(TaskNotFound):
        serialized.get_task("nope")


def test_task_policy_fields_survive_the_round_trip():
    serialized = round_trip(build_etl())
    extract, load = serialized.get_task("grp.extract"), serialized.get_task("grp.load")
    assert (extract.pool, extract.pool_slots, extract.retries) == ("db", 2, 2)
    assert extract.retry_delay == timedelta(minutes=1)
    assert extract.trigger_rule is TriggerRule.ALL_SUCCESS
    assert load.trigger_rule is TriggerRule.NONE_FAILED
    assert load.execution_timeout == timedelta(minutes=5)
    assert load.email == ("ops@example.com", "dev@example.com")
    assert load.has_on_retry_callback and not load.has_on_failure_callback
    assert load.operator == "BashOperator"
    assert load.template_fields == ("bash_command", "env", "cwd")
    assert [load.retry_delay_for(n) for n in (1, 2, 3, 5)] == [
        timedelta(minutes=1),
        timedelta(minutes=2),
        timedelta(minutes=4),
        timedelta(minutes=10),
    ]


def test_sensor_fields_survive_the_round_trip():
    wait = round_trip(build_etl()).get_task("wait")
    assert (wait.is_sensor, wait.sensor_mode) == (True, "reschedule")
    assert wait.poke_interval == timedelta(seconds=30)
    assert wait.sensor_timeout == timedelta(minutes=10)
    assert round_trip(build_etl()).get_task("grp.extract").is_sensor is False


def test_mapped_inputs_survive_and_expand_like_the_runner_unmaps():
    serialized = round_trip(build_etl())
    process, echo = serialized.get_task("process"), serialized.get_task("echo")
    assert process.operator == "@task"
    assert process.mapped.xcom["path"].task_id == "files"
    assert process.mapped.map_length({"path": ["a", "b", "c"]}) == 3
    assert process.mapped.expansion_at({"path": ["a", "b", "c"]}, 1) == {"path": "b"}
    assert echo.mapped.literal == {"bash_command": ["echo 1", "echo 2"]}
    assert echo.mapped.map_length({}) == 2
    assert serialized.get_task("wait").mapped is None


def test_params_validate_a_trigger_conf_from_the_serialized_form():
    serialized = round_trip(build_etl())
    assert serialized.resolve_params({"days": 3}) == {"days": 3}
    with pytest.raises(ParamValidationError, match="param 'days'"):
        serialized.resolve_params({"days": 0})


def weights_of(rule: str) -> dict[str, int]:
    with DAG(f"weights_{rule}", default_args={"weight_rule": rule}) as diamond:
        top = EmptyOperator(task_id="top")
        left = EmptyOperator(task_id="left", priority_weight=10)
        right = EmptyOperator(task_id="right")
        bottom = EmptyOperator(task_id="bottom")
        top >> [left, right] >> bottom
    return {t.task_id: t.weight for t in round_trip(diamond).tasks}


def test_downstream_weight_counts_each_downstream_task_once():
    assert weights_of("downstream") == {"top": 13, "left": 11, "right": 2, "bottom": 1}


def test_upstream_and_absolute_weights():
    assert weights_of("upstream") == {"top": 1, "left": 11, "right": 2, "bottom": 13}
    assert weights_of("absolute") == {"top": 1, "left": 10, "right": 1, "bottom": 1}


def test_hash_is_stable_and_changes_with_the_structure():
    first, second = serialize_dag(build_etl()), serialize_dag(build_etl())
    assert dag_hash(first) == dag_hash(second)
    assert dag_hash(first) == SerializedDAG.from_dict(first).dag_hash
    second["tasks"][0]["retries"] = 5
    assert dag_hash(first) != dag_hash(second)


def test_the_source_code_is_not_in_the_serialized_dag():
    assert "source" not in json.dumps(serialize_dag(build_etl()))


def test_a_param_default_that_is_not_json_is_refused_naming_it():
    with DAG("bad_param", params={"when": pendulum.datetime(2024, 1, 1)}) as bad:
        pass
    with pytest.raises(DagDefinitionError, match="DAG 'bad_param': param 'when' is not JSON"):
        serialize_dag(bad)


def test_an_unknown_format_is_refused_with_a_hint():
    data = serialize_dag(build_etl())
    data["format"] = 99
    with pytest.raises(ValueError, match="re-parse the DAG files"):
        SerializedDAG.from_dict(data)


def test_ten_thousand_tasks_serialize():
    with DAG("wide") as wide:
        start = EmptyOperator(task_id="start")
        chain_end = start
        for i in range(10_000):
            node = EmptyOperator(task_id=f"t{i}")
            chain_end >> node
            chain_end = node
    serialized = round_trip(wide)
    assert serialized.get_task("start").weight == 10_001
    assert len(serialized.tasks) == 10_001
