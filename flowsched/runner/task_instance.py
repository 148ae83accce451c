"""The ``ti`` (``task_instance``) object a running task sees in its context.

A plain object rather than the ORM row: the task keeps it for its whole run, long after
the session that read the row is closed, and only needs the try's facts and XCom access.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from flowsched.authoring.xcom_values import ensure_json
from flowsched.db.tables import TaskInstance
from flowsched.runner import xcom
from flowsched.task_logs import log_path
from flowsched.tries import TaskKey


class RuntimeTaskInstance:
    """One try of one task instance, with Airflow's ``xcom_push``/``xcom_pull``."""

    def __init__(self, row: TaskInstance, task: Any) -> None:
        self.dag_id = row.dag_id
        self.run_id = row.run_id
        self.task_id = row.task_id
        self.map_index = row.map_index
        self.try_number = row.try_number
        self.max_tries = row.max_tries
        self.state: str | None = row.state
        self.start_date: datetime | None = row.start_date
        self.end_date: datetime | None = row.end_date
        self.hostname = row.hostname
        self.pid = row.pid
        self.executor = row.executor
        self.pool = row.pool
        self.queue = row.queue
        self.priority_weight = row.priority_weight
        self.operator = row.operator
        self.task = task
        self.log_path = str(
            log_path(self.dag_id, self.run_id, self.task_id, self.map_index, self.try_number)
        )

    @property
    def key(self) -> TaskKey:
        return TaskKey(self.dag_id, self.run_id, self.task_id, self.map_index, self.try_number)

    def xcom_push(self, key: str, value: Any) -> None:
        xcom.push_value(self.key, key, ensure_json(value, self.task_id))

    def xcom_pull(
        self,
        task_ids: str | Iterable[str] | None = None,
        dag_id: str | None = None,
        key: str = xcom.RETURN_VALUE_KEY,
        map_indexes: int | Iterable[int] | None = None,
        default: Any = None,
        run_id: str | None = None,
    ) -> Any:
        """As in Airflow: one task id gives its value (a list, in map_index order, for a
        mapped task), a list of task ids gives the list of their values."""
        if task_ids is not None and not isinstance(task_ids, str):
            return [
                self.xcom_pull(task_id, dag_id, key, map_indexes, default, run_id)
                for task_id in task_ids
            ]
        dag_id, run_id = dag_id or self.dag_id, run_id or self.run_id
        if isinstance(map_indexes, int):
            value = xcom.pull_one(dag_id, run_id, task_ids, key, map_indexes)
        elif map_indexes is not None:
            value = [xcom.pull_one(dag_id, run_id, task_ids, key, i) for i in map_indexes]
        elif task_ids is not None and self._is_mapped(dag_id, task_ids):
            value = xcom.pull_mapped(dag_id, run_id, task_ids, key)
        else:
            value = xcom.pull_one(dag_id, run_id, task_ids, key)
        return default if value is None else value

    def _is_mapped(self, dag_id: str, task_id: str) -> bool:
        dag = getattr(self.task, "dag", None)
        if dag is None or dag.dag_id != dag_id or task_id not in dag.task_dict:
            return False
        return bool(dag.task_dict[task_id].is_mapped)

    def __repr__(self) -> str:
        return f"<TaskInstance {self.key}>"
