"""What most ``flowsched`` commands do first: bring the DB up to date with the dags
folder, and find the DAG (or say it does not exist) in one wording everywhere."""

from __future__ import annotations

import getpass
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

import click
from sqlalchemy.orm import Session

from flowsched.cli.errors import fail
from flowsched.db import require_current_schema, session_scope
from flowsched.db.tables import DagModel, SerializedDagModel
from flowsched.serialized import SerializedDAG

if TYPE_CHECKING:
    from flowsched.parsing.scan import ScanResult


def scan() -> ScanResult:
    """Bring the DB up to date with the dags folder before answering.

    The schema check comes first so that an old or empty database gives the one-line
    "run `flowsched db upgrade`" message rather than an SQL error.
    """
    # imported here: commands that do not scan need not load the parser
    from flowsched.parsing.scan import parse_dags_folder

    require_current_schema()
    return parse_dags_folder()


def cli_user() -> str:
    """Who the audit log says did it: ``cli:<os user>``."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # a container user with no name
        return f"cli:uid-{os.getuid()}"


T = TypeVar("T")


@contextmanager
def reading() -> Iterator[Session]:
    """A read-only session, after the schema check (an old database: the upgrade line)."""
    require_current_schema()
    with session_scope(readonly=True) as session:
        yield session


def operate(operation: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run one of ``flowsched.operations`` in a transaction of its own, as the CLI user
    (after the schema check: an old database gives the one-line upgrade message)."""
    require_current_schema()
    with session_scope() as session:
        return operation(session, *args, actor=cli_user(), **kwargs)


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


# A map index: -1 for a task that is not mapped, else the instance's position (the
# databases store it as a 32-bit integer). Out of range is one clear line from click.
MAP_INDEX = click.IntRange(-1, 2**31 - 1)
