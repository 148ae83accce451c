"""Params: defaults, JSON-schema validation, and run conf overrides."""

from __future__ import annotations

import pytest

from flowsched import DAG, Param
from flowsched.authoring.params import params_from_serialized, resolve_params
from flowsched.exceptions import ParamValidationError
from flowsched.operators.empty import EmptyOperator


def test_run_conf_overrides_defaults_and_extra_keys_pass_through():
    params = {"days": Param(7, type="integer", minimum=1), "region": "eu"}
    assert resolve_params(params, {"days": 3, "note": "rerun"}) == {
        "days": 3,
        "region": "eu",
        "note": "rerun",
    }
    assert resolve_params(params, None) == {"days": 7, "region": "eu"}


def test_conf_value_breaking_the_schema_names_the_param():
    params = {"days": Param(7, type="integer", minimum=1)}
    with pytest.raises(
        ParamValidationError, match="Invalid value for param 'days': 0 is less than"
    ):
        resolve_params(params, {"days": 0})
    with pytest.raises(ParamValidationError, match="'days': 'x' is not of type 'integer'"):
        resolve_params(params, {"days": "x"})


def test_enum_and_format_are_checked():
    params = {
        "env": Param("dev", enum=["dev", "prod"]),
        "day": Param("2024-01-01", type="string", format="date"),
    }
    with pytest.raises(ParamValidationError, match="'staging' is not one of"):
        resolve_params(params, {"env": "staging"})
    with pytest.raises(ParamValidationError, match="is not a 'date'"):
        resolve_params(params, {"day": "yesterday"})


def test_param_without_default_must_come_from_the_conf():
    params = {"path": Param(type="string", description="input file")}
    assert resolve_params(params, {"path": "/data/in.csv"}) == {"path": "/data/in.csv"}
    with pytest.raises(
        ParamValidationError, match="'path' has no default value and none was given"
    ):
        resolve_params(params, {})


def test_invalid_default_is_refused_when_the_dag_is_defined():
    with pytest.raises(ParamValidationError, match="DAG 'typed': default of param 'n'"):
        DAG("typed", params={"n": Param("three", type="integer")})


def test_task_params_extend_the_dag_s():
    with DAG("layered", params={"a": 1, "b": 2}):
        task = EmptyOperator(task_id="t", params={"b": 20})
    assert resolve_params(task.params, {}) == {"a": 1, "b": 20}


def test_serialized_params_validate_a_trigger_conf_without_the_dag_file():
    dumped = {"days": Param(7, type="integer", description="window").dump()}
    assert dumped == {
        "days": {"default": 7, "schema": {"type": "integer"}, "description": "window"}
    }
    restored = params_from_serialized(dumped)
    assert resolve_params(restored, {"days": 2}) == {"days": 2}
    with pytest.raises(ParamValidationError, match="'days'"):
        resolve_params(restored, {"days": "two"})


def test_a_required_param_is_serialized_without_default():
    assert "default" not in Param(type="string").dump()
