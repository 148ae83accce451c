"""TaskGroups: id prefixes, nesting, group-level dependencies and default_args."""

from __future__ import annotations

import pytest

from flowsched import DAG, TaskGroup, task
from flowsched.authoring.taskgroup import task_group
from flowsched.exceptions import DagDefinitionError, DuplicateTaskIdFound, InvalidIdentifierError
from flowsched.operators.empty import EmptyOperator


def test_tasks_in_a_group_get_the_group_prefix():
    with DAG("grouped") as grouped:
        with TaskGroup("extract") as extract:
            EmptyOperator(task_id="users")
            with TaskGroup("nested"):
                EmptyOperator(task_id="orders")

    assert grouped.task_ids == ["extract.users", "extract.nested.orders"]
    assert grouped.get_task("extract.users").task_group is extract
    assert set(grouped.task_group_dict) == {"extract", "extract.nested"}


def test_prefix_can_be_turned_off():
    with DAG("no_prefix") as no_prefix, TaskGroup("grp", prefix_group_id=False):
        EmptyOperator(task_id="plain")
    assert no_prefix.task_ids == ["plain"]


def test_group_dependencies_use_the_group_s_roots_and_leaves():
    with DAG("group_deps"):
        start = EmptyOperator(task_id="start")
        with TaskGroup("work") as work:
            a = EmptyOperator(task_id="a")
            b = EmptyOperator(task_id="b")
            c = EmptyOperator(task_id="c")
            a >> c
        end = EmptyOperator(task_id="end")
        start >> work >> end

    assert start.downstream_task_ids == {"work.a", "work.b"}
    assert end.upstream_task_ids == {"work.b", "work.c"}
    assert b.upstream_task_ids == {"start"}


def test_group_default_args_override_the_dag_s():
    with DAG("group_defaults", default_args={"retries": 1, "pool": "p1"}):
        with TaskGroup("heavy", default_args={"retries": 4}):
            inner = EmptyOperator(task_id="inner")
        outer = EmptyOperator(task_id="outer")

    assert (inner.retries, inner.pool) == (4, "p1")
    assert outer.retries == 1


def test_task_group_decorator_makes_a_group_per_call():
    with DAG("decorated") as decorated:

        @task
        def step(x):
            return x

        @task_group
        def section(value):
            """Process one value."""
            return step(value)

        first = section(1)
        section(2)

    assert decorated.task_ids == ["section.step", "section__1.step"]
    assert first.task_id == "section.step"
    assert decorated.task_group_dict["section"].tooltip == "Process one value."


def test_task_group_decorator_returns_the_group_when_the_function_returns_nothing():
    with DAG("returns_group"):

        @task_group(group_id="setup")
        def setup():
            EmptyOperator(task_id="mkdir")

        assert isinstance(setup(), TaskGroup)


def test_group_id_clashing_with_a_task_id_is_refused():
    with DAG("clash"):
        EmptyOperator(task_id="load")
        with pytest.raises(DuplicateTaskIdFound, match="group id 'load' has already been added"):
            TaskGroup("load")


def test_group_id_with_a_dot_is_refused():
    with DAG("dotted"), pytest.raises(InvalidIdentifierError, match=r"group_id 'a\.b'"):
        TaskGroup("a.b")


def test_group_outside_a_dag_says_how_to_fix_it():
    with pytest.raises(DagDefinitionError, match="must be created inside a DAG"):
        TaskGroup("lonely")
