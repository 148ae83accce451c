"""Defining DAGs: the context manager, @dag, schedules, and the checks made at definition."""

from __future__ import annotations

import types
from datetime import timedelta

import pendulum
import pytest

from flowsched import DAG, Param, dag, task
from flowsched.authoring.dag import collect_dags, reset_registry
from flowsched.exceptions import (
    DagDefinitionError,
    DuplicateDagIdFound,
    DuplicateTaskIdFound,
    InvalidIdentifierError,
    TaskNotFound,
)
from flowsched.operators.bash import BashOperator
from flowsched.operators.empty import EmptyOperator

START = pendulum.datetime(2024, 1, 1, tz="UTC")


def test_tasks_created_inside_the_with_block_belong_to_the_dag():
    with DAG("etl", schedule="@daily", start_date=START) as etl:
        extract = EmptyOperator(task_id="extract")
        load = EmptyOperator(task_id="load")
        extract >> load

    assert etl.task_ids == ["extract", "load"]
    assert etl.get_task("load") is load
    assert extract.dag is etl
    assert [t.task_id for t in etl.roots] == ["extract"]
    assert [t.task_id for t in etl.leaves] == ["load"]


def test_task_can_be_given_its_dag_explicitly():
    etl = DAG("explicit")
    EmptyOperator(task_id="alone", dag=etl)
    assert etl.task_ids == ["alone"]


def test_get_task_of_unknown_id_names_the_task_and_dag():
    with pytest.raises(TaskNotFound, match="'nope' not found in DAG 'lookup'"):
        DAG("lookup").get_task("nope")


def test_topological_sort_puts_upstream_first_and_keeps_definition_order_for_ties():
    with DAG("topo") as topo:
        c = EmptyOperator(task_id="c")
        a = EmptyOperator(task_id="a")
        b = EmptyOperator(task_id="b")
        d = EmptyOperator(task_id="d")
        d >> c
        [a, b] >> d

    assert [t.task_id for t in topo.topological_sort()] == ["a", "b", "d", "c"]


def test_default_args_fill_only_arguments_the_task_did_not_pass():
    defaults = {"retries": 3, "retry_delay": timedelta(minutes=1), "owner": "data-team"}
    with DAG("defaults", default_args=defaults):
        plain = EmptyOperator(task_id="plain")
        explicit = EmptyOperator(task_id="explicit", retries=0)

    assert (plain.retries, plain.retry_delay, plain.owner) == (3, timedelta(minutes=1), "data-team")
    assert explicit.retries == 0


def test_default_args_apply_operator_specific_arguments_only_where_accepted():
    with DAG("specific", default_args={"bash_command": "echo hi", "retries": 1}):
        bash = BashOperator(task_id="bash")
        empty = EmptyOperator(task_id="empty")

    assert bash.bash_command == "echo hi"
    assert empty.retries == 1
    assert not hasattr(empty, "bash_command")


def test_default_args_may_carry_the_start_date_as_in_airflow():
    scheduled = DAG("from_default_args", schedule="@daily", default_args={"start_date": START})
    assert scheduled.start_date == START


def test_dag_owner_lists_its_tasks_owners():
    with DAG("owners") as owners:
        EmptyOperator(task_id="a", owner="alice")
        EmptyOperator(task_id="b", owner="bob")
        EmptyOperator(task_id="c", owner="alice")
    assert owners.owner == "alice, bob"


# --- schedules and time zones ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("schedule", "expected"),
    [
        (None, {"kind": "none"}),
        ("@once", {"kind": "once"}),
        ("*/5 * * * *", {"kind": "cron", "expr": "*/5 * * * *"}),
        ("@daily", {"kind": "cron", "expr": "0 0 * * *", "preset": "@daily"}),
        ("@weekly", {"kind": "cron", "expr": "0 0 * * 0", "preset": "@weekly"}),
        (timedelta(hours=6), {"kind": "delta", "seconds": 21600.0}),
    ],
)
def test_schedule_is_kept_raw_and_as_a_serializable_dict(schedule, expected):
    scheduled = DAG("sched", schedule=schedule, start_date=START)
    assert scheduled.schedule == schedule
    assert scheduled.schedule_dict == expected


def test_continuous_schedule_needs_one_active_run():
    assert DAG("c1", schedule="@continuous", max_active_runs=1).schedule_dict == {
        "kind": "continuous"
    }
    with pytest.raises(DagDefinitionError, match="max_active_runs=1"):
        DAG("c2", schedule="@continuous")


def test_schedule_interval_is_accepted_as_airflow_s_older_name():
    assert DAG("old", schedule_interval="@hourly").schedule == "@hourly"


@pytest.mark.parametrize(
    ("schedule", "message"),
    [
        ("0 25 * * *", "DAG 'bad_cron': invalid cron schedule '0 25 \\* \\* \\*'"),
        ("0 0 * *", "expected 5 fields"),
        ("@fortnightly", "unknown schedule preset '@fortnightly'"),
        ("0 0 31 2 *", "never matches a date"),
        (timedelta(0), "must be positive"),
    ],
)
def test_bad_schedule_is_refused_at_definition_naming_the_dag(schedule, message):
    with pytest.raises(DagDefinitionError, match=message):
        DAG("bad_cron", schedule=schedule)


def test_schedule_of_the_wrong_type_says_what_is_accepted():
    with pytest.raises(TypeError, match="schedule must be None, a cron string"):
        DAG("bad_type", schedule=3600)


def test_timezone_is_the_start_date_s_and_defaults_to_utc():
    local = DAG("tz", start_date=pendulum.datetime(2024, 1, 1, tz="Europe/Amsterdam"))
    assert local.timezone_name == "Europe/Amsterdam"
    assert DAG("no_start").timezone_name == "UTC"


def test_naive_start_date_is_read_in_the_default_zone():
    from datetime import datetime

    naive = DAG("naive", start_date=datetime(2024, 1, 1))
    assert naive.start_date == pendulum.datetime(2024, 1, 1, tz="UTC")


# --- identifiers and duplicates -------------------------------------------------------------


def test_invalid_dag_id_is_refused_naming_it():
    with pytest.raises(InvalidIdentifierError, match="Invalid dag_id 'my dag'"):
        DAG("my dag")


def test_invalid_task_id_is_refused_naming_it():
    with DAG("ids"), pytest.raises(InvalidIdentifierError, match="Invalid task_id 'a/b'"):
        EmptyOperator(task_id="a/b")


def test_overlong_task_id_is_refused():
    with DAG("long"), pytest.raises(InvalidIdentifierError):
        EmptyOperator(task_id="x" * 251)


def test_duplicate_task_id_is_refused_naming_it():
    with DAG("dup"):
        EmptyOperator(task_id="same")
        with pytest.raises(
            DuplicateTaskIdFound, match="'same' has already been added to the DAG 'dup'"
        ):
            EmptyOperator(task_id="same")


def test_unknown_argument_names_the_argument_the_operator_and_the_task():
    with DAG("unknown"), pytest.raises(TypeError) as error:
        BashOperator(task_id="greet", bash_command="echo", retires=3)
    assert str(error.value) == (
        "BashOperator(task_id='greet') got unexpected keyword argument(s) 'retires'"
    )


def test_positional_arguments_to_operators_are_refused():
    with pytest.raises(TypeError, match="keyword arguments only"):
        EmptyOperator("positional")


def test_invalid_trigger_rule_lists_the_valid_ones():
    with DAG("rules"), pytest.raises(DagDefinitionError, match="trigger_rule must be one of"):
        EmptyOperator(task_id="t", trigger_rule="sometimes")


def test_negative_retries_are_refused():
    with DAG("retries"), pytest.raises(DagDefinitionError, match="retries must be at least 0"):
        EmptyOperator(task_id="t", retries=-1)


# --- @dag ---------------------------------------------------------------------------------


def test_dag_decorator_builds_the_dag_when_called():
    @dag(schedule="@daily", start_date=START, tags=["example"])
    def nightly(threshold: int = 5):
        """Scores the day's records."""
        EmptyOperator(task_id="score")

    built = nightly()
    assert built.dag_id == "nightly"
    assert built.task_ids == ["score"]
    assert built.doc_md == "Scores the day's records."
    assert built.tags == ["example"]
    assert built.params["threshold"].value == 5


def test_dag_decorator_without_parentheses_and_with_a_param_schema():
    @dag
    def manual(size=Param(3, type="integer", minimum=1)):
        EmptyOperator(task_id="noop")

    built = manual()
    assert built.schedule_dict == {"kind": "none"}
    assert built.params["size"].schema == {"type": "integer", "minimum": 1}


def test_dag_function_arguments_resolve_to_the_run_s_param_value(context_for):
    @dag
    def greeting(name="world"):
        @task
        def hello(who):
            return f"hello {who}"

        hello(name)

    built = greeting()
    hello = built.get_task("hello")
    hello.render_template_fields(context_for(hello, conf={"name": "Ada"}))
    assert hello.op_args == ["Ada"]


# --- registry -------------------------------------------------------------------------------


def test_collect_dags_finds_registered_and_global_dags_once():
    reset_registry()
    module = types.ModuleType("dag_file")
    module.__file__ = "/dags/dag_file.py"
    module.first = DAG("first")
    DAG("second")  # not kept in a variable: found through the registry

    found = collect_dags(module)

    assert [d.dag_id for d in found] == ["first", "second"]
    assert {d.fileloc for d in found} == {"/dags/dag_file.py"}


def test_collect_dags_refuses_two_dags_with_one_id_in_a_file():
    reset_registry()
    module = types.ModuleType("dup_file")
    module.__file__ = "/dags/dup_file.py"
    DAG("twin")
    DAG("twin")
    with pytest.raises(DuplicateDagIdFound, match="'twin' is defined more than once"):
        collect_dags(module)


def test_collect_dags_refuses_a_scheduled_dag_without_start_date():
    reset_registry()
    DAG("no_start", schedule="@daily")
    module = types.ModuleType("m")
    module.__file__ = "/dags/m.py"
    with pytest.raises(
        DagDefinitionError, match="'no_start' has schedule '@daily' but no start_date"
    ):
        collect_dags(module)


def test_collect_dags_refuses_a_scheduled_dag_with_a_required_param():
    reset_registry()
    DAG("needs_input", schedule="@daily", start_date=START, params={"path": Param(type="string")})
    module = types.ModuleType("m2")
    module.__file__ = "/dags/m2.py"
    with pytest.raises(DagDefinitionError, match="'path' that have no default"):
        collect_dags(module)


def test_fileloc_is_the_file_that_defined_the_dag():
    assert DAG("here").fileloc == __file__


def test_unset_run_and_task_limits_come_from_the_configuration(home, monkeypatch):
    monkeypatch.setenv("FLOWSCHED__CORE__MAX_ACTIVE_RUNS_PER_DAG", "3")
    monkeypatch.setenv("FLOWSCHED__CORE__MAX_ACTIVE_TASKS_PER_DAG", "5")

    configured = DAG("configured")
    explicit = DAG("explicit", max_active_runs=1, max_active_tasks=2)

    assert (configured.max_active_runs, configured.max_active_tasks) == (3, 5)
    assert (explicit.max_active_runs, explicit.max_active_tasks) == (1, 2)
