"""LatestOnlyOperator: let downstream tasks run only in the latest scheduled interval."""

from __future__ import annotations

from typing import Any

import pendulum

from flowsched.operators.branch import BaseBranchOperator
from flowsched.timetables.base import DataInterval


class LatestOnlyOperator(BaseBranchOperator):
    """Skips its direct downstream tasks unless now falls within the interval after this
    run's (i.e. this run is the latest one due). Runs someone triggered, and the last run
    of a schedule with no next run, always proceed: Airflow's rule."""

    ui_color = "#e9ffdb"

    def choose_branch(self, context: dict[str, Any]) -> list[str]:
        everything = sorted(self.downstream_task_ids)
        dag_run = context["dag_run"]
        if getattr(dag_run, "external_trigger", False):
            self.log.info("Externally triggered DAG_Run: allowing execution to proceed.")
            return everything
        next_info = self.require_dag().timetable.next_dagrun_info(
            last_automated_data_interval=_run_interval(context),
            start_date=context["data_interval_start"],
            end_date=None,
            catchup=True,
            now=pendulum.now("UTC"),
        )
        if next_info is None:
            self.log.info("Last scheduled execution: allowing execution to proceed.")
            return everything
        left, right = next_info.data_interval
        now = pendulum.now("UTC")
        self.log.info(
            "Checking latest only with left_window: %s right_window: %s now: %s", left, right, now
        )
        if not left < now <= right:
            self.log.info("Not latest execution, skipping downstream.")
            return []
        self.log.info("Latest, allowing execution to proceed.")
        return everything


def _run_interval(context: dict[str, Any]) -> DataInterval:
    return DataInterval(context["data_interval_start"], context["data_interval_end"])
