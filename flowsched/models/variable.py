"""Airflow's ``airflow.models.variable`` import path."""

from flowsched.db.variable import Variable

__all__ = ["Variable"]
