"""A ``@task_group`` mapped with ``.expand`` runs as in Airflow: one instance of each of
its tasks per element, each reading its own element, and the task after the group gets
the list of the group's last task's results."""

from __future__ import annotations

import textwrap
from pathlib import Path

from sqlalchemy import select

from flowsched.db import session_scope
from flowsched.db.tables import TaskInstance
from tests.airflow_compat.test_taskflow_variants import dags_test, xcoms

DAG_FILE = """
    import pendulum
    from flowsched.decorators import dag, task, task_group


    @dag(schedule=None, start_date=pendulum.datetime(2025, 1, 1))
    def mapped_groups():
        @task
        def numbers() -> list:
            return [1, 2, 3]

        @task
        def add(x: int, y: int) -> int:
            return x + y

        @task
        def double(value: int) -> int:
            return value * 2

        @task
        def total(values: list) -> list:
            return values

        @task_group
        def work(x, y):
            return double(add(x, y))

        total(work.partial(y=10).expand(x=numbers()))
        total.override(task_id="total_literal")(work.expand(x=[5, 6], y=[0, 100]))
        pairs = [{"x": 1, "y": 2}, {"x": 3, "y": 4}]
        total.override(task_id="total_kwargs")(work.expand_kwargs(pairs))


    mapped_groups()
"""


def test_a_mapped_task_group_runs_each_element_through_the_group(
    migrated_db: Path, dags_folder: Path
) -> None:
    (dags_folder / "mapped_groups.py").write_text(textwrap.dedent(DAG_FILE))
    result = dags_test("mapped_groups")
    assert result.returncode == 0, result.stdout + result.stderr

    with session_scope(readonly=True) as session:
        instances = session.execute(
            select(TaskInstance.task_id, TaskInstance.map_index, TaskInstance.state).where(
                TaskInstance.dag_id == "mapped_groups"
            )
        ).all()
    indexes: dict[str, list[int]] = {}
    for task_id, map_index, state in instances:
        assert state == "success", (task_id, map_index, state)
        indexes.setdefault(task_id, []).append(map_index)
    assert {task_id: sorted(found) for task_id, found in indexes.items()} == {
        "numbers": [-1],
        "work.add": [0, 1, 2],
        "work.double": [0, 1, 2],
        "total": [-1],
        "work__1.add": [0, 1, 2, 3],
        "work__1.double": [0, 1, 2, 3],
        "total_literal": [-1],
        "work__2.add": [0, 1],
        "work__2.double": [0, 1],
        "total_kwargs": [-1],
    }
    values = xcoms("mapped_groups")
    assert [values[f"work.add[{i}]:return_value"] for i in range(3)] == [11, 12, 13]
    assert values["total:return_value"] == [22, 24, 26]  # double[i] read add[i] only
    assert values["total_literal:return_value"] == [10, 210, 12, 212]  # x, then y
    assert values["total_kwargs:return_value"] == [6, 14]
