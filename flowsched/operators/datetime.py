"""BranchDateTimeOperator: follow one branch inside a time window, the other outside it."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

import pendulum

from flowsched.exceptions import FlowschedException
from flowsched.operators.branch import BaseBranchOperator

Target = datetime.datetime | datetime.time | None


class BranchDateTimeOperator(BaseBranchOperator):
    """True branch when ``target_lower <= now <= target_upper`` (either bound may be None).

    ``now`` is the current time, or the run's logical date with ``use_task_logical_date``
    (useful for catch-up). Times of day are taken on now's (UTC) date, in the DAG's time
    zone, and an upper time earlier than the lower one means the next day: Airflow's rules.
    """

    def __init__(
        self,
        *,
        follow_task_ids_if_true: str | Iterable[str],
        follow_task_ids_if_false: str | Iterable[str],
        target_lower: Target,
        target_upper: Target,
        use_task_logical_date: bool = False,
        use_task_execution_date: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if target_lower is None and target_upper is None:
            raise FlowschedException(
                "Both target_upper and target_lower are None. At least one "
                "must be defined to be compared to the current datetime"
            )
        self.target_lower = target_lower
        self.target_upper = target_upper
        self.follow_task_ids_if_true = follow_task_ids_if_true
        self.follow_task_ids_if_false = follow_task_ids_if_false
        self.use_task_logical_date = use_task_logical_date or use_task_execution_date

    def choose_branch(self, context: dict[str, Any]) -> str | Iterable[str]:
        if self.use_task_logical_date:
            now = pendulum.instance(context["logical_date"])
        else:
            now = pendulum.now("UTC")
        lower, upper = target_times_as_dates(now, self.target_lower, self.target_upper)
        zone = self.require_dag().timezone
        if upper is not None and _aware(upper, zone) < now:
            return self.follow_task_ids_if_false
        if lower is not None and _aware(lower, zone) > now:
            return self.follow_task_ids_if_false
        return self.follow_task_ids_if_true


def target_times_as_dates(
    base_date: datetime.datetime, lower: Target, upper: Target
) -> tuple[datetime.datetime | None, datetime.datetime | None]:
    """The bounds as datetimes: a time of day is put on ``base_date``'s date, and the upper
    one moves to the next day when it would come before the lower one."""
    if isinstance(lower, datetime.datetime) and isinstance(upper, datetime.datetime):
        return lower, upper
    lower_dt = _on_date(base_date, lower)
    upper_dt = _on_date(base_date, upper)
    if lower_dt is not None and upper_dt is not None and _naive(upper_dt) < _naive(lower_dt):
        upper_dt += datetime.timedelta(days=1)
    return lower_dt, upper_dt


def _on_date(base_date: datetime.datetime, target: Target) -> datetime.datetime | None:
    if isinstance(target, datetime.time):
        return datetime.datetime.combine(base_date.date(), target)
    return target


def _naive(value: datetime.datetime) -> datetime.datetime:
    return value.replace(tzinfo=None)


def _aware(value: datetime.datetime, zone: Any) -> pendulum.DateTime:
    """A naive bound is a wall-clock time in the DAG's zone."""
    if value.tzinfo is None:
        return pendulum.instance(value, tz=zone)
    return pendulum.instance(value)
