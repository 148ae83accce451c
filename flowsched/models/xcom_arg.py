"""Airflow's ``airflow.models.xcom_arg`` import path."""

from flowsched.authoring.xcom_arg import XComArg

__all__ = ["XComArg"]
