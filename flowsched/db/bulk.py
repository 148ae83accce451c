"""Guarded state changes of many task instances of one run in one statement.

The same rule as ``states.transition_ti`` (UPDATE ... WHERE state IN expected, checked),
for a batch: a pass that settles, schedules or queues fifty instances issues one UPDATE,
not fifty. ``RETURNING`` tells exactly which rows this call won, so a row that a CLI
clear or a runner changed in between is left alone and reported as lost.

The statements are built once per shape and reused with new parameters: building a
SQLAlchemy statement costs more than SQLite takes to run it, and a scheduler pass issues
a few of them for every task that ends.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, Update, bindparam, or_, tuple_, update
from sqlalchemy.orm import Session

from flowsched.db.tables import TaskInstance

TIKey = tuple[str, int]  # (task_id, map_index)
WonRow = tuple[str, int, int]  # (task_id, map_index, try_number)
_CHUNK = 400  # SQLite allows 32766 bound values; keep statements small anyway


@cache
def _statement(
    expected: tuple[str | None, ...], columns: tuple[str, ...], increment_try: bool
) -> Update:
    states = [state for state in expected if state is not None]
    state_ok: ColumnElement[bool] = TaskInstance.state.in_(states)
    if None in expected:
        state_ok = or_(state_ok, TaskInstance.state.is_(None))
    values: dict[str, Any] = {column: bindparam(f"v_{column}") for column in columns}
    if increment_try:
        values["try_number"] = TaskInstance.try_number + 1
    return (
        update(TaskInstance)
        .where(
            TaskInstance.dag_id == bindparam("w_dag_id"),
            TaskInstance.run_id == bindparam("w_run_id"),
            tuple_(TaskInstance.task_id, TaskInstance.map_index).in_(
                bindparam("keys", expanding=True)
            ),
            state_ok,
        )
        .values(values)
        .returning(TaskInstance.task_id, TaskInstance.map_index, TaskInstance.try_number)
    )


def transition_many(
    session: Session,
    dag_id: str,
    run_id: str,
    keys: Sequence[TIKey],
    *,
    expected: Iterable[str | None],
    new: str | None,
    increment_try: bool = False,
    **values: Any,
) -> list[WonRow]:
    """Move the instances ``keys`` of one run from ``expected`` to ``new``; the rows won.

    ``values`` are plain values for other columns, set on the rows won.
    """
    if not keys:
        return []
    values["state"] = new
    statement = _statement(tuple(expected), tuple(sorted(values)), increment_try)
    params = {f"v_{column}": value for column, value in values.items()}
    won: list[WonRow] = []
    for start in range(0, len(keys), _CHUNK):
        chunk = list(keys[start : start + _CHUNK])
        result = session.connection().execute(
            statement, {"w_dag_id": dag_id, "w_run_id": run_id, "keys": chunk, **params}
        )
        won += [tuple(row) for row in result]
    return won
