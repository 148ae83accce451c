"""BranchDayOfWeekOperator: follow one branch on the given weekday(s), the other otherwise."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pendulum

from flowsched.operators.branch import BaseBranchOperator
from flowsched.utils.weekday import WeekDay


class BranchDayOfWeekOperator(BaseBranchOperator):
    """``week_day``: a day name, a ``WeekDay``, or a collection of them. The day is today's
    in the DAG's time zone, or the run's logical date's (UTC) with ``use_task_logical_date``."""

    def __init__(
        self,
        *,
        follow_task_ids_if_true: str | Iterable[str],
        follow_task_ids_if_false: str | Iterable[str],
        week_day: str | Iterable[str] | WeekDay | Iterable[WeekDay],
        use_task_logical_date: bool = False,
        use_task_execution_day: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.follow_task_ids_if_true = follow_task_ids_if_true
        self.follow_task_ids_if_false = follow_task_ids_if_false
        self.week_day = week_day
        self.use_task_logical_date = use_task_logical_date or use_task_execution_day
        self._week_day_num = WeekDay.validate_week_day(week_day)

    def choose_branch(self, context: dict[str, Any]) -> str | Iterable[str]:
        if self.use_task_logical_date:
            day = context["logical_date"].isoweekday()
        else:
            day = pendulum.now("UTC").in_timezone(self.require_dag().timezone).isoweekday()
        if day in self._week_day_num:
            return self.follow_task_ids_if_true
        return self.follow_task_ids_if_false
