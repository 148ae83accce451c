"""Dynamic task mapping: expand/partial on @task and classic operators, and unmap."""

from __future__ import annotations

import pytest

from flowsched import DAG, task
from flowsched.authoring.mapped import MappedOperator, expansion_at, map_length
from flowsched.decorators import task_group
from flowsched.exceptions import DagDefinitionError
from flowsched.operators.bash import BashOperator
from flowsched.parsing.serialize import serialize_dag
from flowsched.serialized import SerializedDAG


def test_task_expand_over_a_literal_list_is_one_mapped_node():
    with DAG("mapped") as mapped:

        @task
        def square(x):
            return x * x

        square.expand(x=[1, 2, 3])

    node = mapped.get_task("square")
    assert isinstance(node, MappedOperator)
    assert node.is_mapped
    assert node.literal_inputs == {"x": [1, 2, 3]}


def test_partial_fixes_arguments_and_unmap_gives_the_operator_of_one_index(context_for):
    with DAG("partial") as partial:

        @task(retries=2)
        def scale(x, factor):
            return x * factor

        scale.partial(factor=10).expand(x=[1, 2, 3])

    node = partial.get_task("scale")
    assert node.retries == 2
    concrete = node.unmap({"x": 3})
    assert not concrete.is_mapped
    assert concrete.op_kwargs == {"factor": 10, "x": 3}
    assert concrete.task_id == "scale"
    assert concrete.dag is partial
    assert partial.task_ids == ["scale"]
    assert concrete.execute(context_for(concrete)) == 30


def test_expand_over_an_upstream_result_depends_on_it():
    with DAG("over_xcom") as over:

        @task
        def files():
            return ["a.csv", "b.csv"]

        @task
        def load(path):
            return path

        load.expand(path=files())

    node = over.get_task("load")
    assert node.upstream_task_ids == {"files"}
    assert node.literal_inputs == {}
    assert node.xcom_inputs["path"].task_id == "files"


def test_classic_operator_partial_expand_and_unmap():
    with DAG("classic") as classic:
        BashOperator.partial(task_id="echo", retries=1, env={"A": "1"}).expand(
            bash_command=["echo 1", "echo 2"]
        )

    node = classic.get_task("echo")
    assert node.operator_name == "BashOperator"
    assert node.template_fields == ("bash_command", "env", "cwd")
    concrete = node.unmap({"bash_command": "echo 2"})
    assert isinstance(concrete, BashOperator)
    assert (concrete.bash_command, concrete.env, concrete.retries) == ("echo 2", {"A": "1"}, 1)


def test_unmapped_operator_keeps_the_mapped_task_s_edges_and_group_id():
    from flowsched import TaskGroup
    from flowsched.operators.empty import EmptyOperator

    with DAG("edges") as edges:
        start = EmptyOperator(task_id="start")
        with TaskGroup("grp"):
            mapped = BashOperator.partial(task_id="echo").expand(bash_command=["a", "b"])
        start >> mapped

    concrete = edges.get_task("grp.echo").unmap({"bash_command": "a"})
    assert concrete.task_id == "grp.echo"
    assert concrete.upstream_task_ids == {"start"}


def test_expanding_a_task_argument_rather_than_an_operator_argument_is_refused():
    with DAG("structural"), pytest.raises(TypeError, match="cannot expand\\(\\) over 'retries'"):
        BashOperator.partial(task_id="t", bash_command="echo").expand(retries=[1, 2])


def test_partial_with_an_unknown_argument_names_it():
    with (
        DAG("unknown_partial"),
        pytest.raises(TypeError, match="got unexpected keyword argument\\(s\\) 'colour'"),
    ):
        BashOperator.partial(task_id="t", colour="red")


def test_expand_needs_lists_or_references():
    with DAG("scalar"):

        @task
        def f(x):
            return x

        with pytest.raises(TypeError, match="argument 'x' must be a list"):
            f.expand(x=5)


def test_argument_given_to_both_partial_and_expand_is_refused():
    with DAG("both"):

        @task
        def f(x):
            return x

        with pytest.raises(TypeError, match="'x' given to both partial\\(\\) and expand\\(\\)"):
            f.partial(x=1).expand(x=[2])


def test_expansion_order_is_the_product_of_sorted_argument_names():
    inputs = {"b": [1, 2], "a": ["x", "y", "z"]}
    assert map_length(inputs) == 6
    assert [expansion_at(inputs, i) for i in (0, 1, 2, 5)] == [
        {"a": "x", "b": 1},
        {"a": "x", "b": 2},
        {"a": "y", "b": 1},
        {"a": "z", "b": 2},
    ]
    with pytest.raises(IndexError, match="map_index 6 is out of range \\(6 task instances\\)"):
        expansion_at(inputs, 6)


def mapped_group_dag(expand) -> DAG:
    """``numbers`` feeding a @task_group ``work`` (add -> double), expanded by ``expand``."""
    with DAG("mapped_group") as dag:

        @task
        def numbers():
            return [1, 2]

        @task
        def add(x, y):
            return x + y

        @task
        def double(value):
            return value * 2

        @task
        def total(values):
            return sum(values)

        @task_group
        def work(x, y):
            return double(add(x, y))

        total(expand(work, numbers()))
    return dag


def test_every_task_of_a_mapped_task_group_is_mapped_over_the_group_input():
    dag = mapped_group_dag(lambda work, numbers: work.partial(y=10).expand(x=numbers))
    data = serialize_dag(dag)
    tasks = {t["task_id"]: t for t in data["tasks"]}
    ref = {"x": {"task_id": "numbers", "key": "return_value"}}
    for task_id in ("work.add", "work.double"):
        assert tasks[task_id]["mapped"] == {"literal": {}, "xcom": ref, "group": "work"}
    assert data["task_groups"]["work"]["is_mapped"] is True
    assert dag.get_task("work.add").upstream_task_ids == {"numbers"}
    assert dag.get_task("work.double").upstream_task_ids == {"numbers", "work.add"}
    assert dag.get_task("total").upstream_task_ids == {"work.double"}
    assert tasks["total"]["mapped"] is None
    concrete = dag.get_task("work.add").unmap({"x": 2})
    assert list(concrete.op_args) == [2, 10]  # the function's call, its MappedArgument filled


def test_a_literal_mapped_task_group_serializes_its_lists():
    dag = mapped_group_dag(lambda work, numbers: work.expand(x=[1, 2], y=[0]))
    add = SerializedDAG.from_dict(serialize_dag(dag)).task_dict["work.add"]
    assert add.mapped is not None
    assert (add.mapped.literal, add.mapped.group) == ({"x": [1, 2], "y": [0]}, "work")
    assert add.mapped.map_length({}) == 2


def test_a_classic_operator_or_a_nested_expand_in_a_mapped_group_is_refused():
    with DAG("nested"):

        @task
        def f(x):
            return x

        @task_group
        def inner(x):
            BashOperator(task_id="b", bash_command="true")

        @task_group
        def nested(x):
            f.expand(x=[x])

        with pytest.raises(DagDefinitionError, match="only plain @task calls"):
            inner.expand(x=[1])
        with pytest.raises(DagDefinitionError, match="only plain @task calls"):
            nested.expand(x=[1])
