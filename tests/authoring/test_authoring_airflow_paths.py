"""Airflow 2's import paths for DAG authors give flowsched's own objects, never copies."""

from __future__ import annotations

import importlib
from datetime import UTC, datetime, timedelta

import pendulum
import pytest

from flowsched import taskflow
from flowsched.authoring import baseoperator, chain, context, dag, params, taskgroup, xcom_arg
from flowsched.operators.empty import EmptyOperator

# Airflow path (with flowsched for airflow) -> name -> the flowsched object it must be.
PATHS = {
    "flowsched.decorators": {
        "dag": dag.dag,
        "task": taskflow.task,
        "task_group": taskgroup.task_group,
    },
    "flowsched.models": {"DAG": dag.DAG, "BaseOperator": baseoperator.BaseOperator},
    "flowsched.models.dag": {"DAG": dag.DAG, "dag": dag.dag},
    "flowsched.models.baseoperator": {
        "BaseOperator": baseoperator.BaseOperator,
        "chain": chain.chain,
        "chain_linear": chain.chain_linear,
        "cross_downstream": chain.cross_downstream,
    },
    "flowsched.models.param": {"Param": params.Param, "ParamsDict": params.ParamsDict},
    "flowsched.models.xcom_arg": {"XComArg": xcom_arg.XComArg},
    "flowsched.utils.task_group": {"TaskGroup": taskgroup.TaskGroup},
    "flowsched.utils.helpers": {"chain": chain.chain, "cross_downstream": chain.cross_downstream},
    "flowsched.utils.context": {"Context": context.Context},
    "flowsched.operators.python": {"get_current_context": context.get_current_context},
}


@pytest.mark.parametrize("path", sorted(PATHS))
def test_airflow_import_path_re_exports_the_flowsched_object(path):
    module = importlib.import_module(path)
    for name, expected in PATHS[path].items():
        assert getattr(module, name) is expected, f"{path}.{name}"


def test_the_models_submodules_re_export_the_database_objects():
    from flowsched.db.connection import Connection
    from flowsched.db.variable import Variable
    from flowsched.db.xcom import XCom
    from flowsched.models.connection import Connection as AirflowConnection
    from flowsched.models.variable import Variable as AirflowVariable
    from flowsched.models.xcom import XCom as AirflowXCom

    assert (AirflowConnection, AirflowVariable, AirflowXCom) == (Connection, Variable, XCom)


def test_airflow_exception_names_are_the_exceptions_flowsched_raises():
    from flowsched import exceptions as e

    assert e.AirflowTaskTimeout is e.TaskTimeout
    assert issubclass(e.AirflowTaskTimeout, BaseException)
    assert not issubclass(e.AirflowTaskTimeout, Exception)  # `except Exception` cannot eat it
    assert e.AirflowNotFoundException is e.ConnectionNotFound
    assert issubclass(e.AirflowNotFoundException, KeyError)
    assert e.AirflowDagCycleException is e.DagCycleError
    from flowsched.runner.interrupts import TaskTimeout

    assert TaskTimeout is e.TaskTimeout


def test_base_hook_get_connection_reads_the_environment_and_says_when_it_is_missing(
    migrated_db, monkeypatch
):
    from flowsched.exceptions import AirflowNotFoundException
    from flowsched.hooks.base import BaseHook

    monkeypatch.setenv("FLOWSCHED_CONN_WAREHOUSE", "postgresql://etl:secret@db.local:5432/dw")
    connection = BaseHook.get_connection("warehouse")
    assert (connection.host, connection.login, connection.port) == ("db.local", "etl", 5432)
    with pytest.raises(AirflowNotFoundException, match="'nowhere'"):
        BaseHook.get_connection("nowhere")


def test_days_ago_is_midnight_utc_n_days_back():
    from flowsched.utils.dates import days_ago

    today = datetime.now(UTC).date()
    assert days_ago(2) == pendulum.datetime(today.year, today.month, today.day) - timedelta(2)
    assert days_ago(0, hour=6).hour == 6


def test_configuration_conf_is_flowscheds_configuration():
    from flowsched.config import conf
    from flowsched.configuration import conf as airflow_conf

    assert airflow_conf is conf


def test_is_venv_installed_says_no_so_guarded_virtualenv_tasks_are_left_out():
    from flowsched.operators.python import is_venv_installed

    assert is_venv_installed() is False


def test_chain_linear_links_every_task_of_one_element_to_every_task_of_the_next():
    from flowsched.models.baseoperator import chain_linear
    from flowsched.models.dag import DAG

    with DAG("linear", start_date=pendulum.datetime(2024, 1, 1)):
        a, b, c, d, e = (EmptyOperator(task_id=name) for name in "abcde")
        chain_linear(a, [b, c], [d, e])
    assert a.downstream_task_ids == {"b", "c"}
    assert b.downstream_task_ids == c.downstream_task_ids == {"d", "e"}
    with pytest.raises(ValueError, match="no dependencies"):
        chain_linear([a, b])


def test_params_of_a_run_are_a_params_dict():
    from flowsched.models.param import Param, ParamsDict

    resolved = params.resolve_params({"n": Param(1, type="integer")}, {"n": 5, "extra": "x"})
    assert isinstance(resolved, ParamsDict)
    assert resolved.dump() == {"n": 5, "extra": "x"}


def test_get_current_context_outside_a_task_explains_itself():
    from flowsched.exceptions import AirflowException
    from flowsched.operators.python import get_current_context

    with pytest.raises(AirflowException, match="Are you running within a task"):
        get_current_context()
