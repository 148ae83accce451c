"""What most ``flowsched`` commands do first: bring the DB up to date with the dags
folder, and find the DAG (or say it does not exist) in one wording everywhere."""

from __future__ import annotations

import getpass
import os

from sqlalchemy.orm import Session

from flowsched.cli.errors import fail
from flowsched.db import require_current_schema
from flowsched.db.tables import DagModel, SerializedDagModel
from flowsched.parsing.scan import ScanResult, parse_dags_folder
from flowsched.serialized import SerializedDAG


def scan() -> ScanResult:
    """Bring the DB up to date with the dags folder before answering.

    The schema check comes first so that an old or empty database gives the one-line
    "run `flowsched db upgrade`" message rather than an SQL error.
    """
    require_current_schema()
    return parse_dags_folder()


def cli_user() -> str:
    """Who the audit log says did it: ``cli:<os user>``."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # a container user with no name
        return f"cli:uid-{os.getuid()}"


def no_such_dag(dag_id: str) -> str:
    return f"no DAG named {dag_id!r} (run `flowsched dags list`)"


def get_dag_model(session: Session, dag_id: str) -> DagModel:
    dag = session.get(DagModel, dag_id)
    if dag is None:
        fail(no_such_dag(dag_id))
    return dag


def get_serialized_dag(session: Session, dag_id: str) -> SerializedDAG:
    get_dag_model(session, dag_id)
    row = session.get(SerializedDagModel, dag_id)
    if row is None:
        fail(f"DAG {dag_id!r} has no stored structure; check `flowsched dags list-import-errors`")
    return SerializedDAG.from_dict(row.data)
