"""Airflow's ``airflow.configuration`` import path: ``conf.get("core", "dags_folder")``."""

from flowsched.config import conf

__all__ = ["conf"]
