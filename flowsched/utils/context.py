"""Airflow's ``airflow.utils.context`` import path: the type of a task's context."""

from flowsched.authoring.context import Context

__all__ = ["Context"]
