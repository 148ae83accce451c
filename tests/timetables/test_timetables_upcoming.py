"""upcoming_runs: what `flowsched dags next-runs DAG_ID -n N` lists."""

from __future__ import annotations

from datetime import timedelta

import pendulum

from flowsched.timetables import timetable_from_schedule, upcoming_runs

AMS = "Europe/Amsterdam"


def test_lists_the_next_runs_due_after_now():
    tt = timetable_from_schedule("@hourly", "UTC")

    runs = upcoming_runs(
        tt,
        start_date=pendulum.datetime(2024, 1, 1),
        end_date=None,
        after=pendulum.datetime(2024, 6, 1, 10, 15),
        n=3,
    )

    assert [run.run_after.format("HH:mm") for run in runs] == ["11:00", "12:00", "13:00"]
    assert [run.logical_date.format("HH:mm") for run in runs] == ["10:00", "11:00", "12:00"]


def test_marks_the_run_moved_by_spring_forward():
    tt = timetable_from_schedule("30 2 * * *", AMS)

    runs = upcoming_runs(
        tt,
        start_date=pendulum.datetime(2025, 1, 1, tz=AMS),
        end_date=None,
        after=pendulum.datetime(2025, 3, 28, 12, tz=AMS),
        n=3,
    )

    assert [
        (run.run_after.in_timezone(AMS).format("MM-DD HH:mm"), run.moved_by_dst) for run in runs
    ] == [
        ("03-29 02:30", False),
        ("03-30 03:00", True),
        ("03-31 02:30", False),
    ]


def test_a_future_start_date_lists_runs_from_the_start_date():
    tt = timetable_from_schedule(timedelta(days=7), "UTC")
    start = pendulum.datetime(2030, 1, 1)

    runs = upcoming_runs(
        tt, start_date=start, end_date=None, after=pendulum.datetime(2024, 1, 1), n=2
    )

    assert [run.logical_date for run in runs] == [start, start.add(days=7)]


def test_stops_at_the_end_date():
    tt = timetable_from_schedule("@daily", "UTC")

    runs = upcoming_runs(
        tt,
        start_date=pendulum.datetime(2024, 1, 1),
        end_date=pendulum.datetime(2024, 1, 3),
        after=pendulum.datetime(2024, 1, 1, 12),
        n=10,
    )

    assert [run.logical_date.day for run in runs] == [1, 2, 3]


def test_once_lists_its_single_run_until_it_is_due():
    tt = timetable_from_schedule("@once", "UTC")
    start = pendulum.datetime(2024, 5, 1)

    before = upcoming_runs(tt, start_date=start, end_date=None, after=start.subtract(days=1), n=5)
    after = upcoming_runs(tt, start_date=start, end_date=None, after=start.add(days=1), n=5)

    assert [run.run_after for run in before] == [start]
    assert after == []


def test_schedules_without_future_times_list_nothing():
    start = pendulum.datetime(2024, 1, 1)
    now = pendulum.datetime(2024, 6, 1)

    for schedule in (None, "@continuous"):
        tt = timetable_from_schedule(schedule, "UTC")
        assert upcoming_runs(tt, start_date=start, end_date=None, after=now, n=5) == []
