"""Airflow's ``airflow.models`` import path for DAG authors.

DAG files written for Airflow import ``DAG``, ``BaseOperator``, ``Param``, ``Variable``
and ``XCom`` from here; each name is the one flowsched object, re-exported. The metadata
tables themselves live in :mod:`flowsched.db`. Names are resolved on first use so that a
DAG file pays only for what it imports.
"""

from __future__ import annotations

import importlib
from typing import Any

_PUBLIC = {
    "DAG": "flowsched.authoring.dag",
    "BaseOperator": "flowsched.authoring.baseoperator",
    "Param": "flowsched.authoring.params",
    "Variable": "flowsched.db.variable",
    "XCom": "flowsched.db.xcom",
}

__all__ = sorted(_PUBLIC)


def __getattr__(name: str) -> Any:
    module_name = _PUBLIC.get(name)
    if module_name is None:
        raise AttributeError(f"module 'flowsched.models' has no attribute {name!r}")
    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value
