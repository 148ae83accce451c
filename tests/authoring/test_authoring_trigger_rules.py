"""Trigger rules: Airflow's names and values, accepted as enum members or strings."""

from __future__ import annotations

from flowsched import DAG
from flowsched.operators.empty import EmptyOperator
from flowsched.utils.trigger_rule import TriggerRule


def test_trigger_rules_have_airflow_s_values():
    assert TriggerRule.all_triggers() == {
        "all_success",
        "all_failed",
        "all_done",
        "all_skipped",
        "one_success",
        "one_failed",
        "one_done",
        "none_failed",
        "none_failed_min_one_success",
        "none_skipped",
        "always",
    }
    assert TriggerRule.is_valid("one_failed") and not TriggerRule.is_valid("most_success")


def test_operators_take_the_enum_or_its_string_and_default_to_all_success():
    with DAG("rules"):
        join = EmptyOperator(task_id="join", trigger_rule=TriggerRule.NONE_FAILED_MIN_ONE_SUCCESS)
        cleanup = EmptyOperator(task_id="cleanup", trigger_rule="all_done")
        plain = EmptyOperator(task_id="plain")
    assert join.trigger_rule == "none_failed_min_one_success"
    assert cleanup.trigger_rule is TriggerRule.ALL_DONE
    assert plain.trigger_rule is TriggerRule.ALL_SUCCESS
