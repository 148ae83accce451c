"""ExternalTaskMarker: a clear that selects a marker also clears its target in another DAG
(and follows markers there), up to the first marker's recursion_depth."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from flowsched.db import session_scope
from flowsched.db.tables import TaskInstance
from flowsched.operations.errors import Invalid
from flowsched.operations.markers import follow_external_task_markers
from flowsched.operations.task_instances import TaskSelection, clear_task_instances
from tests.operations.marker_dags import DAY, build_family


@pytest.fixture
def family(migrated_db, dags_folder):
    return lambda depth=10: build_family(dags_folder, depth)


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
