"""Every keyword Airflow 2.10 takes on ``DAG`` and ``BaseOperator`` is taken here too.

The two lists are the parameter names of ``airflow.models.dag.DAG.__init__`` and
``airflow.models.baseoperator.BaseOperator.__init__`` in the apache-airflow 2.10.5 wheel
(``self`` left out). Each keyword is passed alone, with a value an Airflow DAG file would
use: it must build, serialize, and either have its effect or be reported as a parse
warning. A keyword dropped from flowsched's signatures fails its case.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import jinja2
import pendulum
import pytest

from flowsched import DAG
from flowsched.authoring.baseoperator import BaseOperator
from flowsched.authoring.ignored_args import IGNORED_DAG_ARGS, IGNORED_TASK_ARGS
from flowsched.authoring.taskgroup import TaskGroup
from flowsched.exceptions import DagDefinitionError
from flowsched.operators.empty import EmptyOperator
from flowsched.parsing.serialize import serialize_dag
from flowsched.serialized import SerializedDAG

AIRFLOW_DAG_KEYWORDS = [
    "dag_id", "description", "schedule", "schedule_interval", "timetable", "start_date",
    "end_date", "full_filepath", "template_searchpath", "template_undefined",
    "user_defined_macros", "user_defined_filters", "default_args", "concurrency",
    "max_active_tasks", "max_active_runs", "max_consecutive_failed_dag_runs",
    "dagrun_timeout", "sla_miss_callback", "default_view", "orientation", "catchup",
    "on_success_callback", "on_failure_callback", "doc_md", "params", "access_control",
    "is_paused_upon_creation", "jinja_environment_kwargs", "render_template_as_native_obj",
    "tags", "owner_links", "auto_register", "fail_stop", "dag_display_name",
]  # fmt: skip
AIRFLOW_TASK_KEYWORDS = [
    "task_id", "owner", "email", "email_on_retry", "email_on_failure", "retries",
    "retry_delay", "retry_exponential_backoff", "max_retry_delay", "start_date", "end_date",
    "depends_on_past", "ignore_first_depends_on_past", "wait_for_past_depends_before_skipping",
    "wait_for_downstream", "dag", "params", "default_args", "priority_weight", "weight_rule",
    "queue", "pool", "pool_slots", "sla", "execution_timeout", "on_execute_callback",
    "on_failure_callback", "on_success_callback", "on_retry_callback", "on_skipped_callback",
    "pre_execute", "post_execute", "trigger_rule", "resources", "run_as_user",
    "task_concurrency", "map_index_template", "max_active_tis_per_dag",
    "max_active_tis_per_dagrun", "executor", "executor_config", "do_xcom_push",
    "multiple_outputs", "inlets", "outlets", "task_group", "doc", "doc_md", "doc_json",
    "doc_yaml", "doc_rst", "task_display_name", "logger_name", "allow_nested_operators",
]  # fmt: skip

START = pendulum.datetime(2024, 1, 1, tz="UTC")


def noop(*args: Any) -> None:
    """A callback."""


Check = Callable[[DAG, dict[str, Any]], Any]

# keyword -> (value, what must hold on the DAG and its serialized dict)
DAG_CASES: dict[str, tuple[Any, Check]] = {
    "dag_id": ("kw", lambda d, s: s["dag_id"] == "kw"),
    "description": ("About", lambda d, s: s["description"] == "About"),
    "schedule": ("@daily", lambda d, s: s["schedule"]["kind"] == "cron"),
    "schedule_interval": ("@hourly", lambda d, s: s["schedule"]["expr"] == "0 * * * *"),
    "timetable": (timedelta(hours=2), lambda d, s: s["schedule"]["seconds"] == 7200),
    "start_date": (START, lambda d, s: s["start_date"].startswith("2024-01-01")),
    "end_date": (START.add(days=9), lambda d, s: s["end_date"].startswith("2024-01-10")),
    "template_searchpath": ("/srv/sql", lambda d, s: d.template_searchpath == ["/srv/sql"]),
    "template_undefined": (jinja2.Undefined, lambda d, s: d.template_undefined is jinja2.Undefined),
    "user_defined_macros": ({"x": 1}, lambda d, s: d.user_defined_macros == {"x": 1}),
    "user_defined_filters": ({"up": str.upper}, lambda d, s: "up" in d.user_defined_filters),
    "default_args": ({"retries": 4}, lambda d, s: s["tasks"][0]["retries"] == 4),
    "concurrency": (3, lambda d, s: s["max_active_tasks"] == 3),
    "max_active_tasks": (3, lambda d, s: s["max_active_tasks"] == 3),
    "max_active_runs": (2, lambda d, s: s["max_active_runs"] == 2),
    "max_consecutive_failed_dag_runs": (3, lambda d, s: s["max_consecutive_failed_dag_runs"] == 3),
    "dagrun_timeout": (timedelta(hours=1), lambda d, s: s["dagrun_timeout"] == 3600),
    "sla_miss_callback": (noop, lambda d, s: s["has_sla_miss_callback"]),
    "catchup": (True, lambda d, s: s["catchup"] is True),
    "on_success_callback": (noop, lambda d, s: s["has_on_success_callback"]),
    "on_failure_callback": (noop, lambda d, s: s["has_on_failure_callback"]),
    "doc_md": ("# Doc", lambda d, s: s["doc_md"] == "# Doc"),
    "params": ({"n": 1}, lambda d, s: s["params"]["n"]["default"] == 1),
    "is_paused_upon_creation": (False, lambda d, s: s["is_paused_upon_creation"] is False),
    "jinja_environment_kwargs": ({"trim_blocks": True}, lambda d, s: d.jinja_environment_kwargs),
    "render_template_as_native_obj": (True, lambda d, s: d.render_template_as_native_obj),
    "tags": (["finance"], lambda d, s: s["tags"] == ["finance"]),
    "owner_links": (
        {"ops": "https://example.com/ops"},
        lambda d, s: s["owner_links"] == {"ops": "https://example.com/ops"},
    ),
    "auto_register": (False, lambda d, s: d.auto_register is False),
    "fail_stop": (True, lambda d, s: s["fail_stop"] is True),
    "dag_display_name": ("Nice name", lambda d, s: s["dag_display_name"] == "Nice name"),
}
IGNORED_DAG_SAMPLES = {
    "full_filepath": "/old/path.py",
    "default_view": "graph",
    "orientation": "TB",
    "access_control": {"Viewer": {"can_read"}},
}

TASK_CASES: dict[str, tuple[Any, Check]] = {
    "task_id": ("t", lambda d, s: s["task_id"] == "t"),
    "owner": ("ana", lambda d, s: s["owner"] == "ana"),
    "email": ("a@example.com", lambda d, s: s["email"] == ["a@example.com"]),
    "email_on_retry": (False, lambda d, s: s["email_on_retry"] is False),
    "email_on_failure": (False, lambda d, s: s["email_on_failure"] is False),
    "retries": (2, lambda d, s: s["retries"] == 2),
    "retry_delay": (timedelta(seconds=9), lambda d, s: s["retry_delay"] == 9),
    "retry_exponential_backoff": (True, lambda d, s: s["retry_exponential_backoff"]),
    "max_retry_delay": (timedelta(minutes=1), lambda d, s: s["max_retry_delay"] == 60),
    "start_date": (START, lambda d, s: s["start_date"].startswith("2024-01-01")),
    "end_date": (START.add(days=1), lambda d, s: s["end_date"].startswith("2024-01-02")),
    "depends_on_past": (True, lambda d, s: s["depends_on_past"]),
    "ignore_first_depends_on_past": (False, lambda d, s: not s["ignore_first_depends_on_past"]),
    "wait_for_past_depends_before_skipping": (
        True,
        lambda d, s: s["wait_for_past_depends_before_skipping"],
    ),
    "wait_for_downstream": (True, lambda d, s: s["wait_for_downstream"] and s["depends_on_past"]),
    "dag": (None, lambda d, s: True),  # filled in by the test: the DAG itself
    "params": ({"p": 2}, lambda d, s: d.get_task("t").params["p"].value == 2),
    "default_args": ({"retries": 5}, lambda d, s: s["retries"] == 5),
    "priority_weight": (7, lambda d, s: s["priority_weight"] == 7),
    "weight_rule": ("absolute", lambda d, s: s["weight_rule"] == "absolute"),
    "queue": ("gpu", lambda d, s: s["queue"] == "gpu"),
    "pool": ("small", lambda d, s: s["pool"] == "small"),
    "pool_slots": (2, lambda d, s: s["pool_slots"] == 2),
    "sla": (timedelta(minutes=30), lambda d, s: s["sla"] == 1800),
    "execution_timeout": (timedelta(minutes=5), lambda d, s: s["execution_timeout"] == 300),
    "on_execute_callback": (noop, lambda d, s: d.get_task("t").on_execute_callback is noop),
    "on_failure_callback": (noop, lambda d, s: s["has_on_failure_callback"]),
    "on_success_callback": (noop, lambda d, s: s["has_on_success_callback"]),
    "on_retry_callback": (noop, lambda d, s: s["has_on_retry_callback"]),
    "on_skipped_callback": (noop, lambda d, s: d.get_task("t").on_skipped_callback is noop),
    "pre_execute": (noop, lambda d, s: d.get_task("t")._pre_execute_hook is noop),
    "post_execute": (noop, lambda d, s: d.get_task("t")._post_execute_hook is noop),
    "trigger_rule": ("all_done", lambda d, s: s["trigger_rule"] == "all_done"),
    "task_concurrency": (2, lambda d, s: s["max_active_tis_per_dag"] == 2),
    "max_active_tis_per_dag": (2, lambda d, s: s["max_active_tis_per_dag"] == 2),
    "max_active_tis_per_dagrun": (1, lambda d, s: s["max_active_tis_per_dagrun"] == 1),
    "do_xcom_push": (False, lambda d, s: d.get_task("t").do_xcom_push is False),
    "multiple_outputs": (True, lambda d, s: d.get_task("t").multiple_outputs),
    "task_group": (None, lambda d, s: s["task_id"] == "grp.t"),  # filled in: a TaskGroup
    "doc": ("text", lambda d, s: s["doc_md"] == "text"),
    "doc_md": ("# md", lambda d, s: s["doc_md"] == "# md"),
    "doc_json": ('{"a": 1}', lambda d, s: s["doc_json"] == '{"a": 1}'),
    "doc_yaml": ("a: 1", lambda d, s: s["doc_yaml"] == "a: 1"),
    "doc_rst": ("Title\n=====", lambda d, s: s["doc_rst"] == "Title\n====="),
    "task_display_name": ("Load the data", lambda d, s: s["task_display_name"] == "Load the data"),
    "logger_name": ("mine", lambda d, s: d.get_task("t").log.name.endswith("operators.mine")),
}
IGNORED_TASK_SAMPLES = {
    "resources": {"cpus": 2},
    "run_as_user": "etl",
    "map_index_template": "{{ task.op_kwargs['x'] }}",
    "executor": "KubernetesExecutor",
    "executor_config": {"pod_override": {}},
    "inlets": ["s3://in"],
    "outlets": ["s3://out"],
    "allow_nested_operators": False,
}


def test_the_cases_cover_exactly_airflows_keywords() -> None:
    assert sorted([*DAG_CASES, *IGNORED_DAG_SAMPLES]) == sorted(AIRFLOW_DAG_KEYWORDS)
    assert sorted([*TASK_CASES, *IGNORED_TASK_SAMPLES]) == sorted(AIRFLOW_TASK_KEYWORDS)
    assert set(IGNORED_DAG_SAMPLES) == set(IGNORED_DAG_ARGS)
    assert set(IGNORED_TASK_SAMPLES) == set(IGNORED_TASK_ARGS)


def _serialized(dag: DAG) -> dict[str, Any]:
    dag.validate()
    data = serialize_dag(dag)
    SerializedDAG.from_dict(data)  # and it reads back
    return data


def _dag(**kwargs: Any) -> DAG:
    kwargs.setdefault("start_date", START)
    dag_id = kwargs.pop("dag_id", "kw")
    with DAG(dag_id, **kwargs) as dag:
        EmptyOperator(task_id="t")
    return dag


@pytest.mark.parametrize("keyword", AIRFLOW_DAG_KEYWORDS)
def test_dag_takes_every_airflow_keyword(keyword: str) -> None:
    assert keyword in inspect.signature(DAG.__init__).parameters
    if keyword in IGNORED_DAG_SAMPLES:
        data = _serialized(_dag(**{keyword: IGNORED_DAG_SAMPLES[keyword]}))
        assert [w for w in data["parse_warnings"] if repr(keyword) in w]
        return
    value, check = DAG_CASES[keyword]
    dag = _dag(**{keyword: value})
    assert check(dag, _serialized(dag))
    assert _serialized(dag)["parse_warnings"] == []


def _task_dag(keyword: str, value: Any) -> DAG:
    with DAG("kw", schedule=None, start_date=START) as dag:
        kwargs: dict[str, Any] = {"task_id": "t", keyword: value}
        if keyword == "dag":
            kwargs["dag"] = dag
        if keyword == "task_group":
            kwargs["task_group"] = TaskGroup("grp")
        if keyword == "task_id":
            kwargs = {"task_id": value}
        EmptyOperator(**kwargs)
    return dag


@pytest.mark.parametrize("keyword", AIRFLOW_TASK_KEYWORDS)
def test_base_operator_takes_every_airflow_keyword(keyword: str) -> None:
    assert keyword in inspect.signature(BaseOperator.__init__).parameters
    if keyword in IGNORED_TASK_SAMPLES:
        data = _serialized(_task_dag(keyword, IGNORED_TASK_SAMPLES[keyword]))
        assert [w for w in data["parse_warnings"] if repr(keyword) in w and "(on t)" in w]
        return
    value, check = TASK_CASES[keyword]
    dag = _task_dag(keyword, value)
    data = _serialized(dag)
    assert check(dag, data["tasks"][0])
    assert data["parse_warnings"] == []


def test_an_ignored_argument_is_reported_once_for_all_the_tasks_that_use_it() -> None:
    with DAG(
        "warned",
        schedule=None,
        start_date=START,
        default_view="graph",
        default_args={"executor_config": {"cpu": 1}},
    ) as dag:
        EmptyOperator(task_id="a")
        EmptyOperator(task_id="b", run_as_user="etl")
    warnings = serialize_dag(dag)["parse_warnings"]
    assert len(warnings) == 3
    assert "'default_view'" in warnings[0]
    assert any("'executor_config' (on a, b)" in w for w in warnings)
    assert any("'run_as_user' (on b)" in w for w in warnings)


def test_airflow_defaults_of_ignored_arguments_are_not_reported() -> None:
    dag = _dag(access_control=None)
    with dag:
        EmptyOperator(task_id="quiet", executor_config={}, inlets=[], allow_nested_operators=True)
    assert serialize_dag(dag)["parse_warnings"] == []


def test_wait_for_downstream_implies_depends_on_past() -> None:
    task = EmptyOperator(task_id="t", wait_for_downstream=True)
    assert task.depends_on_past is True


def test_a_display_name_defaults_to_the_id() -> None:
    dag = _dag()
    assert dag.dag_display_name == "kw"
    assert dag.get_task("t").task_display_name == "t"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"owner_links": {"ops": "ftp://x"}}, r"owner_links must be http\(s\) URLs"),
        ({"max_consecutive_failed_dag_runs": -1}, "max_consecutive_failed_dag_runs"),
        ({"schedule": "@daily", "timetable": timedelta(days=1)}, "pass one of schedule"),
    ],
)
def test_bad_dag_keyword_values_are_definition_errors(kwargs: dict, message: str) -> None:
    with pytest.raises(DagDefinitionError, match=message):
        _dag(**kwargs)


def test_a_fail_stop_dag_keeps_the_all_success_trigger_rule() -> None:
    with DAG("stop", schedule=None, start_date=START, fail_stop=True) as dag:
        EmptyOperator(task_id="cleanup", trigger_rule="all_done")
    with pytest.raises(DagDefinitionError, match=r"fail_stop=True.*cleanup"):
        dag.validate()


def test_task_limits_must_be_positive() -> None:
    with pytest.raises(DagDefinitionError, match="max_active_tis_per_dagrun"):
        EmptyOperator(task_id="t", max_active_tis_per_dagrun=0)


def test_a_mailto_owner_link_is_accepted() -> None:
    assert _dag(owner_links={"ana": "mailto:ana@example.com"}).owner_links


def test_template_undefined_and_jinja_environment_kwargs_shape_rendering() -> None:
    from flowsched.authoring.templating import jinja_env_for

    dag = _dag(template_undefined=jinja2.Undefined, jinja_environment_kwargs={"trim_blocks": True})
    env = jinja_env_for(dag)
    assert env.from_string("[{{ missing }}]").render() == "[]"
    assert env.from_string("{% if true %}\nx{% endif %}").render() == "x"
    with pytest.raises(jinja2.UndefinedError):
        jinja_env_for(_dag(dag_id="strict")).from_string("{{ missing }}").render()
