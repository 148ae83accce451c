"""Airflow's ``airflow.models.connection`` import path."""

from flowsched.db.connection import Connection

__all__ = ["Connection"]
