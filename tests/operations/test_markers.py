"""ExternalTaskMarker: a clear that selects a marker also clears its target in another DAG
(and follows markers there), up to the first marker's recursion_depth."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, update

from flowsched.db import session_scope
from flowsched.db.tables import TaskInstance
from flowsched.operations.errors import Invalid
from flowsched.operations.markers import follow_external_task_markers
from flowsched.operations.rules import get_structure
from flowsched.operations.runs import trigger_run
from flowsched.operations.task_instances import TaskSelection, clear_task_instances
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


@pytest.fixture
def family(migrated_db, dags_folder):
    def build(depth: int = 10) -> None:
        (dags_folder / "family.py").write_text(textwrap.dedent(DAGS).replace("{depth}", str(depth)))
        parse_dags_folder(dags_folder)
        for dag_id in ("parent", "child", "grandchild"):
            for when in (DAY, DAY.replace(day=11)):
                finished_run(dag_id, when)

    return build


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


def cleared(selection: TaskSelection) -> set[tuple[str, str, str]]:
    with session_scope() as session:
        result = clear_task_instances(
            session, [selection], actor="test", follow=follow_external_task_markers()
        )
        return {(ti.dag_id, ti.run_id[-25:-15], ti.task_id) for ti in result.cleared}


def test_clearing_a_marker_clears_its_target_downstream_at_the_same_date_recursively(family):
    family()
    first_parent_run = f"manual__{DAY.isoformat()}"
    assert cleared(TaskSelection("parent", [first_parent_run], ["work"], downstream=True)) == {
        ("parent", "2024-03-10", "work"),
        ("parent", "2024-03-10", "mark"),
        ("child", "2024-03-10", "wait"),  # not "before": only the target and downstream
        ("child", "2024-03-10", "after"),
        ("child", "2024-03-10", "mark2"),
        ("grandchild", "2024-03-10", "start"),
        ("grandchild", "2024-03-10", "end"),
    }
    with session_scope(readonly=True) as session:
        untouched = session.scalars(
            select(TaskInstance.state).where(TaskInstance.run_id.contains("2024-03-11"))
        ).all()
    assert set(untouched) == {"success"}


def test_a_clear_without_the_marker_does_not_follow_it(family):
    family()
    selection = TaskSelection("parent", [f"manual__{DAY.isoformat()}"], ["work"])
    assert cleared(selection) == {("parent", "2024-03-10", "work")}


def test_more_levels_than_the_recursion_depth_refuse_the_clear(family):
    family(depth=1)
    selection = TaskSelection("parent", [f"manual__{DAY.isoformat()}"], ["mark"])
    with pytest.raises(
        Invalid, match="Maximum recursion depth 1 reached for ExternalTaskMarker mark2"
    ):
        cleared(selection)
    with session_scope(readonly=True) as session:
        states = set(session.scalars(select(TaskInstance.state)))
    assert states == {"success"}  # refused as a whole
