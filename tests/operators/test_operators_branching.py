"""Branching operators: LatestOnly, BranchDateTime, BranchDayOfWeek, BaseBranchOperator."""

from __future__ import annotations

import datetime
from types import SimpleNamespace

import pendulum
import pytest

from flowsched import DAG, TaskGroup
from flowsched.authoring.context import make_context
from flowsched.exceptions import FlowschedException
from flowsched.operators.branch import BaseBranchOperator
from flowsched.operators.datetime import BranchDateTimeOperator
from flowsched.operators.empty import EmptyOperator
from flowsched.operators.latest_only import LatestOnlyOperator
from flowsched.operators.weekday import BranchDayOfWeekOperator
from flowsched.utils.weekday import WeekDay


def skipped_by(task, *, logical_date, interval=None, external_trigger=False):
    """Run the branch task for a run at ``logical_date``; the downstream ids it skips."""
    start, end = interval or (logical_date, logical_date)
    context = make_context(
        dag=task.dag,
        task=task,
        run_id="run",
        logical_date=logical_date,
        data_interval_start=start,
        data_interval_end=end,
        dag_run=SimpleNamespace(external_trigger=external_trigger, conf={}),
    )
    return task.downstream_to_skip(task.execute(context))


def latest_only_dag(schedule="@daily"):
    with DAG("latest", schedule=schedule, start_date=pendulum.datetime(2024, 1, 1)) as dag:
        latest = LatestOnlyOperator(task_id="latest")
        latest >> [EmptyOperator(task_id="a"), EmptyOperator(task_id="b")]
    return dag, latest


def test_latest_only_skips_downstream_of_a_caught_up_run_but_not_of_the_latest_one():
    _, latest = latest_only_dag()
    yesterday = pendulum.today("UTC").subtract(days=1)
    old = pendulum.datetime(2024, 1, 5)
    assert skipped_by(latest, logical_date=old, interval=(old, old.add(days=1))) == {"a", "b"}
    current = (yesterday, yesterday.add(days=1))
    assert skipped_by(latest, logical_date=yesterday, interval=current) == set()


def test_latest_only_lets_triggered_runs_and_unscheduled_dags_through():
    _, latest = latest_only_dag()
    old = pendulum.datetime(2024, 1, 5)
    assert skipped_by(latest, logical_date=old, external_trigger=True) == set()
    _, unscheduled = latest_only_dag(schedule=None)
    assert skipped_by(unscheduled, logical_date=old) == set()


def window_dag(lower, upper, zone="UTC"):
    start = pendulum.datetime(2024, 1, 1, tz=zone)
    with DAG("window", start_date=start):
        branch = BranchDateTimeOperator(
            task_id="branch",
            target_lower=lower,
            target_upper=upper,
            follow_task_ids_if_true="inside",
            follow_task_ids_if_false="outside",
            use_task_logical_date=True,
        )
        branch >> [EmptyOperator(task_id="inside"), EmptyOperator(task_id="outside")]
    return branch


@pytest.mark.parametrize(
    ("time", "skipped"),
    [
        ("09:00:00", {"outside"}),
        ("17:00:00", {"outside"}),  # both bounds are inside the window
        ("08:59:59", {"inside"}),
        ("17:00:01", {"inside"}),
    ],
)
def test_branch_datetime_follows_the_window_of_the_logical_date(time, skipped):
    branch = window_dag(datetime.time(9), datetime.time(17))
    when = pendulum.parse(f"2024-03-10T{time}+00:00")
    assert skipped_by(branch, logical_date=when) == skipped


def test_branch_datetime_window_across_midnight_and_in_the_dag_time_zone():
    overnight = window_dag(datetime.time(22), datetime.time(2))
    assert skipped_by(overnight, logical_date=pendulum.datetime(2024, 3, 10, 23)) == {"outside"}
    # 08:30 UTC is 09:30 in Amsterdam (winter): inside 09:00-17:00 local
    local = window_dag(datetime.time(9), datetime.time(17), zone="Europe/Amsterdam")
    assert skipped_by(local, logical_date=pendulum.datetime(2024, 3, 10, 8, 30)) == {"outside"}
    with pytest.raises(FlowschedException, match="At least one must be defined"):
        window_dag(None, None)


def weekday_branch(week_day):
    with DAG("days", start_date=pendulum.datetime(2024, 1, 1)):
        branch = BranchDayOfWeekOperator(
            task_id="branch",
            week_day=week_day,
            follow_task_ids_if_true="weekend",
            follow_task_ids_if_false=["workday"],
            use_task_logical_date=True,
        )
        branch >> [EmptyOperator(task_id="weekend"), EmptyOperator(task_id="workday")]
    return branch


def test_branch_day_of_week_takes_names_enums_and_sets():
    sunday, monday = pendulum.datetime(2024, 3, 10), pendulum.datetime(2024, 3, 11)
    for week_day in ("sunday", WeekDay.SUNDAY, {"Saturday", "Sunday"}, [WeekDay.SUNDAY]):
        branch = weekday_branch(week_day)
        assert skipped_by(branch, logical_date=sunday) == {"workday"}
        assert skipped_by(branch, logical_date=monday) == {"weekend"}
    with pytest.raises(AttributeError, match='Invalid Week Day passed: "Funday"'):
        weekday_branch("Funday")


def test_base_branch_operator_may_choose_a_task_group_and_returns_its_choice():
    class PickGroup(BaseBranchOperator):
        def choose_branch(self, context):
            return "load"

    with DAG("groups", start_date=pendulum.datetime(2024, 1, 1)):
        pick = PickGroup(task_id="pick")
        with TaskGroup("load") as load:
            EmptyOperator(task_id="first") >> EmptyOperator(task_id="second")
        pick >> [load, EmptyOperator(task_id="other")]
    context = make_context(
        dag=pick.dag, task=pick, run_id="r", logical_date=pendulum.datetime(2024, 3, 10)
    )
    result = pick.execute(context)
    assert result == "load"
    assert pick.downstream_to_skip(result) == {"other"}
