"""Airflow's ``airflow.utils.dates`` import path (only what DAG files still use)."""

from flowsched.authoring.dates import days_ago

__all__ = ["days_ago"]
