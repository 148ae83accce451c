"""Three DAGs chained by ExternalTaskMarkers, parsed from a real file, with finished runs on
two days: what the marker-clearing tests (operations, web UI) start from."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import update

from flowsched.db import session_scope
from flowsched.db.tables import TaskInstance
from flowsched.operations.rules import get_structure
from flowsched.operations.runs import trigger_run
from flowsched.parsing.scan import parse_dags_folder
from flowsched.scheduling.runs import start_run

DAY = datetime(2024, 3, 10, tzinfo=UTC)

# parent.mark -> child.wait (-> child.after, child.mark2 -> grandchild.start)
DAGS = """
    import pendulum
    from flowsched import DAG
    from flowsched.operators.empty import EmptyOperator
    from flowsched.sensors.external_task import ExternalTaskMarker

    START = pendulum.datetime(2024, 1, 1)
    with DAG("parent", start_date=START):
        EmptyOperator(task_id="work") >> ExternalTaskMarker(
            task_id="mark", external_dag_id="child", external_task_id="wait",
            recursion_depth={depth},
        )
    with DAG("child", start_date=START):
        before = EmptyOperator(task_id="before")
        before >> EmptyOperator(task_id="wait") >> [
            EmptyOperator(task_id="after"),
            ExternalTaskMarker(
                task_id="mark2", external_dag_id="grandchild", external_task_id="start"
            ),
        ]
    with DAG("grandchild", start_date=START):
        EmptyOperator(task_id="start") >> EmptyOperator(task_id="end")
"""


def build_family(dags_folder: Path, depth: int = 10) -> None:
    """parent.mark -> child.wait, child.mark2 -> grandchild.start; runs on the 10th and 11th."""
    (dags_folder / "family.py").write_text(textwrap.dedent(DAGS).replace("{depth}", str(depth)))
    parse_dags_folder(dags_folder)
    for dag_id in ("parent", "child", "grandchild"):
        for when in (DAY, DAY.replace(day=11)):
            finished_run(dag_id, when)


def finished_run(dag_id: str, when: datetime) -> None:
    """A run at ``when`` whose task instances all succeeded."""
    with session_scope() as session:
        run = trigger_run(session, dag_id, actor="test", logical_date=when)
        start_run(session, get_structure(session, dag_id), run, when)
        session.execute(
            update(TaskInstance)
            .where(TaskInstance.dag_id == dag_id, TaskInstance.run_id == run.run_id)
            .values(state="success", try_number=1)
        )
