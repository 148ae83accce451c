"""Clearing from the web UI follows ExternalTaskMarkers into the DAGs they point to."""

from __future__ import annotations

from sqlalchemy import select

from flowsched.db import session_scope
from flowsched.db.tables import TaskInstance
from tests.operations.marker_dags import DAY, build_family

PARENT_RUN = f"manual__{DAY.isoformat()}"


def test_the_preview_lists_the_other_dags_task_instances_and_the_clear_resets_them(
    post_form, dags_folder
):
    build_family(dags_folder)
    form = {"task_id": "work", "downstream": "on"}
    preview = post_form(f"/dags/parent/runs/{PARENT_RUN}/clear", form).get_data(as_text=True)
    assert "Clear 7 task instances" in preview
    assert f"child · {PARENT_RUN}" in preview and f"grandchild · {PARENT_RUN}" in preview

    post_form(f"/dags/parent/runs/{PARENT_RUN}/clear", {**form, "confirmed": "yes"})
    with session_scope(readonly=True) as session:
        rows = session.execute(
            select(TaskInstance.dag_id, TaskInstance.task_id).where(
                TaskInstance.run_id == PARENT_RUN, TaskInstance.state.is_(None)
            )
        ).all()
    assert sorted(rows) == [
        ("child", "after"),
        ("child", "mark2"),
        ("child", "wait"),
        ("grandchild", "end"),
        ("grandchild", "start"),
        ("parent", "mark"),
        ("parent", "work"),
    ]
