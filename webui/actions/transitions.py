"""Guarded state changes of rows a person saw on a page, shared by the run and task actions.

Each change expects the state the row was read in, so that if the scheduler or a worker
moved it meanwhile, their change wins and the action leaves that row alone.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from flowsched.db.states import FINISHED_RUN_STATES, transition_run, transition_ti
from flowsched.db.tables import DagRun, TaskInstance


def move_ti(session: Session, ti: TaskInstance, new: str | None, **values: Any) -> bool:
    """Move ``ti`` from the state it was read in to ``new``; True if nothing beat us to it."""
    return transition_ti(
        session,
        dag_id=ti.dag_id,
        run_id=ti.run_id,
        task_id=ti.task_id,
        map_index=ti.map_index,
        expected=[ti.state],
        new=new,
        **values,
    )


def reopen_run(session: Session, run: DagRun, new: str, **values: Any) -> bool:
    """Move a finished run back to ``new`` so the scheduler looks at it again; a run that
    is still going is left as it is, since the scheduler already tracks it."""
    return transition_run(
        session,
        dag_id=run.dag_id,
        run_id=run.run_id,
        expected=list(FINISHED_RUN_STATES),
        new=new,
        end_date=None,
        **values,
    )
