"""PythonOperator, branching and short-circuiting: what runs and what gets skipped."""

from __future__ import annotations

import pytest

from flowsched import DAG, TaskGroup, task
from flowsched.exceptions import FlowschedException
from flowsched.operators.empty import EmptyOperator
from flowsched.operators.python import (
    BranchPythonOperator,
    PythonOperator,
    ShortCircuitOperator,
)


def test_callable_gets_its_arguments_and_the_context_keys_it_names(context_for):
    def add(a, b, ds, params):
        return f"{a + b} {ds} {params['unit']}"

    with DAG("python", params={"unit": "kg"}):
        operator = PythonOperator(
            task_id="add", python_callable=add, op_args=[1], op_kwargs={"b": 2}
        )
    assert operator.execute(context_for(operator)) == "3 2024-03-10 kg"


def test_callable_taking_kwargs_gets_the_whole_context(context_for):
    def everything(**context):
        return sorted(k for k in ("ds", "ti", "dag_run", "macros") if k in context)

    with DAG("kwargs"):
        operator = PythonOperator(task_id="all", python_callable=everything)
    assert operator.execute(context_for(operator)) == ["dag_run", "ds", "macros", "ti"]


def test_templates_dict_is_rendered_and_passed(context_for):
    def read(templates_dict):
        return templates_dict["day"]

    with DAG("templates_dict"):
        operator = PythonOperator(
            task_id="read", python_callable=read, templates_dict={"day": "{{ ds }}"}
        )
    context = context_for(operator)
    operator.render_template_fields(context)
    assert operator.execute(context) == "2024-03-10"


def test_empty_operator_does_nothing(context_for):
    with DAG("empty"):
        operator = EmptyOperator(task_id="noop")
    assert operator.execute(context_for(operator)) is None


# --- branching ------------------------------------------------------------------------------


def test_branch_skips_the_direct_downstream_tasks_not_chosen(context_for):
    with DAG("branch"):
        choose = BranchPythonOperator(task_id="choose", python_callable=lambda: "fast")
        fast = EmptyOperator(task_id="fast")
        slow = EmptyOperator(task_id="slow")
        after_slow = EmptyOperator(task_id="after_slow")
        choose >> [fast, slow]
        slow >> after_slow

    result = choose.execute(context_for(choose))
    assert result == "fast"
    assert choose.downstream_to_skip(result) == {"slow"}


def test_branch_may_follow_several_tasks_or_none():
    with DAG("multi_branch"):
        choose = BranchPythonOperator(task_id="choose", python_callable=lambda: None)
        choose >> [EmptyOperator(task_id=name) for name in ("a", "b", "c")]

    assert choose.downstream_to_skip(["a", "c"]) == {"b"}
    assert choose.downstream_to_skip(None) == {"a", "b", "c"}


def test_branch_inside_a_group_may_name_siblings_without_the_prefix():
    with DAG("grouped_branch"), TaskGroup("route"):
        choose = BranchPythonOperator(task_id="choose", python_callable=lambda: "left")
        choose >> [EmptyOperator(task_id="left"), EmptyOperator(task_id="right")]

    assert choose.downstream_to_skip("left") == {"route.right"}
    assert choose.downstream_to_skip("route.left") == {"route.right"}


def test_branch_to_a_task_group_follows_the_group_s_first_tasks():
    with DAG("branch_to_group"):
        choose = BranchPythonOperator(task_id="choose", python_callable=lambda: "heavy")
        with TaskGroup("heavy") as heavy:
            EmptyOperator(task_id="one") >> EmptyOperator(task_id="two")
        light = EmptyOperator(task_id="light")
        choose >> [heavy, light]

    assert choose.downstream_to_skip("heavy") == {"light"}
    assert choose.downstream_to_skip("light") == {"heavy.one"}


def test_branch_to_an_unknown_task_names_it():
    with DAG("unknown_branch"):
        choose = BranchPythonOperator(task_id="choose", python_callable=lambda: "x")
        choose >> EmptyOperator(task_id="a")
    with pytest.raises(FlowschedException, match="chose 'nowhere', which is not a task"):
        choose.downstream_to_skip("nowhere")


def test_task_branch_decorator(context_for):
    with DAG("decorated_branch") as dag_obj:

        @task.branch
        def pick(ds=None):
            return "weekday" if ds else "weekend"

        pick() >> [EmptyOperator(task_id="weekday"), EmptyOperator(task_id="weekend")]

    choose = dag_obj.get_task("pick")
    assert choose.operator_name == "@task.branch"
    assert choose.downstream_to_skip(choose.execute(context_for(choose))) == {"weekend"}


# --- short-circuit --------------------------------------------------------------------------


def short_circuit_dag(ignore_downstream_trigger_rules: bool) -> ShortCircuitOperator:
    with DAG(f"short_{ignore_downstream_trigger_rules}"):
        check = ShortCircuitOperator(
            task_id="check",
            python_callable=lambda: False,
            ignore_downstream_trigger_rules=ignore_downstream_trigger_rules,
        )
        check >> EmptyOperator(task_id="direct") >> EmptyOperator(task_id="indirect")
    return check


def test_falsy_short_circuit_skips_everything_downstream_by_default(context_for):
    check = short_circuit_dag(True)
    result = check.execute(context_for(check))
    assert result is False
    assert check.downstream_to_skip(result) == {"direct", "indirect"}


def test_short_circuit_can_leave_indirect_tasks_to_their_trigger_rules():
    assert short_circuit_dag(False).downstream_to_skip(0) == {"direct"}


def test_truthy_short_circuit_skips_nothing():
    assert short_circuit_dag(True).downstream_to_skip([1]) == set()
