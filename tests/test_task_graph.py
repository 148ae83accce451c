"""Task order and reachability, the one rule the DAG objects, the scheduler and the UI share."""

from __future__ import annotations

import pytest

from flowsched.task_graph import CycleError, reachable, topological_order


def test_upstream_first_and_ties_in_the_order_the_file_gave():
    # whenever several tasks are ready, the one defined first goes first: d (defined
    # before c) is ready once b ran, so it goes before c; e, ready all along, goes last
    upstream = {"a": [], "b": ["a"], "d": ["b"], "c": ["a"], "e": []}
    assert topological_order(upstream) == ["a", "b", "d", "c", "e"]


def test_unknown_upstream_ids_are_ignored():
    assert topological_order({"a": ["gone"], "b": ["a"]}) == ["a", "b"]


def test_a_cycle_is_an_error():
    with pytest.raises(CycleError):
        topological_order({"a": ["b"], "b": ["a"]})


def test_reachable_walks_downstream_without_the_start():
    downstream = {"a": ["b", "c"], "b": ["d"], "c": ["d"], "d": []}
    assert reachable(downstream, ["b"]) == {"d"}
    assert reachable(downstream, ["a"]) == {"b", "c", "d"}
    assert reachable(downstream, ["missing"]) == set()
