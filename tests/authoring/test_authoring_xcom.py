"""XCom values are JSON; XComArgs nested in arguments are resolved at run time."""

from __future__ import annotations

from collections import namedtuple

import pytest

from flowsched import DAG, task
from flowsched.authoring.xcom_arg import resolve_xcom_args
from flowsched.authoring.xcom_values import ensure_json
from flowsched.exceptions import XComNotSerializable


def test_json_values_pass_unchanged():
    value = {"rows": [1, 2.5, "x", None, True]}
    assert ensure_json(value, "extract") is value


def test_a_non_json_value_names_the_task_and_the_type():
    with pytest.raises(XComNotSerializable) as error:
        ensure_json({"ids": {1, 2}}, "extract")
    assert "Task 'extract' returned a value containing a 'set'" in str(error.value)
    assert "stored as JSON" in str(error.value)


def test_nan_is_not_json():
    with pytest.raises(XComNotSerializable, match="Task 'score'"):
        ensure_json(float("nan"), "score")


def test_nested_references_are_replaced_keeping_container_types():
    with DAG("resolve"):

        @task
        def a():
            return 1

        @task(multiple_outputs=True)
        def b():
            return {"k": 2}

        ref_a, ref_b = a(), b()

    Pair = namedtuple("Pair", "left right")
    value = {"list": [ref_a, 0], "tuple": (ref_b["k"],), "pair": Pair(ref_a, "x")}
    pulled = {("a", "return_value"): 1, ("b", "k"): 2}
    resolved = resolve_xcom_args(value, lambda task_id, key: pulled[(task_id, key)])
    assert resolved == {"list": [1, 0], "tuple": (2,), "pair": Pair(1, "x")}
    assert isinstance(resolved["pair"], Pair)
