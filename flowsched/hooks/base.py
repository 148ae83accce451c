"""Airflow's ``airflow.hooks.base``: ``BaseHook.get_connection(conn_id)`` in DAG code."""

from __future__ import annotations

from flowsched.authoring.baseoperator import task_logger
from flowsched.db.connection import Connection


class BaseHook:
    """The base of Airflow hooks; DAG files mostly use it to read a connection."""

    log = task_logger

    @classmethod
    def get_connection(cls, conn_id: str) -> Connection:
        """The connection ``conn_id`` from the environment (``FLOWSCHED_CONN_<ID>``) or the
        database; ``AirflowNotFoundException`` when it is defined in neither."""
        return Connection.get_connection_from_secrets(conn_id)
