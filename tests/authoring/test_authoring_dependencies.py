"""Dependencies: >>, <<, lists, set_upstream/set_downstream, chain, and cycle detection."""

from __future__ import annotations

import pytest

from flowsched import DAG, chain, cross_downstream
from flowsched.exceptions import DagCycleError, DagDefinitionError
from flowsched.operators.empty import EmptyOperator


def make(dag_id: str, *task_ids: str) -> list[EmptyOperator]:
    with DAG(dag_id):
        return [EmptyOperator(task_id=task_id) for task_id in task_ids]


def test_shift_operators_link_in_both_directions_and_return_the_right_hand_side():
    a, b, c = make("shift", "a", "b", "c")
    assert (a >> b) is b
    c << b
    assert a.downstream_task_ids == {"b"}
    assert b.upstream_task_ids == {"a"}
    assert c.upstream_task_ids == {"b"}


def test_lists_on_either_side_fan_out_and_fan_in():
    start, left, right, end = make("fan", "start", "left", "right", "end")
    start >> [left, right] >> end
    assert start.downstream_task_ids == {"left", "right"}
    assert end.upstream_task_ids == {"left", "right"}


def test_list_on_the_left_of_lshift():
    a, b, c = make("lshift_list", "a", "b", "c")
    [a, b] << c
    assert c.downstream_task_ids == {"a", "b"}


def test_set_upstream_and_set_downstream():
    a, b, c = make("methods", "a", "b", "c")
    b.set_upstream(a)
    b.set_downstream([c])
    assert a.downstream_task_ids == {"b"}
    assert c.upstream_task_ids == {"b"}


def test_chain_links_in_sequence_through_lists():
    a, b, c, d = make("chain", "a", "b", "c", "d")
    chain(a, [b, c], d)
    assert a.downstream_task_ids == {"b", "c"}
    assert d.upstream_task_ids == {"b", "c"}


def test_chain_links_two_lists_of_equal_length_pairwise():
    a, b, c, d = make("pairwise", "a", "b", "c", "d")
    chain([a, b], [c, d])
    assert a.downstream_task_ids == {"c"}
    assert b.downstream_task_ids == {"d"}


def test_chain_refuses_lists_of_different_lengths():
    a, b, c = make("uneven", "a", "b", "c")
    with pytest.raises(ValueError, match="different lengths \\(2 and 1\\)"):
        chain([a, b], [c])


def test_cross_downstream_links_every_pair():
    a, b, c, d = make("cross", "a", "b", "c", "d")
    cross_downstream([a, b], [c, d])
    assert c.upstream_task_ids == d.upstream_task_ids == {"a", "b"}


def test_the_edge_that_closes_a_cycle_is_refused_naming_the_cycle():
    a, b = make("cycle", "a", "b")
    a >> b
    with pytest.raises(DagCycleError, match="Cycle detected in DAG 'cycle': a -> b -> a"):
        b >> a
    assert a.upstream_task_ids == set()


def test_a_longer_cycle_is_spelled_out():
    a, b, c = make("long_cycle", "a", "b", "c")
    a >> b >> c
    with pytest.raises(DagCycleError, match="a -> b -> c -> a"):
        c >> a


def test_a_task_cannot_depend_on_itself():
    (a,) = make("self_loop", "a")
    with pytest.raises(DagCycleError, match="a -> a"):
        a >> a


def test_tasks_of_different_dags_cannot_be_linked():
    (a,) = make("one", "a")
    (b,) = make("two", "b")
    with pytest.raises(DagDefinitionError, match="different DAGs \\('one' and 'two'\\)"):
        a >> b


def test_a_task_without_dag_joins_its_partner_s_dag():
    (a,) = make("adopt", "a")
    orphan = EmptyOperator(task_id="orphan")
    a >> orphan
    assert orphan.dag is a.dag
    assert a.dag.task_ids == ["a", "orphan"]


def test_linking_two_tasks_without_dag_says_so():
    with pytest.raises(DagDefinitionError, match="neither task belongs to a DAG"):
        EmptyOperator(task_id="x") >> EmptyOperator(task_id="y")


def test_a_non_task_on_one_side_names_the_value():
    (a,) = make("non_task", "a")
    with pytest.raises(TypeError, match="'oops' \\(str\\)"):
        a >> "oops"


def test_flat_relatives_reach_beyond_direct_neighbours():
    a, b, c, d = make("flat", "a", "b", "c", "d")
    a >> b >> c
    a >> d
    assert a.get_flat_relative_ids() == {"b", "c", "d"}
    assert c.get_flat_relative_ids(upstream=True) == {"a", "b"}
