"""What a DAG file imports: Airflow's names, loaded only when first used."""

from __future__ import annotations

import subprocess
import sys

import pytest

import flowsched


def test_spec_imports_work():
    from flowsched import DAG, Param, TaskGroup, Variable, chain, dag, task  # noqa: F401
    from flowsched.exceptions import (
        AirflowFailException,
        AirflowSkipException,
        TaskFailedNoRetry,
        TaskSkipped,
    )

    assert AirflowSkipException is TaskSkipped
    assert AirflowFailException is TaskFailedNoRetry
    assert Variable.__module__ == "flowsched.db.variable"


def test_importing_flowsched_does_not_load_the_authoring_modules():
    code = "import sys, flowsched; print('flowsched.authoring.dag' in sys.modules)"
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert output.stdout.strip() == "False"


def test_unknown_names_raise_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'Dag'"):
        flowsched.Dag
