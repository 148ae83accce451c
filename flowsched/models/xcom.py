"""Airflow's ``airflow.models.xcom`` import path."""

from flowsched.db.xcom import XCom

__all__ = ["XCom"]
