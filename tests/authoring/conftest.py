"""Stand-ins for the run-time objects a context holds (a task instance, a DAG run)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pendulum
import pytest

from flowsched.authoring.context import make_context


@dataclass
class StandInTaskInstance:
    """Just what templates and XComArgs use: try_number and xcom_pull."""

    try_number: int = 1
    xcoms: dict[tuple[str, str], Any] = field(default_factory=dict)
    start_date: datetime | None = None

    def xcom_pull(self, task_ids: str, key: str = "return_value") -> Any:
        return self.xcoms[(task_ids, key)]


@dataclass
class StandInDagRun:
    run_id: str
    conf: dict[str, Any]


@pytest.fixture(autouse=True)
def _fresh_home(home):
    """Config and variables come from a fresh FLOWSCHED_HOME, never the developer's."""


@pytest.fixture
def context_for():
    """``context_for(task, conf={...}, xcoms={...})``: the context of a run on 2024-03-10."""

    def build(task, conf=None, xcoms=None, try_number=1):
        logical_date = pendulum.datetime(2024, 3, 10)
        run = StandInDagRun("scheduled__2024-03-10T00:00:00+00:00", conf or {})
        return make_context(
            dag=task.dag,
            task=task,
            run_id=run.run_id,
            logical_date=logical_date,
            data_interval_start=logical_date,
            data_interval_end=logical_date.add(days=1),
            dag_run=run,
            ti=StandInTaskInstance(try_number=try_number, xcoms=xcoms or {}),
        )

    return build
