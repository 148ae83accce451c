"""Airflow's ``airflow.models.dag`` import path: the authoring ``DAG`` and ``@dag``."""

from flowsched.authoring.dag import DAG, dag

__all__ = ["DAG", "dag"]
