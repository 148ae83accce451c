"""TaskFlow: @task functions, XCom references between them, and their arguments."""

from __future__ import annotations

import pytest

from flowsched import DAG, task
from flowsched.authoring.xcom_arg import XComArg
from flowsched.exceptions import DagDefinitionError
from flowsched.operators.bash import BashOperator


def test_calling_a_task_returns_a_reference_and_passing_it_makes_the_dependency():
    with DAG("taskflow") as flow:

        @task
        def extract():
            return {"rows": 3}

        @task
        def load(data):
            return data["rows"]

        result = load(extract())

    assert isinstance(result, XComArg)
    assert flow.get_task("load").upstream_task_ids == {"extract"}


def test_the_referenced_value_is_pulled_from_xcom_when_the_task_runs(context_for):
    with DAG("pull"):

        @task
        def produce():
            return 41

        @task
        def consume(number, offset=1):
            return number + offset

        reference = consume(produce(), offset=1)

    consumer = reference.operator
    context = context_for(consumer, xcoms={("produce", "return_value"): 41})
    consumer.render_template_fields(context)
    assert consumer.execute(context) == 42


def test_task_receives_the_context_keys_it_names(context_for):
    with DAG("ctx"):

        @task
        def stamp(label, ds=None, ti=None):
            return f"{label} {ds} try {ti.try_number}"

        reference = stamp("run")

    operator = reference.operator
    assert operator.execute(context_for(operator, try_number=2)) == "run 2024-03-10 try 2"


def test_task_decorator_arguments_become_task_arguments():
    with DAG("args"):

        @task(retries=3, task_id="custom", pool="db")
        def job():
            pass

        operator = job().operator

    assert (operator.task_id, operator.retries, operator.pool) == ("custom", 3, "db")


def test_calling_the_same_task_twice_gives_unique_ids():
    with DAG("twice") as twice:

        @task
        def step():
            pass

        step()
        step()
        step()

    assert twice.task_ids == ["step", "step__1", "step__2"]


def test_override_changes_arguments_for_one_call():
    with DAG("override") as dag_obj:

        @task(retries=1)
        def fetch(region):
            return region

        fetch.override(task_id="fetch_eu", retries=5)("eu")

    assert dag_obj.get_task("fetch_eu").retries == 5


def test_multiple_outputs_lets_downstream_tasks_read_single_keys():
    with DAG("multi") as multi:

        @task(multiple_outputs=True)
        def split():
            return {"train": [1], "test": [2]}

        @task
        def fit(rows):
            return len(rows)

        parts = split()
        fit(parts["train"])

    reference = multi.get_task("fit").op_args[0]
    assert (reference.task_id, reference.key) == ("split", "train")


def test_dict_return_annotation_implies_multiple_outputs():
    with DAG("annotated"):

        @task
        def stats() -> dict[str, int]:
            return {"n": 1}

        assert stats().operator.multiple_outputs is True


def test_calling_with_arguments_the_function_does_not_take_fails_at_definition():
    with DAG("bad_call"):

        @task
        def one(x):
            return x

        with pytest.raises(TypeError, match="Task 'one' \\(one\\): got an unexpected keyword"):
            one(y=1)
        with pytest.raises(TypeError, match="missing required argument\\(s\\) 'x'"):
            one()


def test_operator_output_feeds_templated_fields_and_makes_the_dependency():
    with DAG("output") as out:

        @task
        def make_command():
            return "echo hi"

        command = make_command()
        run = BashOperator(task_id="run", bash_command=command)

    assert run.upstream_task_ids == {"make_command"}
    assert out.get_task("make_command").output.task_id == "make_command"


def test_xcom_reference_in_an_f_string_renders_as_an_xcom_pull(context_for):
    with DAG("fstring"):

        @task
        def name():
            return "ada"

        reference = name()
        greet = BashOperator(task_id="greet", bash_command=f"echo {reference}")

    greet.render_template_fields(context_for(greet, xcoms={("name", "return_value"): "ada"}))
    assert greet.bash_command == "echo ada"


def test_iterating_a_reference_at_definition_time_explains_why_not():
    with DAG("iterate"):

        @task
        def rows():
            return [1, 2]

        with pytest.raises(TypeError, match="not known when the DAG is defined"):
            list(rows())


def test_task_must_decorate_a_callable():
    with pytest.raises(TypeError, match="must decorate a function"):
        task.python("not callable")


def test_non_callable_python_callable_is_refused():
    from flowsched.operators.python import PythonOperator

    with DAG("callable"), pytest.raises(DagDefinitionError, match="python_callable must be"):
        PythonOperator(task_id="p", python_callable="print")
