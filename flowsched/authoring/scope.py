"""The DAG and TaskGroup that ``with`` blocks make current, so tasks know where they belong.

A stack rather than a single slot, because ``with`` blocks nest (a TaskGroup inside a
TaskGroup inside a DAG). ``detached()`` hides the stacks while a mapped task is unmapped,
so the concrete operator built for one map index is never registered as a new task.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flowsched.authoring.dag import DAG
    from flowsched.authoring.taskgroup import TaskGroup

_dags: list[DAG] = []
_groups: list[TaskGroup] = []
_detached = 0


def push_dag(dag: DAG) -> None:
    _dags.append(dag)


def pop_dag() -> None:
    _dags.pop()


def current_dag() -> DAG | None:
    return _dags[-1] if _dags and not _detached else None


def push_group(group: TaskGroup) -> None:
    _groups.append(group)


def pop_group() -> None:
    _groups.pop()


def current_group() -> TaskGroup | None:
    return _groups[-1] if _groups and not _detached else None


def is_detached() -> bool:
    return _detached > 0


@contextmanager
def detached() -> Iterator[None]:
    global _detached
    _detached += 1
    try:
        yield
    finally:
        _detached -= 1
