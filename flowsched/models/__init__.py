"""Airflow's ``airflow.models`` import path for DAG authors.

DAG files written for Airflow import ``DAG``, ``BaseOperator``, ``Param``, ``Variable``
and ``XCom`` from here; each name is the one flowsched object, re-exported. The metadata
tables themselves live in :mod:`flowsched.db`. Names are resolved on first use so that a
DAG file pays only for what it imports.
"""

from __future__ import annotations

from flowsched.lazy_exports import lazy_exports

_PUBLIC = {
    "DAG": "flowsched.authoring.dag",
    "BaseOperator": "flowsched.authoring.baseoperator",
    "Param": "flowsched.authoring.params",
    "Variable": "flowsched.db.variable",
    "XCom": "flowsched.db.xcom",
}

__all__ = sorted(_PUBLIC)


__getattr__, __dir__ = lazy_exports(__name__, _PUBLIC)
